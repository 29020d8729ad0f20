/**
 * Who may do what. Rollbacks and releases always need an authorised actor; a plain deploy
 * needs one only in a protected environment (config `authorization.protectedEnvironments`).
 * Authorised means: an allowed bot, or an active member of the configured GitHub team.
 */
import type { Octokit } from '@octokit/rest';
import type { SlipwayConfig } from '../domain/config';
import { createGitHubActivities } from './github';

/** What an actor asks to do: what authorisation is checked for. */
export type AuthorizedOperation = 'deploy' | 'rollback' | 'redeploy' | 'release' | 'approve';

export interface AuthorizeInput {
  actor: string;
  operation: AuthorizedOperation;
  app: string;
  env?: string;
}

export interface AuthorizeResult {
  /** False when no check applies (unprotected environment, or no `authorization` configured). */
  checked: boolean;
  via?: 'team' | 'allow-list';
  team?: string;
}

export interface AuthzDeps {
  config: () => SlipwayConfig;
  /** Octokit for the configured GitHub API; undefined when the worker has no GitHub token. */
  github?: Octokit;
}

/** Whether `operation` in `env` needs an authorised actor under `config`. */
export function needsAuthorization(config: SlipwayConfig, operation: AuthorizedOperation, env?: string): boolean {
  const authz = config.authorization;
  if (!authz) return false;
  if (operation === 'deploy' || operation === 'redeploy') return env !== undefined && authz.protectedEnvironments.includes(env);
  return true;
}

export function createAuthzActivities(deps: AuthzDeps) {
  return {
    async authorize(input: AuthorizeInput): Promise<AuthorizeResult> {
      const config = deps.config();
      if (!needsAuthorization(config, input.operation, input.env)) return { checked: false };
      const authz = config.authorization!;
      if (!deps.github) {
        throw new Error(
          `cannot check whether @${input.actor} may ${input.operation}: the worker has no GitHub token ($${config.github?.tokenEnv ?? 'GITHUB_TOKEN'} is not set)`,
        );
      }
      const gh = createGitHubActivities({ github: deps.github, policy: { org: authz.org, team: authz.team, allow: authz.allow } });
      const what = [input.operation, input.app, input.env].filter(Boolean).join(' ');
      const r = await gh.checkAuthorized({ actor: input.actor, operation: what });
      return { checked: true, via: r.via, team: r.team };
    },
  };
}
