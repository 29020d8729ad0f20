/** Defaults, name grammars and the plain-words hints for them; the cross-field rules in words. */

/** Values used when the config leaves an optional key out. */
export const CONFIG_DEFAULTS = {
  taskQueue: 'slipway',
  temporalUiUrl: 'http://localhost:8233',
  temporalNamespace: 'default',
  budgetMinutes: 15,
  verifyBudgetMinutes: 5,
  releaseOnly: false,
  ecsApiShare: 0.5,
  eventsReconcileSeconds: 20,
} as const;

/** App and environment names (and image keys): a lowercase letter, then `[a-z0-9_-]`. */
export const NAME = '^[a-z][a-z0-9_-]*$';

/** ECS cluster, service and container names: letters, digits, `_` and `-`. */
export const ECS_NAME = '^[A-Za-z0-9_-]+$';

/** A task definition family that ends in `-template`; the deployed family drops that suffix. */
export const TEMPLATE_FAMILY = '^[A-Za-z0-9_-]+-template$';

/** An http(s) URL with a host. */
export const HTTP_URL = '^https?://[^\\s/?#]+[^\\s]*$';

/** An AWS region name such as `us-east-1`. */
export const REGION = '^[a-z]{2}(-[a-z]+)+-[0-9]+$';

/**
 * An image repository without tag or digest, in the (lowercase) OCI reference grammar,
 * with an explicit registry host: `registry.host[:port]/path/name`. The host needs a dot,
 * a port, or to be `localhost`, which is how container tools tell a registry from a path.
 */
export const REPOSITORY = (() => {
  const label = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
  const host = `(?:${label}(?:\\.${label})+(?::[0-9]+)?|${label}:[0-9]+|localhost)`;
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  return `^${host}(?:/${component})+$`;
})();

/** An environment variable name: where a secret comes from (secrets never live in the config). */
export const ENV_VAR = '^[A-Z_][A-Z0-9_]*$';
/** `owner/name` of a GitHub repository or `org/team-slug` of a team. */
export const GITHUB_SLUG = '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$';
/** A GitHub login (users and `name[bot]` apps). */
export const GITHUB_LOGIN = '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\\[bot\\])?$';
/** A registry host with optional port. */
export const REGISTRY_HOST = '^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]+)?)$';

/** Human wording for each pattern, used instead of ajv's "must match pattern ..." and in the docs. */
export const PATTERN_HINTS: Record<string, string> = {
  [NAME]: "must be a lowercase name: a letter, then letters, digits, '_' or '-'",
  [ECS_NAME]: "must be an ECS name: letters, digits, '_' or '-'",
  [TEMPLATE_FAMILY]: "must be a task definition family ending in \"-template\" (letters, digits, '_' or '-')",
  [HTTP_URL]: 'must be an http:// or https:// URL',
  [REGION]: 'must be an AWS region such as us-east-1',
  [ENV_VAR]: 'must be the name of an environment variable (capital letters, digits and _), not the secret itself',
  [GITHUB_SLUG]: 'must be owner/name (a repository) or org/team-slug (a team)',
  [GITHUB_LOGIN]: 'must be a GitHub login',
  [REGISTRY_HOST]: 'must be a registry host, optionally with a port, like ghcr.io or 127.0.0.1:5000',
  [REPOSITORY]: 'must be an image repository without tag or digest, lowercase, with its registry host, like ghcr.io/wordpress/openverse-api',
};

/** The plain-words rule for a pattern of `configSchema` ("must be ..."), if it has one. */
export function describePattern(pattern: string): string | undefined {
  return PATTERN_HINTS[pattern];
}

/** The rules `parseConfig` checks beyond the schema, in words (rendered into the docs). */
export const CONFIG_RULES: readonly string[] = [
  'Every environment under `apps.<app>.environments` is listed in the top-level `environments`.',
  "Every container under `containers` maps to a key of the app's `images`.",
  'An app with `releaseOnly: true` has no `environments`; any other app has at least one.',
  'No two environments (of any apps) target the same `cluster` and `service`.',
  'No two environments use the same `templateFamily`.',
  '`authorization` needs `github` (membership is checked through its API).',
  'Every environment under `identity.environments` is listed in the top-level `environments`.',
  'An `oidc` mode anywhere under `identity` needs `identity.oidc`, and `identity.oidc` needs a `repository` (its own or `github.repository`).',
  'Every `authorization.protectedEnvironments` entry is listed in the top-level `environments`.',
  'An app with a `pipeline` is deployed to its staging (the first of `environments`), and its staging and production (the last of `environments` it has) set `versionEndpoint`.',
  "`pipeline.gate.playwright.baseUrlFrom` and `apiUrlFrom` name apps whose staging environment sets `url` (without `baseUrlFrom`, the pipeline's own app).",
  'A `pipeline.gate.githubWorkflow` needs `github` (the workflow is dispatched through its API).',
  'A `pipeline` without `autoApprove: true` needs `authorization` (approvers are checked against its team).',
  "`testTraffic.playwright: true` needs the app's `pipeline.gate.playwright` (the suite) and `testTraffic.url` (where it runs).",
];
