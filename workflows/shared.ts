/**
 * Definitions shared by workflows, activities and the CLI: inputs, results, progress,
 * queries, search attributes and failure types. Importing this file pulls in no workflow
 * code and no I/O, so the client can use it freely.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery } from '@temporalio/workflow';

export const DEFAULT_TASK_QUEUE = 'slipway';

/** Custom search attributes; the dev server registers them at start (scripts/temporal-dev.ts). */
export const SA = {
  operation: defineSearchAttributeKey('SlipwayOperation', SearchAttributeType.KEYWORD),
  app: defineSearchAttributeKey('App', SearchAttributeType.KEYWORD),
  env: defineSearchAttributeKey('Env', SearchAttributeType.KEYWORD),
  tag: defineSearchAttributeKey('ImageTag', SearchAttributeType.KEYWORD),
  actor: defineSearchAttributeKey('Actor', SearchAttributeType.KEYWORD),
  outcome: defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD),
} as const;

/** `--search-attribute` arguments for `temporal server start-dev` / `temporal operator search-attribute create`. */
export const SEARCH_ATTRIBUTE_DECLARATIONS = Object.values(SA).map((k) => `${k.name}=Keyword`);

/** Failure types a deploy can end with (ApplicationFailure.type). The CLI maps each to an exit code. */
export const FailureType = {
  badInput: 'BadInput',
  notFound: 'NotFound',
  unauthorized: 'Unauthorized',
  clientRejected: 'ClientRejected',
  rolledBack: 'RolledBackByEcs',
  timedOut: 'DeployTimedOut',
  failed: 'DeployFailed',
} as const;

/** Outcome values stored in the `Outcome` search attribute. */
export type Outcome = 'running' | 'succeeded' | 'rolled_back_by_ecs' | 'timed_out' | 'refused' | 'failed';

export interface DeployInput {
  app: string;
  env: string;
  /** Image tag to deploy (usually a full commit SHA). */
  tag: string;
  /** GitHub login of the person or bot asking for the deploy. */
  actor: string;
  reason?: string;
  /** Overrides the configured wait budget (seconds). */
  budgetSeconds?: number;
}

export type DeployPhase =
  | 'preflight'
  | 'registering'
  | 'updating'
  | 'waiting'
  | 'rolling_back'
  | 'succeeded'
  | 'rolled_back_by_ecs'
  | 'timed_out'
  | 'refused'
  | 'failed';

export interface TaskCounts {
  desired: number;
  running: number;
  pending: number;
  failed: number;
}

/** What the deploy shows while it runs (query `progress`, and the UI's current details). */
export interface DeployProgress {
  app: string;
  env: string;
  tag: string;
  actor: string;
  phase: DeployPhase;
  cluster?: string;
  service?: string;
  taskDefinitionArn?: string;
  serviceDeploymentArn?: string;
  serviceDeploymentStatus?: string;
  counts?: TaskCounts;
  /** Service events seen since this deploy's UpdateService, oldest first (the last 50). */
  events: string[];
  /** Reasons given for stopped tasks of this deploy's revision. */
  stoppedReasons: string[];
  /** Human-readable lines, one per change, oldest first (the last 100). */
  log: string[];
  /** Number of log lines ever written (so a follower can ask only for what is new). */
  logCount: number;
}

export interface DeployResult {
  outcome: 'succeeded';
  app: string;
  env: string;
  tag: string;
  taskDefinitionArn: string;
  revision: number;
  serviceDeploymentArn: string;
  counts: TaskCounts;
}

/** Details attached to a failed deploy (ApplicationFailure details[0]). */
export interface DeployFailureDetails {
  outcome: Exclude<Outcome, 'running' | 'succeeded'>;
  app: string;
  env: string;
  tag: string;
  taskDefinitionArn?: string;
  serviceDeploymentArn?: string;
  reasons: string[];
}

export const progressQuery = defineQuery<DeployProgress>('progress');

/** Workflow ID of a deploy: one deployment per service at a time. */
export function deployWorkflowId(app: string, env: string): string {
  return `deploy/${app}/${env}`;
}

/** Workflow ID prefix for the one-line summary shown in the Temporal UI. */
export function deploySummary(input: Pick<DeployInput, 'app' | 'env' | 'tag' | 'actor'>, shortTag: (t: string) => string): string {
  return `deploy ${input.app} ${shortTag(input.tag)} → ${input.env} by @${input.actor}`;
}
