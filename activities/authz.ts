/**
 * Who may do what, and who is asking. Rollbacks, releases, approvals and pipeline control
 * always need an authorised actor; a plain deploy needs one only in a protected environment
 * (config `authorization.protectedEnvironments`). Authorised means: an allowed bot, or an
 * active member of the configured GitHub team.
 *
 * Who is asking depends on the identity mode (config `identity`): in `oidc` mode the
 * request must carry a GitHub Actions ID token, which is verified and names the actor; in
 * `trusted-caller` mode the login the caller gives is taken as it is.
 */
import type { Octokit } from '@octokit/rest';
import type { SlipwayConfig } from '../domain/config';
import { Unauthorized } from '../domain/errors';
import { identityMode, OIDC_HOWTO, sameLogin, type IdentityMode, type ProtectedOperation } from '../domain/identity';
import { createGitHubActivities } from './github';
import { createOidcVerifier, type OidcVerifierOptions, type ProvenIdentity } from './identity';

/** What an actor asks to do: what authorisation (and, by identity mode, proof) is checked for. */
export type AuthorizedOperation = ProtectedOperation;

export interface AuthorizeInput {
  actor: string;
  operation: AuthorizedOperation;
  app: string;
  env?: string;
  /** A GitHub Actions OIDC ID token proving the actor (required in `oidc` mode). */
  idToken?: string;
  /**
   * Set by workflow code (never from a request) when the operation runs as the child of
   * another Slipway workflow, which already proved or was allowed to name the actor.
   */
  parentWorkflowId?: string;
}

export interface AuthorizeResult {
  /** False when no check applies (unprotected environment, or no `authorization` configured). */
  checked: boolean;
  via?: 'team' | 'allow-list';
  team?: string;
  /** The identity mode the request ran under. */
  mode?: IdentityMode;
  /** What the verified token proved (never the token itself). */
  proven?: ProvenIdentity;
}

export interface AuthzDeps {
  config: () => SlipwayConfig;
  /** Octokit for the configured GitHub API; undefined when the worker has no GitHub token. */
  github?: Octokit;
  /** How the issuer's keys are fetched and cached (tests shorten the refetch cooldown). */
  oidc?: OidcVerifierOptions;
}

/** Whether `operation` in `env` needs an authorised actor under `config`. */
export function needsAuthorization(config: SlipwayConfig, operation: AuthorizedOperation, env?: string): boolean {
  const authz = config.authorization;
  if (!authz) return false;
  if (operation === 'deploy' || operation === 'redeploy') return env !== undefined && authz.protectedEnvironments.includes(env);
  return true;
}

/** `deploy api production`, `control the pipeline of api`: what refusals name. */
function describeOperation(input: AuthorizeInput): string {
  if (input.operation === 'pipeline') return `control the pipeline of ${input.app}`;
  return [input.operation, input.app, input.env].filter(Boolean).join(' ');
}

export function createAuthzActivities(deps: AuthzDeps) {
  const verify = createOidcVerifier(deps.oidc);

  /** The actor the request proves (oidc) or names (trusted-caller); refuses a token that names someone else. */
  async function identify(config: SlipwayConfig, input: AuthorizeInput): Promise<{ mode: IdentityMode; proven?: ProvenIdentity }> {
    const mode = identityMode(config.identity, input.operation, input.env);
    const what = describeOperation(input);
    const oidc = config.identity.oidc;
    if (input.idToken === undefined || input.idToken === null || input.idToken === '') {
      if (mode === 'oidc' && !input.parentWorkflowId) {
        throw new Unauthorized(`${what} needs a proven identity (identity mode oidc): @${input.actor} was only named, not proven by a GitHub Actions ID token; ${OIDC_HOWTO}`);
      }
      return { mode };
    }
    if (!oidc) throw new Unauthorized(`the request carries an identity token, but the config has no identity.oidc section to verify it against`);
    const proven = await verify(input.idToken, oidc);
    if (!sameLogin(proven.actor, input.actor)) {
      throw new Unauthorized(`the identity token proves @${proven.actor}, but the request names @${input.actor}: act as yourself (leave out --actor, or give @${proven.actor})`);
    }
    return { mode, proven };
  }

  return {
    async authorize(input: AuthorizeInput): Promise<AuthorizeResult> {
      const config = deps.config();
      const { mode, proven } = await identify(config, input);
      if (!needsAuthorization(config, input.operation, input.env)) return { checked: false, mode, ...(proven && { proven }) };
      const authz = config.authorization!;
      if (!deps.github) {
        throw new Error(`cannot check whether @${input.actor} may ${input.operation}: the worker has no GitHub token ($${config.github?.tokenEnv ?? 'GITHUB_TOKEN'} is not set)`);
      }
      const gh = createGitHubActivities({ github: deps.github, policy: { org: authz.org, team: authz.team, allow: authz.allow } });
      const what = describeOperation(input);
      const r = await gh.checkAuthorized({ actor: proven?.actor ?? input.actor, operation: what });
      // A re-run acts for whoever re-ran it too: they must be allowed as well.
      if (proven?.triggeringActor) await gh.checkAuthorized({ actor: proven.triggeringActor, operation: `${what} (re-running @${proven.actor}'s workflow)` });
      return { checked: true, via: r.via, team: r.team, mode, ...(proven && { proven }) };
    },
  };
}
