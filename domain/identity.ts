/**
 * Who is acting: how logins compare, and which identity mode an operation runs under.
 * Pure: the workflows, the activities and the CLI use the same rules.
 */
import type { ProvenActor } from '../contract';

/** A login as GitHub compares it: trimmed, without a leading `@`, case-insensitive. */
export function normalizeLogin(login: unknown): string {
  return String(login ?? '')
    .trim()
    .replace(/^@/, '')
    .toLowerCase();
}

/** Whether two logins name the same GitHub account (`Alice`, `@alice ` and `alice` do). */
export function sameLogin(a: unknown, b: unknown): boolean {
  const x = normalizeLogin(a);
  return x !== '' && x === normalizeLogin(b);
}

/** `oidc`: a verified GitHub Actions ID token names the actor. `trusted-caller`: the caller does. */
export type IdentityMode = 'oidc' | 'trusted-caller';
export const IDENTITY_MODES: readonly IdentityMode[] = ['oidc', 'trusted-caller'];

/** Operations whose actor matters: `approve` and `pipeline` (pause, resume, cancel) belong to a pipeline. */
export type ProtectedOperation = 'deploy' | 'rollback' | 'redeploy' | 'release' | 'approve' | 'pipeline';
export const PROTECTED_OPERATIONS: readonly ProtectedOperation[] = ['deploy', 'rollback', 'redeploy', 'release', 'approve', 'pipeline'];

export interface OidcSettings {
  issuer: string;
  audience: string;
  jwksUrl: string;
  /** `owner/name`: tokens from workflows of other repositories are refused. */
  repository: string;
  /** When non-empty, the token's `workflow_ref` must be one of these. */
  workflowRefs: string[];
  /** When non-empty, the token's `environment` (the job's GitHub environment) must be one of these. */
  environments: string[];
  leewaySeconds: number;
}

export interface IdentityConfig {
  /** Mode where neither `operations` nor `environments` says otherwise. */
  default: IdentityMode;
  /** Per environment: every protected operation that targets it. */
  environments: Record<string, IdentityMode>;
  /** Per operation: overrides `environments`. */
  operations: Partial<Record<ProtectedOperation, IdentityMode>>;
  oidc?: OidcSettings;
}

export const TRUSTED_CALLER: IdentityConfig = { default: 'trusted-caller', environments: {}, operations: {} };

/** The mode `operation` on `env` runs under. */
export function identityMode(identity: IdentityConfig | undefined, operation: ProtectedOperation, env?: string): IdentityMode {
  const id = identity ?? TRUSTED_CALLER;
  return id.operations[operation] ?? (env !== undefined ? id.environments[env] : undefined) ?? id.default;
}

/** What an `oidc` refusal tells people to do instead. */
export const OIDC_HOWTO =
  'run it from GitHub Actions with `permissions: id-token: write` (the slipway CLI then sends the ID token; see examples/github-workflows/production.yml), ' +
  "or, from another client, put a fresh token in the request's `idToken` field";

/** The claims of a proven identity that progress and state show (no repository, no expiry, never the token). */
export function provenShown(p: ProvenActor): ProvenActor {
  return {
    actor: p.actor,
    ...(p.triggeringActor && { triggeringActor: p.triggeringActor }),
    ...(p.workflowRef && { workflowRef: p.workflowRef }),
    ...(p.runId && { runId: p.runId }),
  };
}

/** The line an operation's log shows for a verified identity (never the token). */
export function provenLine(p: ProvenActor): string {
  const where = [p.workflowRef && `workflow ${p.workflowRef}`, p.runId && `run ${p.runId}`].filter(Boolean).join(', ');
  return `@${p.actor} proven by a GitHub Actions ID token${where ? ` (${where})` : ''}${p.triggeringActor ? `, re-run by @${p.triggeringActor}` : ''}`;
}

/** `oidc`, or the mode most operations on `env` use with the exceptions named: `trusted-caller (release: oidc)`. */
export function modeSummary(identity: IdentityConfig | undefined, env: string): string {
  const modes = PROTECTED_OPERATIONS.map((op) => [op, identityMode(identity, op, env)] as const);
  const oidcCount = modes.filter(([, m]) => m === 'oidc').length;
  const main: IdentityMode = oidcCount * 2 > modes.length ? 'oidc' : 'trusted-caller';
  const others = modes.filter(([, m]) => m !== main).map(([op, m]) => `${op}: ${m}`);
  return others.length ? `${main} (${others.join(', ')})` : main;
}
