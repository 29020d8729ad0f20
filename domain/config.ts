/**
 * Slipway's configuration: which apps exist, which images they publish, and where each
 * app runs in each environment (ECS cluster, service, task definition template).
 *
 * The pipeline is schema → rules → normalise (STYLE.md item 11):
 * 1. `parseConfig` reads YAML or JSON text,
 * 2. checks it against `configSchema` (JSON Schema draft-07, also the source of
 *    docs/config-reference.md),
 * 3. applies the cross-field rules the schema cannot express,
 * 4. and reports every problem at once as one `BadInput`, or returns a `SlipwayConfig`
 *    with all defaults filled in.
 *
 * Pure: no file or network I/O here (reading the file is `config-file.ts`).
 */
import Ajv, { type ErrorObject } from 'ajv';
import { LineCounter, parseDocument } from 'yaml';
import { BadInput } from './errors';
import { type BucketLimit, THROTTLING_CATEGORIES, type ThrottlingCategory } from './ecs-throttling';
import { IDENTITY_MODES, PROTECTED_OPERATIONS, TRUSTED_CALLER, type IdentityConfig, type IdentityMode } from './identity';

// ---------------------------------------------------------------------------------------
// Defaults and name grammars
// ---------------------------------------------------------------------------------------

/** Values used when the config leaves an optional key out. */
export const CONFIG_DEFAULTS = {
  taskQueue: 'slipway',
  temporalUiUrl: 'http://localhost:8233',
  temporalNamespace: 'default',
  budgetMinutes: 15,
  verifyBudgetMinutes: 5,
  releaseOnly: false,
  ecsApiShare: 0.5,
} as const;

/** App and environment names (and image keys): a lowercase letter, then `[a-z0-9_-]`. */
const NAME = '^[a-z][a-z0-9_-]*$';

/** ECS cluster, service and container names: letters, digits, `_` and `-`. */
const ECS_NAME = '^[A-Za-z0-9_-]+$';

/** A task definition family that ends in `-template`; the deployed family drops that suffix. */
const TEMPLATE_FAMILY = '^[A-Za-z0-9_-]+-template$';

/** An http(s) URL with a host. */
const HTTP_URL = '^https?://[^\\s/?#]+[^\\s]*$';

/** An AWS region name such as `us-east-1`. */
const REGION = '^[a-z]{2}(-[a-z]+)+-[0-9]+$';

/**
 * An image repository without tag or digest, in the (lowercase) OCI reference grammar,
 * with an explicit registry host: `registry.host[:port]/path/name`. The host needs a dot,
 * a port, or to be `localhost`, which is how container tools tell a registry from a path.
 */
const REPOSITORY = (() => {
  const label = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
  const host = `(?:${label}(?:\\.${label})+(?::[0-9]+)?|${label}:[0-9]+|localhost)`;
  const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
  return `^${host}(?:/${component})+$`;
})();

/** An environment variable name: where a secret comes from (secrets never live in the config). */
const ENV_VAR = '^[A-Z_][A-Z0-9_]*$';
/** `owner/name` of a GitHub repository or `org/team-slug` of a team. */
const GITHUB_SLUG = '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$';
/** A GitHub login (users and `name[bot]` apps). */
const GITHUB_LOGIN = '^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\\[bot\\])?$';
/** A registry host with optional port. */
const REGISTRY_HOST = '^(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]+)?)$';

/** Human wording for each pattern, used instead of ajv's "must match pattern ..." and in the docs. */
const PATTERN_HINTS: Record<string, string> = {
  [NAME]: "must be a lowercase name: a letter, then letters, digits, '_' or '-'",
  [ECS_NAME]: "must be an ECS name: letters, digits, '_' or '-'",
  [TEMPLATE_FAMILY]:
    "must be a task definition family ending in \"-template\" (letters, digits, '_' or '-')",
  [HTTP_URL]: 'must be an http:// or https:// URL',
  [REGION]: 'must be an AWS region such as us-east-1',
  [ENV_VAR]: 'must be the name of an environment variable (capital letters, digits and _), not the secret itself',
  [GITHUB_SLUG]: 'must be owner/name (a repository) or org/team-slug (a team)',
  [GITHUB_LOGIN]: 'must be a GitHub login',
  [REGISTRY_HOST]: 'must be a registry host, optionally with a port, like ghcr.io or 127.0.0.1:5000',
  [REPOSITORY]:
    'must be an image repository without tag or digest, lowercase, with its registry host, like ghcr.io/wordpress/openverse-api',
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
  "An app with a `pipeline` is deployed to its staging (the first of `environments`), and its staging and production (the last of `environments` it has) set `versionEndpoint`.",
  "`pipeline.gate.playwright.baseUrlFrom` and `apiUrlFrom` name apps whose staging environment sets `url` (without `baseUrlFrom`, the pipeline's own app).",
  'A `pipeline.gate.githubWorkflow` needs `github` (the workflow is dispatched through its API).',
  'A `pipeline` without `autoApprove: true` needs `authorization` (approvers are checked against its team).',
];

// ---------------------------------------------------------------------------------------
// JSON Schema
// ---------------------------------------------------------------------------------------

/** The subset of JSON Schema draft-07 that `configSchema` uses (and the docs generator reads). */
export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean';
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  /** For maps: the schema of the keys; its `title` names the key in docs (`<app>`). */
  propertyNames?: JsonSchema;
  minProperties?: number;
  items?: JsonSchema;
  minItems?: number;
  uniqueItems?: boolean;
  pattern?: string;
  enum?: string[];
  minLength?: number;
  maxLength?: number;
  exclusiveMinimum?: number;
  maximum?: number;
  default?: unknown;
  examples?: unknown[];
}

const environmentSchema: JsonSchema = {
  type: 'object',
  description: 'Where the app runs in this environment and how to check it.',
  required: ['cluster', 'service', 'templateFamily', 'containers'],
  additionalProperties: false,
  properties: {
    cluster: {
      type: 'string',
      pattern: ECS_NAME,
      maxLength: 255,
      description: 'Name of the ECS cluster that runs the service.',
      examples: ['staging-default'],
    },
    service: {
      type: 'string',
      pattern: ECS_NAME,
      maxLength: 255,
      description:
        'Name of the ECS service to update. Each (cluster, service) pair may appear only once in the whole config.',
      examples: ['staging-api'],
    },
    templateFamily: {
      type: 'string',
      pattern: TEMPLATE_FAMILY,
      maxLength: 255,
      description:
        'Task definition family of the template Slipway renders from. ' +
        'The rendered task definition is registered under the same name without the `-template` suffix ' +
        '(`staging-api-template` → `staging-api`). Each template may be used by only one environment.',
      examples: ['staging-api-template'],
    },
    containers: {
      type: 'object',
      description:
        "Which containers of the template get a new image: container name in the template → key in the app's `images`. " +
        'Containers of the template not listed here are left as they are.',
      minProperties: 1,
      propertyNames: { title: 'container', type: 'string', pattern: ECS_NAME, maxLength: 255, description: 'Container name in the template.' },
      additionalProperties: {
        type: 'string',
        pattern: NAME,
        description: "Key in the app's `images` whose repository, with the deployed tag, becomes this container's image.",
      },
      examples: [{ django: 'api', nginx: 'api_nginx' }],
    },
    url: {
      type: 'string',
      pattern: HTTP_URL,
      description: 'Public URL of the deployed app, shown in summaries and used by post-deploy checks.',
      examples: ['https://api-staging.openverse.org'],
    },
    versionEndpoint: {
      type: 'string',
      pattern: HTTP_URL,
      description:
        'URL answering JSON with the running release (`{"release": "<sha>"}`); checked after a deploy to confirm the new version is live.',
      examples: ['https://api-staging.openverse.org/version'],
    },
    budgetMinutes: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1440,
      description:
        "How long the rollout of a deployment to this environment may take before it counts as failed. Defaults to `deploy.budgetMinutes`. The service's own bake time, linear/canary step bake times and lifecycle hook timeouts are added to it.",
    },
    testTraffic: {
      type: 'object',
      description:
        "The test route of a blue/green (or linear, canary) service whose deploymentConfiguration has a `PAUSE` lifecycle hook at `POST_TEST_TRAFFIC_SHIFT`: while ECS holds the new revision on test traffic only, Slipway checks it there — the test route's version endpoint must report the new tag, then (where configured) the app's Playwright gate runs against `url` and a person approves the exact tag — and answers the hook with `ContinueServiceDeployment` `CONTINUE`, or `ROLLBACK` on a failed check, a rejection or the deadline, so production traffic never reaches a revision that failed. Without such a hook on the service the deploy says so and carries on as usual.",
      required: ['versionEndpoint'],
      additionalProperties: false,
      properties: {
        versionEndpoint: {
          type: 'string',
          pattern: HTTP_URL,
          description: 'Version endpoint behind the test listener (`{"release": "<sha>"}`): it must report the new tag while production still serves the old one.',
          examples: ['https://api-staging.openverse.org:8443/version'],
        },
        url: {
          type: 'string',
          pattern: HTTP_URL,
          description: 'Base URL of the app behind the test listener: PLAYWRIGHT_BASE_URL of the Playwright gate.',
          examples: ['https://api-staging.openverse.org:8443'],
        },
        playwright: {
          type: 'boolean',
          default: false,
          description: "Run the app's `pipeline.gate.playwright` suite against `url` (needs both).",
        },
        approval: {
          type: 'boolean',
          default: false,
          description:
            'Wait for an authorised person to approve the exact tag (the `approve`/`reject` Update, or the `approveSignal`/`rejectSignal` Signal, on `deploy/<app>/<env>`) before production traffic moves.',
        },
        deadlineMinutes: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1440,
          default: 60,
          description: "How long the checks on test traffic may take (approval included) before Slipway answers the hook with ROLLBACK. Within the deploy's budget.",
        },
      },
    },
    stopType: {
      enum: ['ROLLBACK', 'ABORT'],
      description:
        'How Slipway ends the ECS deployment it started when it gives up on it (budget exhausted, cancelled, preempted by a rollback): `StopServiceDeployment` with `ROLLBACK` (back to the previous revision) or `ABORT` (stop where it is). Default `ROLLBACK`.',
      examples: ['ABORT'],
    },
  },
};

const pipelineSchema: JsonSchema = {
  type: 'object',
  description:
    'The promotion pipeline of the app: merges to main queue up, deploy to staging, pass the gate, wait for approval, and are released to production. Without this section the app has no pipeline.',
  additionalProperties: false,
  properties: {
    policy: {
      type: 'string',
      enum: ['latest', 'fifo'],
      default: 'latest',
      description: '`latest`: the newest waiting merge by git ancestry on the default branch goes next and the waiting merges it contains are marked superseded; `fifo`: every merge in arrival order (noted when that differs from git order). A commit not on the default branch is refused.',
    },
    approvals: { type: 'integer', exclusiveMinimum: 0, maximum: 10, default: 1, description: 'How many distinct authorised approvers a candidate needs.' },
    allowSelfApproval: {
      type: 'boolean',
      default: false,
      description: 'Whether the person who merged may be the only approver of their own change.',
    },
    approvalDeadlineHours: { type: 'number', exclusiveMinimum: 0, maximum: 720, default: 72, description: 'How long a candidate waits for approval before it expires.' },
    autoApprove: { type: 'boolean', default: false, description: 'Promote every candidate that passes the gate without waiting for a person (continuous deployment).' },
    imageWaitMinutes: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1440,
      default: 60,
      description:
        'How long a candidate reported before its images are published waits for them (the registry is checked with growing intervals, "waiting for images" in the state); after that it expires with the missing images named.',
    },
    gate: {
      type: 'object',
      description: 'The check a candidate must pass on staging before approval. Leave out for none.',
      additionalProperties: false,
      properties: {
        playwright: {
          type: 'object',
          description: 'Run the team\'s Playwright suite against staging (PLAYWRIGHT_BASE_URL = the staging url of `baseUrlFrom`).',
          required: ['suiteDir'],
          additionalProperties: false,
          properties: {
            suiteDir: { type: 'string', minLength: 1, description: 'Directory of the Playwright project (with playwright.config.*), on the gate workers, relative to their working directory.' },
            grep: { type: 'string', minLength: 1, description: 'Only tests matching this (Openverse: @deployment-smoketest).' },
            baseUrlFrom: { type: 'string', pattern: NAME, description: 'App whose staging `url` is PLAYWRIGHT_BASE_URL (default: this app).' },
            apiUrlFrom: { type: 'string', pattern: NAME, description: 'App whose staging `url` is passed as API_URL (the live API).' },
            taskQueue: { type: 'string', minLength: 1, description: 'Task queue of the workers that have a browser (default: the main task queue).' },
            retries: { type: 'integer', exclusiveMinimum: -1, maximum: 5, default: 1, description: 'Retries per test; a test that passes on retry counts as flaky.' },
            timeoutMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 240, default: 30, description: 'How long the suite may run.' },
          },
        },
        githubWorkflow: {
          type: 'object',
          description: 'Alternatively, dispatch a GitHub Actions workflow and wait for its conclusion.',
          required: ['workflow'],
          additionalProperties: false,
          properties: {
            workflow: { type: 'string', minLength: 1, description: 'Workflow file name, e.g. e2e-staging.yml.' },
            ref: { type: 'string', minLength: 1, default: 'main', description: 'Branch the workflow runs on.' },
          },
        },
      },
    },
  },
};

const appSchema: JsonSchema = {
  type: 'object',
  description: 'One app: the images it publishes and the environments it is deployed to.',
  required: ['images'],
  additionalProperties: false,
  properties: {
    releaseOnly: {
      type: 'boolean',
      default: CONFIG_DEFAULTS.releaseOnly,
      description:
        'When true, Slipway only tags and releases the images; the app is deployed elsewhere (e.g. by Terraform) and must not have `environments`.',
    },
    images: {
      type: 'object',
      description: 'Images the app publishes: image key → repository (no tag). A release tags every one of them.',
      minProperties: 1,
      propertyNames: { title: 'imageKey', type: 'string', pattern: NAME, description: 'Short name the environments refer to.' },
      additionalProperties: {
        type: 'string',
        pattern: REPOSITORY,
        maxLength: 255,
        description: 'Repository of the image; a deployment appends the tag it deploys.',
      },
      examples: [{ api: 'ghcr.io/wordpress/openverse-api', api_nginx: 'ghcr.io/wordpress/openverse-api_nginx' }],
    },
    pipeline: pipelineSchema,
    environments: {
      type: 'object',
      description:
        'Where the app is deployed: environment name (one of the top-level `environments`) → target. ' +
        'Required, with at least one entry, unless `releaseOnly` is true.',
      propertyNames: { title: 'env', type: 'string', pattern: NAME, description: 'An environment listed in the top-level `environments`.' },
      additionalProperties: environmentSchema,
    },
  },
};

const githubSchema: JsonSchema = {
  type: 'object',
  description: 'The GitHub repository Slipway authorises against and reports to. The token comes from the worker\'s environment.',
  required: ['repository'],
  additionalProperties: false,
  properties: {
    repository: { type: 'string', pattern: GITHUB_SLUG, description: 'owner/name of the repository (releases, changelog pull requests, deployments).', examples: ['WordPress/openverse'] },
    apiUrl: { type: 'string', pattern: HTTP_URL, default: 'https://api.github.com', description: 'GitHub API base URL (GitHub Enterprise, or a sandbox).' },
    tokenEnv: { type: 'string', pattern: ENV_VAR, default: 'GITHUB_TOKEN', description: 'Name of the worker environment variable holding the GitHub token (needs read:org for team membership).' },
  },
};

const authorizationSchema: JsonSchema = {
  type: 'object',
  description:
    'Who may roll back, release, and deploy to protected environments: members of a GitHub team, or allowed bots. Without this section nobody is checked.',
  required: ['team'],
  additionalProperties: false,
  properties: {
    team: { type: 'string', pattern: GITHUB_SLUG, description: 'org/team-slug whose active members are authorised.', examples: ['WordPress/openverse-maintainers'] },
    allow: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', pattern: GITHUB_LOGIN, description: 'A GitHub login.' },
      default: [],
      description: 'Logins authorised without team membership (bots).',
    },
    protectedEnvironments: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', pattern: NAME, description: 'An environment name.' },
      default: ['production'],
      description: 'Environments where a plain deploy also needs an authorised actor. Rollbacks and releases always do.',
    },
  },
};

const identityModeSchema: JsonSchema = {
  type: 'string',
  enum: [...IDENTITY_MODES],
  description: '`oidc`: a verified GitHub Actions ID token names the actor. `trusted-caller`: whoever can reach Temporal names the actor.',
};

const identitySchema: JsonSchema = {
  type: 'object',
  description:
    'How the actor of a protected operation (production deploys, rollbacks, releases, approvals, pipeline pause/resume/cancel) is proven. ' +
    'A mode is chosen per operation (`operations`), else per environment the operation targets (`environments`), else `default`.',
  additionalProperties: false,
  properties: {
    default: { ...identityModeSchema, default: 'trusted-caller', description: 'Mode where `operations` and `environments` say nothing.' },
    environments: {
      type: 'object',
      description: 'Environment → mode of every protected operation that targets it (a pipeline\'s approvals and control target its production).',
      propertyNames: { title: 'env', type: 'string', pattern: NAME, description: 'An environment name.' },
      additionalProperties: identityModeSchema,
      examples: [{ production: 'oidc' }],
    },
    operations: {
      type: 'object',
      description: 'Operation → mode, overriding `environments`.',
      additionalProperties: false,
      properties: Object.fromEntries(PROTECTED_OPERATIONS.map((op) => [op, { ...identityModeSchema, description: `Mode of ${op === 'pipeline' ? 'pipeline pause, resume and cancel' : op === 'approve' ? 'pipeline approvals and rejections' : `${op}s`}.` }])),
    },
    oidc: {
      type: 'object',
      description: 'The OIDC issuer whose ID tokens prove the actor: GitHub Actions by default.',
      additionalProperties: false,
      properties: {
        issuer: { type: 'string', pattern: HTTP_URL, default: 'https://token.actions.githubusercontent.com', description: 'Expected `iss` of the token.' },
        audience: { type: 'string', minLength: 1, maxLength: 200, default: 'slipway', description: 'Expected `aud`: the CLI asks GitHub for a token with this audience.' },
        jwksUrl: { type: 'string', pattern: HTTP_URL, description: 'Where the issuer publishes its signing keys. Default: `<issuer>/.well-known/jwks`.' },
        repository: { type: 'string', pattern: GITHUB_SLUG, description: 'owner/name whose workflows may act (the token\'s `repository`). Default: `github.repository`.', examples: ['WordPress/openverse'] },
        workflowRefs: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', minLength: 1, description: 'A `workflow_ref`, e.g. WordPress/openverse/.github/workflows/production.yml@refs/heads/main.' },
          default: [],
          description: 'When set, only tokens of these workflows (`workflow_ref`) are accepted.',
        },
        environments: {
          type: 'array',
          uniqueItems: true,
          items: { type: 'string', minLength: 1, description: 'A GitHub deployment environment name.' },
          default: [],
          description: 'When set, only tokens of jobs that ran in one of these GitHub environments (`environment`) are accepted.',
        },
        leewaySeconds: { type: 'integer', exclusiveMinimum: -1, maximum: 300, default: 30, description: 'Clock skew allowed when checking `exp`, `nbf` and `iat`.' },
      },
    },
  },
};

const registriesSchema: JsonSchema = {
  type: 'object',
  description: 'Credentials per image registry host, by environment variable name. Registries not listed are used anonymously.',
  propertyNames: { title: 'host', type: 'string', pattern: REGISTRY_HOST, description: 'Registry host[:port], e.g. ghcr.io.' },
  additionalProperties: {
    type: 'object',
    description: 'How to authenticate to this registry.',
    additionalProperties: false,
    properties: {
      usernameEnv: { type: 'string', pattern: ENV_VAR, description: 'Environment variable holding the user name.' },
      passwordEnv: { type: 'string', pattern: ENV_VAR, description: 'Environment variable holding the password or token (for GHCR: a token with read:packages, write:packages to alias).' },
      insecure: { type: 'boolean', default: false, description: 'Plain HTTP (local sandboxes only).' },
    },
  },
};

const notificationsSchema: JsonSchema = {
  type: 'object',
  description: 'Where start, success and failure of every operation are reported.',
  additionalProperties: false,
  properties: {
    slack: {
      type: 'object',
      description: 'A Slack incoming webhook.',
      required: ['webhookUrlEnv'],
      additionalProperties: false,
      properties: {
        webhookUrlEnv: { type: 'string', pattern: ENV_VAR, description: 'Environment variable holding the webhook URL (a secret).' },
        users: {
          type: 'object',
          description: 'GitHub login → Slack member ID, so actors are mentioned.',
          propertyNames: { title: 'login', type: 'string', pattern: GITHUB_LOGIN, description: 'GitHub login.' },
          additionalProperties: { type: 'string', pattern: '^[UW][A-Z0-9]+$', description: 'Slack member ID.' },
        },
        maintainersMention: { type: 'string', minLength: 1, description: 'Mention added to failure messages, e.g. <!subteam^S0123ABC>.' },
      },
    },
    githubDeployments: { type: 'boolean', default: false, description: 'Record deployments and their statuses with the GitHub Deployments API.' },
  },
};

/** JSON Schema (draft-07) of a Slipway config file. Every property carries a description. */
export const configSchema: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'Slipway configuration',
  description: 'Apps, their images, and the ECS services they are deployed to.',
  type: 'object',
  required: ['aws', 'environments', 'apps'],
  additionalProperties: false,
  properties: {
    aws: {
      type: 'object',
      description: 'Where Slipway talks to AWS: the region, and for sandboxes an endpoint.',
      required: ['region'],
      additionalProperties: false,
      properties: {
        region: {
          type: 'string',
          pattern: REGION,
          description: 'AWS region of the ECS clusters.',
          examples: ['us-east-1'],
        },
        endpoint: {
          type: 'string',
          pattern: HTTP_URL,
          description: 'Override of the ECS endpoint URL, for sandboxes and LocalStack. Leave out for real AWS.',
          examples: ['http://localhost:4566'],
        },
        ecsApiShare: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          default: CONFIG_DEFAULTS.ecsApiShare,
          description:
            "Share of each of ECS's per-account, per-Region API rate limits (one token bucket per throttling category) that this worker may use; the rest stays for other tools in the account. Throttling answers shrink it for a while.",
          examples: [0.3],
        },
        ecsApiLimits: {
          type: 'object',
          description:
            `ECS's API rate limits for this account where they differ from the documented ones (raised through Service Quotas), per throttling category: ${THROTTLING_CATEGORIES.join(', ')}.`,
          propertyNames: { title: 'category', type: 'string', enum: [...THROTTLING_CATEGORIES], description: 'An ECS throttling category.' },
          additionalProperties: {
            type: 'object',
            description: 'The token bucket of the category.',
            required: ['burst', 'perSecond'],
            additionalProperties: false,
            properties: {
              burst: { type: 'integer', exclusiveMinimum: 0, maximum: 100000, description: 'Bucket capacity: calls allowed at once.' },
              perSecond: { type: 'number', exclusiveMinimum: 0, maximum: 100000, description: 'Refill rate: sustained calls per second.' },
            },
          },
          examples: [{ 'service-read': { burst: 200, perSecond: 40 } }],
        },
      },
    },
    temporal: {
      type: 'object',
      description: 'Where the Temporal server is and which task queue the worker polls.',
      additionalProperties: false,
      properties: {
        taskQueue: {
          type: 'string',
          minLength: 1,
          default: CONFIG_DEFAULTS.taskQueue,
          description: 'Task queue shared by the worker and the CLI.',
        },
        uiUrl: {
          type: 'string',
          pattern: HTTP_URL,
          default: CONFIG_DEFAULTS.temporalUiUrl,
          description: 'Base URL of the Temporal Web UI, used for links to workflow runs.',
        },
        namespace: {
          type: 'string',
          minLength: 1,
          default: CONFIG_DEFAULTS.temporalNamespace,
          description: 'Temporal namespace the workflows run in.',
        },
      },
    },
    deploy: {
      type: 'object',
      description: 'Time limits that apply to every deployment unless an environment overrides them.',
      additionalProperties: false,
      properties: {
        budgetMinutes: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1440,
          default: CONFIG_DEFAULTS.budgetMinutes,
          description: 'How long a deployment may take, from registering the task definition to a stable service.',
        },
        verifyBudgetMinutes: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1440,
          default: CONFIG_DEFAULTS.verifyBudgetMinutes,
          description: 'How long the post-deploy checks (version endpoint) may take to see the new release.',
        },
      },
    },
    github: githubSchema,
    authorization: authorizationSchema,
    identity: identitySchema,
    registries: registriesSchema,
    notifications: notificationsSchema,
    environments: {
      type: 'array',
      description: 'Names of the environments, in promotion order (a release goes to the first one first).',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', pattern: NAME, description: 'An environment name.' },
      examples: [['staging', 'production']],
    },
    apps: {
      type: 'object',
      description: 'The apps Slipway releases and deploys: app name → app.',
      minProperties: 1,
      propertyNames: { title: 'app', type: 'string', pattern: NAME, description: 'App name, as used on the command line.' },
      additionalProperties: appSchema,
    },
  },
};

// ---------------------------------------------------------------------------------------
// Normalised model
// ---------------------------------------------------------------------------------------

/** A config with every default applied. */
export interface SlipwayConfig {
  /** Where the config came from (a path, or a label such as `<inline>`). */
  source: string;
  aws: { region: string; endpoint?: string; ecsApiShare: number; ecsApiLimits?: Partial<Record<ThrottlingCategory, BucketLimit>> };
  temporal: { taskQueue: string; uiUrl: string; namespace: string };
  deploy: { budgetMinutes: number; verifyBudgetMinutes: number };
  /** Environment names in promotion order. */
  environments: string[];
  /** Apps by name, in the order of the file. */
  apps: Record<string, AppConfig>;
  github?: { repository: string; owner: string; repo: string; apiUrl: string; tokenEnv: string };
  authorization?: { org: string; team: string; allow: string[]; protectedEnvironments: string[] };
  /** How actors are proven (defaults: `trusted-caller` everywhere). */
  identity: IdentityConfig;
  registries: Record<string, { usernameEnv?: string; passwordEnv?: string; insecure: boolean }>;
  notifications: {
    slack?: { webhookUrlEnv: string; users: Record<string, string>; maintainersMention?: string };
    githubDeployments: boolean;
  };
}

export interface AppConfig {
  name: string;
  releaseOnly: boolean;
  /** Image key → repository (no tag). */
  images: Record<string, string>;
  /** Environment name → deployment target; empty for a release-only app. */
  environments: Record<string, EnvironmentConfig>;
  pipeline?: PipelineConfig;
}

export interface PipelineConfig {
  policy: 'latest' | 'fifo';
  approvals: number;
  allowSelfApproval: boolean;
  approvalDeadlineHours: number;
  autoApprove: boolean;
  imageWaitMinutes: number;
  gate?: {
    playwright?: { suiteDir: string; grep?: string; baseUrlFrom?: string; apiUrlFrom?: string; taskQueue?: string; retries: number; timeoutMinutes: number };
    githubWorkflow?: { workflow: string; ref: string };
  };
}

export interface EnvironmentConfig {
  cluster: string;
  service: string;
  templateFamily: string;
  /** Container name in the template → image key. */
  containers: Record<string, string>;
  url?: string;
  versionEndpoint?: string;
  /** Already defaulted from `deploy.budgetMinutes`. */
  budgetMinutes: number;
  stopType?: 'ROLLBACK' | 'ABORT';
  testTraffic?: TestTraffic;
}

/** The test route of a service with a PAUSE hook at POST_TEST_TRAFFIC_SHIFT, and the checks run there. */
export interface TestTraffic {
  versionEndpoint: string;
  url?: string;
  playwright: boolean;
  approval: boolean;
  deadlineMinutes: number;
}

/** Everything a deployment of one app to one environment needs to know. */
export interface Target {
  app: string;
  env: string;
  region: string;
  cluster: string;
  service: string;
  templateFamily: string;
  /** templateFamily minus `-template`: the family the rendered task definition is registered under. */
  family: string;
  containers: { name: string; imageKey: string; repository: string }[];
  /** Every image of the app: a tag is deployable only if all of them have it. */
  images: { key: string; repository: string }[];
  url?: string;
  versionEndpoint?: string;
  /** The rollout allowance: the service's bake and hook times are added to it. */
  budgetSeconds: number;
  verifyBudgetSeconds: number;
  /** How Slipway ends the ECS deployment it started when it gives up on it (absent in targets resolved before it existed: ROLLBACK). */
  stopType?: 'ROLLBACK' | 'ABORT';
  /** The checks run while ECS holds the new revision on test traffic (a PAUSE hook at POST_TEST_TRAFFIC_SHIFT). */
  testTraffic?: TestTraffic & {
    /** The app's Playwright suite, when `playwright` is set. */
    playwrightGate?: NonNullable<NonNullable<PipelineConfig['gate']>['playwright']>;
  };
}

/** The suffix every template family carries and the rendered family drops. */
export const TEMPLATE_SUFFIX = '-template';

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

/**
 * Parses and validates a config (YAML, or JSON when the text starts with `{`).
 * Throws `BadInput` listing every problem found, each as `<path>: <message>`.
 */
export function parseConfig(text: string, source: string): SlipwayConfig {
  const raw = parseText(text, source);
  const problems = [...schemaProblems(raw), ...ruleProblems(raw)];
  if (problems.length > 0) throw invalid(source, 'is not a valid Slipway config', problems);
  return normalise(raw as RawConfig, source);
}

function invalid(source: string, what: string, problems: string[]): BadInput {
  const list = problems.map((p) => `  - ${p}`).join('\n');
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return new BadInput(`${source} ${what} (${count}):\n${list}`, problems);
}

/** Text → plain data. Syntax errors become problems `<source>:<line>:<column>: <message>`. */
function parseText(text: string, source: string): unknown {
  if (text.trim() === '') throw invalid(source, 'is empty', ['(config): is empty; see docs/config-reference.md']);
  return text.trimStart().startsWith('{') ? parseJson(text, source) : parseYaml(text, source);
}

function parseYaml(text: string, source: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => {
      const { line, col } = lineCounter.linePos(e.pos[0]);
      return `${source}:${line}:${col}: ${firstLine(e.message)}`;
    });
    throw invalid(source, 'is not valid YAML', problems);
  }
  return doc.toJS();
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const { line, col } = linePos(text, jsonErrorOffset(text, message));
    const short = message.replace(/, .*is not valid JSON$/s, '').replace(/ in JSON at position \d+.*$/s, '');
    throw invalid(source, 'is not valid JSON', [`${source}:${line}:${col}: ${firstLine(short)}`]);
  }
}

/**
 * Where a JSON syntax error is. V8 names the position for most errors; for the rest the
 * YAML parser with its JSON schema usually finds the spot; otherwise the end of the text.
 */
function jsonErrorOffset(text: string, message: string): number {
  const at = /position (\d+)/.exec(message);
  if (at) return Number(at[1]);
  const yamlError = parseDocument(text, { schema: 'json' }).errors[0];
  return yamlError ? yamlError.pos[0] : text.length;
}

function linePos(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, col: before[before.length - 1].length + 1 };
}

function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

// ---------------------------------------------------------------------------------------
// Schema problems
// ---------------------------------------------------------------------------------------

let validator: ReturnType<Ajv['compile']> | undefined;

function validate(raw: unknown): ErrorObject[] {
  validator ??= new Ajv({ allErrors: true, verbose: true, strict: true }).compile(configSchema);
  return validator(raw) ? [] : (validator.errors ?? []);
}

function schemaProblems(raw: unknown): string[] {
  const problems = validate(raw)
    .filter((e) => e.keyword !== 'propertyNames') // its inner error carries the detail
    .map(describeSchemaError);
  return [...new Set(problems)];
}

/** One ajv error → `<path>: <message>` in plain words. */
function describeSchemaError(e: ErrorObject): string {
  const at = pointerSegments(e.instancePath);
  if (e.propertyName !== undefined) {
    return `${formatPath([...at, e.propertyName])}: is not a valid key: ${hintFor(e)}`;
  }
  switch (e.keyword) {
    case 'required':
      return `${formatPath([...at, e.params.missingProperty as string])}: is required`;
    case 'additionalProperties': {
      const known = Object.keys((e.parentSchema as JsonSchema).properties ?? {});
      return `${formatPath([...at, e.params.additionalProperty as string])}: is not a known key (known keys: ${known.join(', ')})`;
    }
    default:
      return `${formatPath(at)}: ${hintFor(e)}`;
  }
}

function hintFor(e: ErrorObject): string {
  switch (e.keyword) {
    case 'type':
      return `must be ${typeWords(String(e.params.type))}`;
    case 'pattern':
      return PATTERN_HINTS[e.params.pattern as string] ?? (e.message as string);
    case 'minProperties':
      return 'must have at least one entry';
    case 'minItems':
      return 'must list at least one item';
    case 'uniqueItems':
      return `lists ${JSON.stringify((e.data as unknown[])[e.params.j as number])} more than once`;
    case 'minLength':
      return 'must not be empty';
    case 'exclusiveMinimum':
      return `must be greater than ${e.params.limit}`;
    case 'enum':
      return `must be one of ${(e.params.allowedValues as unknown[]).map(String).join(', ')}; got ${JSON.stringify(e.data)}`;
    default:
      return e.message ?? 'is invalid';
  }
}

function typeWords(type: string): string {
  const words: Record<string, string> = {
    object: 'a mapping (key: value)',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    integer: 'a whole number',
    boolean: 'true or false',
  };
  return words[type] ?? type;
}

function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** `['apps','api','environments',0]` → `apps.api.environments[0]`; odd keys are quoted. */
export function formatPath(segments: (string | number)[]): string {
  if (segments.length === 0) return '(config)';
  return segments
    .map((s, i) => {
      if (typeof s === 'number' || /^\d+$/.test(s)) return `[${s}]`;
      if (/^[A-Za-z_$][\w$-]*$/.test(s)) return i === 0 ? s : `.${s}`;
      return `[${JSON.stringify(s)}]`;
    })
    .join('');
}

// ---------------------------------------------------------------------------------------
// Cross-field rules
// ---------------------------------------------------------------------------------------
// The rules read the raw data defensively: wherever a value has the wrong shape they skip
// it (the schema has already reported it), so schema and rule problems come out together.

type Dict = Record<string, unknown>;

function dict(value: unknown): Dict | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Dict) : undefined;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Rules the schema cannot express (listed in `CONFIG_RULES`); each problem is `<path>: <message>`. */
function ruleProblems(raw: unknown): string[] {
  const root = dict(raw);
  const apps = dict(root?.apps);
  if (!root || !apps) return [];
  const declared = Array.isArray(root.environments) ? root.environments.filter((e): e is string => typeof e === 'string') : undefined;
  const problems: string[] = [];
  const seen = new Seen();
  for (const [appName, appRaw] of Object.entries(apps)) {
    const app = dict(appRaw);
    if (app) problems.push(...appProblems(appName, app, declared, seen), ...pipelineProblems(appName, app, root, apps, declared));
  }
  const authz = dict(root.authorization);
  if (authz && !dict(root.github)) problems.push('authorization: needs a `github` section (team membership is checked through the GitHub API)');
  if (authz && Array.isArray(authz.protectedEnvironments) && declared) {
    authz.protectedEnvironments.forEach((e, i) => {
      if (typeof e === 'string' && !declared.includes(e)) {
        problems.push(`authorization.protectedEnvironments[${i}]: "${e}" is not one of the environments (${declared.join(', ')})`);
      }
    });
  }
  problems.push(...identityProblems(root, declared));
  return problems;
}

function identityProblems(root: Dict, declared: string[] | undefined): string[] {
  const id = dict(root.identity);
  if (!id) return [];
  const problems: string[] = [];
  const envs = dict(id.environments);
  if (envs && declared) {
    for (const e of Object.keys(envs)) {
      if (!declared.includes(e)) problems.push(`identity.environments.${e}: "${e}" is not one of the environments (${declared.join(', ')})`);
    }
  }
  const modes = [id.default, ...Object.values(envs ?? {}), ...Object.values(dict(id.operations) ?? {})];
  const oidc = dict(id.oidc);
  if (modes.includes('oidc') && !oidc) problems.push('identity: `oidc` mode needs an `identity.oidc` section (issuer, audience, repository)');
  if (oidc && oidc.repository === undefined && !dict(root.github)) problems.push('identity.oidc.repository: is required when there is no `github.repository` (whose workflows may act)');
  return problems;
}

function appProblems(appName: string, app: Dict, declared: string[] | undefined, seen: Seen): string[] {
  const at = ['apps', appName, 'environments'];
  const envs = app.environments;
  if (app.releaseOnly === true) {
    return envs === undefined ? [] : [`${formatPath(at)}: must be left out: a release-only app is deployed elsewhere, not by Slipway`];
  }
  if (envs === undefined) return [`${formatPath(at)}: is required unless releaseOnly is true (list where the app is deployed)`];
  const envMap = dict(envs);
  if (!envMap) return [];
  if (Object.keys(envMap).length === 0) return [`${formatPath(at)}: must have at least one environment unless releaseOnly is true`];
  const images = dict(app.images);
  const problems: string[] = [];
  for (const [envName, envRaw] of Object.entries(envMap)) {
    const path = [...at, envName];
    if (declared && !declared.includes(envName)) {
      problems.push(`${formatPath(path)}: "${envName}" is not one of the declared environments (${[...new Set(declared)].join(', ')})`);
    }
    const env = dict(envRaw);
    if (env) problems.push(...containerProblems(path, env, appName, images), ...seen.check(path, env), ...testTrafficProblems(path, env, app));
  }
  return problems;
}

/** The Playwright gate on test traffic needs the app's suite and the test route's URL. */
function testTrafficProblems(path: string[], env: Dict, app: Dict): string[] {
  const t = dict(env.testTraffic);
  if (!t || t.playwright !== true) return [];
  const problems: string[] = [];
  const at = formatPath([...path, 'testTraffic', 'playwright']);
  if (!dict(dict(dict(app.pipeline)?.gate)?.playwright)) problems.push(`${at}: needs the app's \`pipeline.gate.playwright\` (the suite to run against the test route)`);
  if (t.url === undefined) problems.push(`${at}: needs \`testTraffic.url\` (the base URL the suite runs against)`);
  return problems;
}

/** What the pipeline of `appName` needs: version endpoints, the apps its gate takes URLs from, `github`, `authorization`. */
function pipelineProblems(appName: string, app: Dict, root: Dict, apps: Dict, declared: string[] | undefined): string[] {
  const pipeline = dict(app.pipeline);
  if (!pipeline) return [];
  const at = ['apps', appName, 'pipeline'];
  const problems: string[] = [];
  const staging = declared?.[0];
  const envs = dict(app.environments);
  if (staging && envs) {
    if (!Object.hasOwn(envs, staging)) {
      problems.push(`${formatPath(at)}: needs the app deployed to ${staging} (the first of \`environments\`), where candidates go first`);
    }
    const production = [...declared].reverse().find((e) => Object.hasOwn(envs, e));
    for (const env of new Set([staging, production])) {
      const e = env !== undefined && Object.hasOwn(envs, env) ? dict(envs[env]) : undefined;
      if (e && e.versionEndpoint === undefined) {
        problems.push(`${formatPath(['apps', appName, 'environments', env!, 'versionEndpoint'])}: is required by ${formatPath(at)} (it checks what ${env} runs)`);
      }
    }
  }
  const gate = dict(pipeline.gate);
  const playwright = dict(gate?.playwright);
  if (playwright && staging) {
    for (const key of ['baseUrlFrom', 'apiUrlFrom'] as const) {
      const from = playwright[key] === undefined && key === 'baseUrlFrom' ? appName : str(playwright[key]);
      if (from === undefined) continue;
      const path = formatPath(playwright[key] === undefined ? [...at, 'gate', 'playwright'] : [...at, 'gate', 'playwright', key]);
      const other = Object.hasOwn(apps, from) ? dict(apps[from]) : undefined;
      if (!other) {
        problems.push(`${path}: "${from}" is not one of the apps (${Object.keys(apps).join(', ')})`);
        continue;
      }
      const otherEnvs = dict(other.environments);
      const env = otherEnvs && Object.hasOwn(otherEnvs, staging) ? dict(otherEnvs[staging]) : undefined;
      const what = key === 'baseUrlFrom' ? 'the site the suite tests (PLAYWRIGHT_BASE_URL)' : 'the API the suite is given (API_URL)';
      if (!env) problems.push(`${path}: ${from} is not deployed to ${staging}, so it has no url for ${what}`);
      else if (env.url === undefined) problems.push(`${path}: ${formatPath(['apps', from, 'environments', staging, 'url'])} is not set; it is ${what}`);
    }
  }
  if (dict(gate?.githubWorkflow) && !dict(root.github)) {
    problems.push(`${formatPath([...at, 'gate', 'githubWorkflow'])}: needs a \`github\` section (the workflow is dispatched through the GitHub API)`);
  }
  if (pipeline.autoApprove !== true && !dict(root.authorization)) {
    problems.push(`${formatPath(at)}: approvals need an \`authorization\` section (approvers are checked against its team); add one, or set autoApprove: true`);
  }
  return problems;
}

/** Every container must map to one of the app's image keys. */
function containerProblems(path: string[], env: Dict, appName: string, images: Dict | undefined): string[] {
  const containers = dict(env.containers);
  if (!containers || !images) return [];
  const keys = Object.keys(images);
  return Object.entries(containers)
    .filter(([, key]) => typeof key === 'string' && !Object.hasOwn(images, key))
    .map(
      ([name, key]) =>
        `${formatPath([...path, 'containers', name])}: image key "${String(key)}" is not in ${formatPath(['apps', appName, 'images'])} (${keys.join(', ')})`,
    );
}

/** Tracks (cluster, service) pairs and template families: two targets must never share one. */
class Seen {
  private services = new Map<string, string>();
  private templates = new Map<string, string>();

  check(path: string[], env: Dict): string[] {
    const problems: string[] = [];
    const cluster = str(env.cluster);
    const service = str(env.service);
    const template = str(env.templateFamily);
    if (cluster && service) {
      const first = this.claim(this.services, `${cluster}/${service}`, path);
      if (first) problems.push(`${formatPath([...path, 'service'])}: service ${cluster}/${service} is already the target of ${first}`);
    }
    if (template) {
      const first = this.claim(this.templates, template, path);
      if (first) problems.push(`${formatPath([...path, 'templateFamily'])}: template ${template} is already used by ${first}`);
    }
    return problems;
  }

  /** Records `key` for `path`; returns the path that claimed it first, if any. */
  private claim(map: Map<string, string>, key: string, path: string[]): string | undefined {
    const first = map.get(key);
    if (first === undefined) map.set(key, formatPath(path));
    return first;
  }
}

// ---------------------------------------------------------------------------------------
// Normalising
// ---------------------------------------------------------------------------------------

/** The shape a config has once it passed the schema and the rules. */
interface RawConfig {
  aws: { region: string; endpoint?: string; ecsApiShare?: number; ecsApiLimits?: Partial<Record<ThrottlingCategory, BucketLimit>> };
  temporal?: { taskQueue?: string; uiUrl?: string; namespace?: string };
  deploy?: { budgetMinutes?: number; verifyBudgetMinutes?: number };
  environments: string[];
  apps: Record<string, RawApp>;
  github?: { repository: string; apiUrl?: string; tokenEnv?: string };
  authorization?: { team: string; allow?: string[]; protectedEnvironments?: string[] };
  identity?: {
    default?: IdentityMode;
    environments?: Record<string, IdentityMode>;
    operations?: IdentityConfig['operations'];
    oidc?: { issuer?: string; audience?: string; jwksUrl?: string; repository?: string; workflowRefs?: string[]; environments?: string[]; leewaySeconds?: number };
  };
  registries?: Record<string, { usernameEnv?: string; passwordEnv?: string; insecure?: boolean }>;
  notifications?: {
    slack?: { webhookUrlEnv: string; users?: Record<string, string>; maintainersMention?: string };
    githubDeployments?: boolean;
  };
}

interface RawApp {
  pipeline?: Partial<Omit<PipelineConfig, 'gate'>> & {
    gate?: { playwright?: Partial<NonNullable<NonNullable<PipelineConfig['gate']>['playwright']>> & { suiteDir: string }; githubWorkflow?: { workflow: string; ref?: string } };
  };
  releaseOnly?: boolean;
  images: Record<string, string>;
  environments?: Record<
    string,
    Omit<EnvironmentConfig, 'budgetMinutes' | 'testTraffic'> & {
      budgetMinutes?: number;
      testTraffic?: Partial<TestTraffic> & { versionEndpoint: string };
    }
  >;
}

function normalise(raw: RawConfig, source: string): SlipwayConfig {
  const deploy = {
    budgetMinutes: raw.deploy?.budgetMinutes ?? CONFIG_DEFAULTS.budgetMinutes,
    verifyBudgetMinutes: raw.deploy?.verifyBudgetMinutes ?? CONFIG_DEFAULTS.verifyBudgetMinutes,
  };
  const apps: Record<string, AppConfig> = {};
  for (const [name, app] of Object.entries(raw.apps)) apps[name] = normaliseApp(name, app, deploy.budgetMinutes);
  return {
    source,
    aws: {
      region: raw.aws.region,
      ...(raw.aws.endpoint !== undefined && { endpoint: raw.aws.endpoint }),
      ecsApiShare: raw.aws.ecsApiShare ?? CONFIG_DEFAULTS.ecsApiShare,
      ...(raw.aws.ecsApiLimits !== undefined && { ecsApiLimits: raw.aws.ecsApiLimits }),
    },
    temporal: {
      taskQueue: raw.temporal?.taskQueue ?? CONFIG_DEFAULTS.taskQueue,
      uiUrl: raw.temporal?.uiUrl ?? CONFIG_DEFAULTS.temporalUiUrl,
      namespace: raw.temporal?.namespace ?? CONFIG_DEFAULTS.temporalNamespace,
    },
    deploy,
    environments: [...raw.environments],
    apps,
    ...(raw.github && {
      github: {
        repository: raw.github.repository,
        owner: raw.github.repository.split('/')[0],
        repo: raw.github.repository.split('/')[1],
        apiUrl: (raw.github.apiUrl ?? 'https://api.github.com').replace(/\/$/, ''),
        tokenEnv: raw.github.tokenEnv ?? 'GITHUB_TOKEN',
      },
    }),
    ...(raw.authorization && {
      authorization: {
        org: raw.authorization.team.split('/')[0],
        team: raw.authorization.team.split('/')[1],
        allow: [...(raw.authorization.allow ?? [])],
        protectedEnvironments: [...(raw.authorization.protectedEnvironments ?? ['production'])],
      },
    }),
    identity: normaliseIdentity(raw),
    registries: Object.fromEntries(
      Object.entries(raw.registries ?? {}).map(([host, r]) => [host, { ...r, insecure: r.insecure ?? false }]),
    ),
    notifications: {
      ...(raw.notifications?.slack && { slack: { ...raw.notifications.slack, users: { ...(raw.notifications.slack.users ?? {}) } } }),
      githubDeployments: raw.notifications?.githubDeployments ?? false,
    },
  };
}

function normaliseIdentity(raw: RawConfig): IdentityConfig {
  const id = raw.identity;
  if (!id) return { ...TRUSTED_CALLER };
  const o = id.oidc;
  const issuer = (o?.issuer ?? 'https://token.actions.githubusercontent.com').replace(/\/$/, '');
  return {
    default: id.default ?? 'trusted-caller',
    environments: { ...(id.environments ?? {}) },
    operations: { ...(id.operations ?? {}) },
    ...(o && {
      oidc: {
        issuer,
        audience: o.audience ?? 'slipway',
        jwksUrl: o.jwksUrl ?? `${issuer}/.well-known/jwks`,
        repository: (o.repository ?? raw.github?.repository)!,
        workflowRefs: [...(o.workflowRefs ?? [])],
        environments: [...(o.environments ?? [])],
        leewaySeconds: o.leewaySeconds ?? 30,
      },
    }),
  };
}

function normaliseApp(name: string, app: RawApp, budgetMinutes: number): AppConfig {
  const environments: Record<string, EnvironmentConfig> = {};
  for (const [env, e] of Object.entries(app.environments ?? {})) {
    environments[env] = {
      cluster: e.cluster,
      service: e.service,
      templateFamily: e.templateFamily,
      containers: { ...e.containers },
      ...(e.url !== undefined && { url: e.url }),
      ...(e.versionEndpoint !== undefined && { versionEndpoint: e.versionEndpoint }),
      budgetMinutes: e.budgetMinutes ?? budgetMinutes,
      ...(e.stopType !== undefined && { stopType: e.stopType }),
      ...(e.testTraffic && {
        testTraffic: {
          versionEndpoint: e.testTraffic.versionEndpoint,
          ...(e.testTraffic.url !== undefined && { url: e.testTraffic.url }),
          playwright: e.testTraffic.playwright ?? false,
          approval: e.testTraffic.approval ?? false,
          deadlineMinutes: e.testTraffic.deadlineMinutes ?? 60,
        },
      }),
    };
  }
  return {
    name,
    releaseOnly: app.releaseOnly ?? CONFIG_DEFAULTS.releaseOnly,
    images: { ...app.images },
    environments,
    ...(app.pipeline && { pipeline: normalisePipeline(app.pipeline) }),
  };
}

function normalisePipeline(p: NonNullable<RawApp['pipeline']>): PipelineConfig {
  const pw = p.gate?.playwright;
  const gh = p.gate?.githubWorkflow;
  return {
    policy: p.policy ?? 'latest',
    approvals: p.approvals ?? 1,
    allowSelfApproval: p.allowSelfApproval ?? false,
    approvalDeadlineHours: p.approvalDeadlineHours ?? 72,
    autoApprove: p.autoApprove ?? false,
    imageWaitMinutes: p.imageWaitMinutes ?? 60,
    ...((pw || gh) && {
      gate: {
        ...(pw && { playwright: { ...pw, retries: pw.retries ?? 1, timeoutMinutes: pw.timeoutMinutes ?? 30 } }),
        ...(gh && { githubWorkflow: { workflow: gh.workflow, ref: gh.ref ?? 'main' } }),
      },
    }),
  };
}

// ---------------------------------------------------------------------------------------
// Lookups
// ---------------------------------------------------------------------------------------

/**
 * The deployment target for `app` in `env`. Throws `BadInput` naming the valid choices
 * when the app or environment is unknown, and refusing release-only apps.
 */
export function resolveTarget(config: SlipwayConfig, app: string, env: string): Target {
  const appConfig = findApp(config, app, 'deploy');
  if (appConfig.releaseOnly) {
    throw new BadInput(
      `${app} is release-only: Slipway tags and releases its images, but it is deployed elsewhere, not by Slipway.`,
      [`app: ${app} is release-only`],
    );
  }
  const envConfig = Object.hasOwn(appConfig.environments, env) ? appConfig.environments[env] : undefined;
  if (!envConfig) {
    const valid = Object.keys(appConfig.environments);
    throw new BadInput(
      `${app} has no environment "${env}"${suggestion(env, valid)}; its environments are: ${valid.join(', ')}.`,
      [`env: ${JSON.stringify(env)} is not one of ${valid.join(', ')}`],
    );
  }
  return toTarget(config, appConfig, env, envConfig);
}

function toTarget(config: SlipwayConfig, app: AppConfig, env: string, e: EnvironmentConfig): Target {
  return {
    app: app.name,
    env,
    region: config.aws.region,
    cluster: e.cluster,
    service: e.service,
    templateFamily: e.templateFamily,
    family: e.templateFamily.slice(0, -TEMPLATE_SUFFIX.length),
    containers: Object.entries(e.containers).map(([name, imageKey]) => ({ name, imageKey, repository: app.images[imageKey] })),
    images: Object.entries(app.images).map(([key, repository]) => ({ key, repository })),
    ...(e.url !== undefined && { url: e.url }),
    ...(e.versionEndpoint !== undefined && { versionEndpoint: e.versionEndpoint }),
    budgetSeconds: Math.round(e.budgetMinutes * 60),
    verifyBudgetSeconds: Math.round(config.deploy.verifyBudgetMinutes * 60),
    stopType: e.stopType ?? 'ROLLBACK',
    ...(e.testTraffic && {
      testTraffic: { ...e.testTraffic, ...(e.testTraffic.playwright && app.pipeline?.gate?.playwright && { playwrightGate: app.pipeline.gate.playwright }) },
    }),
  };
}

/** The images of an app (release-only apps included), in config order. */
export function appImages(config: SlipwayConfig, app: string): { key: string; repository: string }[] {
  const appConfig = findApp(config, app, 'release');
  return Object.entries(appConfig.images).map(([key, repository]) => ({ key, repository }));
}

/** Names of the apps Slipway deploys (not release-only), in config order. */
export function deployableApps(config: SlipwayConfig): string[] {
  return Object.values(config.apps)
    .filter((a) => !a.releaseOnly)
    .map((a) => a.name);
}

/**
 * Finds an app or throws `BadInput` naming the valid ones. For `deploy`, the list names the
 * deployable apps first and the release-only ones apart.
 */
function findApp(config: SlipwayConfig, app: string, purpose: 'deploy' | 'release'): AppConfig {
  const found = Object.hasOwn(config.apps, app) ? config.apps[app] : undefined;
  if (found) return found;
  const all = Object.keys(config.apps);
  const deployable = deployableApps(config);
  const releaseOnly = all.filter((a) => !deployable.includes(a));
  const choices =
    purpose === 'deploy'
      ? `apps that can be deployed: ${deployable.join(', ') || '(none)'}` +
        (releaseOnly.length > 0 ? ` (release-only: ${releaseOnly.join(', ')})` : '')
      : `apps: ${all.join(', ')}`;
  throw new BadInput(`unknown app "${app}"${suggestion(app, all)}; ${config.source} defines ${choices}.`, [
    `app: ${JSON.stringify(app)} is not one of ${all.join(', ')}`,
  ]);
}

/** ` (did you mean "production"?)` when one choice is close to what was typed, else ''. */
function suggestion(typed: string, choices: string[]): string {
  const close = choices.filter((c) => c.startsWith(typed) || typed.startsWith(c) || editDistance(c, typed) <= 2);
  return close.length === 1 && typed.length > 0 ? ` (did you mean "${close[0]}"?)` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length];
}
