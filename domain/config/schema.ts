/** The config's JSON Schema (draft-07): the source of the generated validator and of docs/config-reference.md. */
import { THROTTLING_CATEGORIES } from '../ecs-throttling';
import { IDENTITY_MODES, PROTECTED_OPERATIONS } from '../identity';
import { CONFIG_DEFAULTS, ECS_NAME, ENV_VAR, GITHUB_LOGIN, GITHUB_SLUG, HTTP_URL, NAME, REGION, REGISTRY_HOST, REPOSITORY, TEMPLATE_FAMILY } from './defaults';

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
      description: 'Name of the ECS service to update. Each (cluster, service) pair may appear only once in the whole config.',
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
      description: 'URL answering JSON with the running release (`{"release": "<sha>"}`); checked after a deploy to confirm the new version is live.',
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

/** A Playwright suite run against `env`'s urls: the staging gate, the production smoke suite. */
function playwrightSuiteSchema(env: string, description: string, more: Record<string, JsonSchema>): JsonSchema {
  return {
    type: 'object',
    description,
    required: ['suiteDir'],
    additionalProperties: false,
    properties: {
      suiteDir: {
        type: 'string',
        minLength: 1,
        description: 'Directory of the Playwright project (with playwright.config.*), on the gate workers, relative to their working directory.',
      },
      grep: { type: 'string', minLength: 1, description: 'Only tests matching this (Openverse: @deployment-smoketest).' },
      baseUrlFrom: { type: 'string', pattern: NAME, description: `App whose ${env} \`url\` is PLAYWRIGHT_BASE_URL (default: this app).` },
      apiUrlFrom: { type: 'string', pattern: NAME, description: `App whose ${env} \`url\` is passed as API_URL (the live API).` },
      taskQueue: { type: 'string', minLength: 1, description: 'Task queue of the workers that have a browser (default: the main task queue).' },
      ...more,
    },
  };
}

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
      description:
        '`latest`: the newest waiting merge by git ancestry on the default branch goes next and the waiting merges it contains are marked superseded; `fifo`: every merge in arrival order (noted when that differs from git order). A commit not on the default branch is refused.',
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
        playwright: playwrightSuiteSchema('staging', "Run the team's Playwright suite against staging (PLAYWRIGHT_BASE_URL = the staging url of `baseUrlFrom`).", {
          retries: { type: 'integer', exclusiveMinimum: -1, maximum: 5, default: 1, description: 'Retries per test; a test that passes on retry counts as flaky.' },
          timeoutMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 240, default: 30, description: 'How long the suite may run.' },
        }),
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
    productionSmoke: {
      type: 'object',
      description:
        "The smoke suite run against production once it reports the promoted release. On a failure production is rolled back to the previous validated release (its exact revision), the release's GitHub Release is marked failed and the maintainers are told; a test that passed on a retry is reported as flaky, not failed. A suite that cannot run counts as failed. Leave out for none.",
      required: ['playwright'],
      additionalProperties: false,
      properties: {
        playwright: playwrightSuiteSchema(
          'production',
          "Run the team's Playwright suite against production (PLAYWRIGHT_BASE_URL = the production url of `baseUrlFrom`, EXPECTED_RELEASE = the promoted release).",
          {
            retries: {
              type: 'integer',
              exclusiveMinimum: -1,
              maximum: 5,
              description: "Retries per test; a test that passes on retry counts as flaky. Default: the suite's own setting (its playwright.config).",
            },
            timeoutMinutes: { type: 'number', exclusiveMinimum: 0, maximum: 240, default: 15, description: 'How long the suite may run.' },
          },
        ),
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
      description: 'When true, Slipway only tags and releases the images; the app is deployed elsewhere (e.g. by Terraform) and must not have `environments`.',
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
        'Where the app is deployed: environment name (one of the top-level `environments`) → target. ' + 'Required, with at least one entry, unless `releaseOnly` is true.',
      propertyNames: { title: 'env', type: 'string', pattern: NAME, description: 'An environment listed in the top-level `environments`.' },
      additionalProperties: environmentSchema,
    },
  },
};

const githubSchema: JsonSchema = {
  type: 'object',
  description: "The GitHub repository Slipway authorises against and reports to. The token comes from the worker's environment.",
  required: ['repository'],
  additionalProperties: false,
  properties: {
    repository: {
      type: 'string',
      pattern: GITHUB_SLUG,
      description: 'owner/name of the repository (releases, changelog pull requests, deployments).',
      examples: ['WordPress/openverse'],
    },
    apiUrl: { type: 'string', pattern: HTTP_URL, default: 'https://api.github.com', description: 'GitHub API base URL (GitHub Enterprise, or a sandbox).' },
    tokenEnv: {
      type: 'string',
      pattern: ENV_VAR,
      default: 'GITHUB_TOKEN',
      description: 'Name of the worker environment variable holding the GitHub token (needs read:org for team membership).',
    },
  },
};

const authorizationSchema: JsonSchema = {
  type: 'object',
  description: 'Who may roll back, release, and deploy to protected environments: members of a GitHub team, or allowed bots. Without this section nobody is checked.',
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
      description: "Environment → mode of every protected operation that targets it (a pipeline's approvals and control target its production).",
      propertyNames: { title: 'env', type: 'string', pattern: NAME, description: 'An environment name.' },
      additionalProperties: identityModeSchema,
      examples: [{ production: 'oidc' }],
    },
    operations: {
      type: 'object',
      description: 'Operation → mode, overriding `environments`.',
      additionalProperties: false,
      properties: Object.fromEntries(
        PROTECTED_OPERATIONS.map((op) => [
          op,
          {
            ...identityModeSchema,
            description: `Mode of ${op === 'pipeline' ? 'pipeline pause, resume and cancel' : op === 'approve' ? 'pipeline approvals and rejections' : `${op}s`}.`,
          },
        ]),
      ),
    },
    oidc: {
      type: 'object',
      description: 'The OIDC issuer whose ID tokens prove the actor: GitHub Actions by default.',
      additionalProperties: false,
      properties: {
        issuer: { type: 'string', pattern: HTTP_URL, default: 'https://token.actions.githubusercontent.com', description: 'Expected `iss` of the token.' },
        audience: { type: 'string', minLength: 1, maxLength: 200, default: 'slipway', description: 'Expected `aud`: the CLI asks GitHub for a token with this audience.' },
        jwksUrl: { type: 'string', pattern: HTTP_URL, description: 'Where the issuer publishes its signing keys. Default: `<issuer>/.well-known/jwks`.' },
        repository: {
          type: 'string',
          pattern: GITHUB_SLUG,
          description: "owner/name whose workflows may act (the token's `repository`). Default: `github.repository`.",
          examples: ['WordPress/openverse'],
        },
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
      passwordEnv: {
        type: 'string',
        pattern: ENV_VAR,
        description: 'Environment variable holding the password or token (for GHCR: a token with read:packages, write:packages to alias).',
      },
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
            "Share of each of ECS's per-account, per-Region API rate limits (one token bucket per throttling category) that Slipway may use, all its workers together; the rest stays for other tools in the account. Temporal holds it across workers: the activities that call ECS run on task queues it rate-limits at this share (`<taskQueue>-ecs-register`, `-ecs-update`, `-ecs-read`). Throttling answers shrink a worker's own budget for a while.",
          examples: [0.3],
        },
        ecsApiWorkerShare: {
          type: 'number',
          exclusiveMinimum: 0,
          maximum: 1,
          description:
            "Share of each of ECS's buckets (burst and rate) that one worker process's own budget may use, which holds its bursts and reacts to throttling. Default: `ecsApiShare`. With N workers, `ecsApiShare` ÷ N splits it strictly between them, bursts included.",
          examples: [0.25],
        },
        ecsApiLimits: {
          type: 'object',
          description: `ECS's API rate limits for this account where they differ from the documented ones (raised through Service Quotas), per throttling category: ${THROTTLING_CATEGORIES.join(', ')}.`,
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
        events: {
          type: 'object',
          description:
            'ECS\'s events ("ECS Deployment State Change", "ECS Service Action"), delivered by an EventBridge rule to an SQS queue that every worker reads (docs/ecs-events.md). Rolling deployments are then watched by their events and read only to reconcile, so outcomes are seen when ECS emits them and a fleet of deploys stays inside ECS\'s API limits. Without this section rollouts are watched by reading.',
          required: ['queueUrl'],
          additionalProperties: false,
          properties: {
            queueUrl: {
              type: 'string',
              pattern: HTTP_URL,
              description: 'URL of the SQS queue the EventBridge rule delivers to.',
              examples: ['https://sqs.us-east-1.amazonaws.com/123456789012/slipway-ecs-events'],
            },
            endpoint: {
              type: 'string',
              pattern: HTTP_URL,
              description: 'Override of the SQS endpoint URL, for sandboxes. Leave out for real AWS.',
              examples: ['http://localhost:5000'],
            },
            reconcileSeconds: {
              type: 'number',
              exclusiveMinimum: 0,
              maximum: 600,
              default: CONFIG_DEFAULTS.eventsReconcileSeconds,
              description:
                "A rollout watched by events is still read at least this often, in case an event is late or lost. With many deploys in flight the reads are spaced further, to stay inside the share of ECS's service-read limit.",
            },
          },
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
