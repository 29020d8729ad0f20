/** The normalised config: what the rest of Slipway reads once a config file has passed. */
import type { BucketLimit, ThrottlingCategory } from '../ecs-throttling';
import type { IdentityConfig } from '../identity';

/** ECS's events, delivered by an EventBridge rule to an SQS queue the worker reads (docs/ecs-events.md). */
export interface EcsEventsConfig {
  queueUrl: string;
  /** Override of the SQS endpoint URL, for sandboxes. */
  endpoint?: string;
  /** How often a rollout watched by events is still read, at least (seconds; longer when many deploys are in flight). */
  reconcileSeconds: number;
}

/** A config with every default applied. */
export interface SlipwayConfig {
  /** Where the config came from (a path, or a label such as `<inline>`). */
  source: string;
  aws: {
    region: string;
    endpoint?: string;
    /** Share of ECS's buckets for all workers together (the ECS task queues' rates). */
    ecsApiShare: number;
    /** Share for one worker process's own budget (default: ecsApiShare). */
    ecsApiWorkerShare?: number;
    ecsApiLimits?: Partial<Record<ThrottlingCategory, BucketLimit>>;
    events?: EcsEventsConfig;
  };
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
  /** Run against production after a promotion; a failure rolls production back. */
  productionSmoke?: {
    /** `retries` absent: the suite's own setting. */
    playwright: { suiteDir: string; grep?: string; baseUrlFrom?: string; apiUrlFrom?: string; taskQueue?: string; retries?: number; timeoutMinutes: number };
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
  /** The last environment in promotion order (`environments`): its deploys go before others' when ECS's budget is contended. */
  production?: true;
  /** Set when ECS's events reach the worker (`aws.events`): the rollout is watched by its events, and read to reconcile. */
  events?: { reconcileSeconds: number };
  /** The checks run while ECS holds the new revision on test traffic (a PAUSE hook at POST_TEST_TRAFFIC_SHIFT). */
  testTraffic?: TestTraffic & {
    /** The app's Playwright suite, when `playwright` is set. */
    playwrightGate?: NonNullable<NonNullable<PipelineConfig['gate']>['playwright']>;
  };
}

/** The suffix every template family carries and the rendered family drops. */
export const TEMPLATE_SUFFIX = '-template';
