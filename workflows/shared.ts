/**
 * Definitions shared by workflows, activities and the CLI: inputs, results, progress,
 * queries, search attributes and failure types. Importing this file pulls in no workflow
 * code and no I/O, so the client can use it freely.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

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
  verificationFailed: 'VerificationFailed',
  failed: 'DeployFailed',
} as const;

/** Outcome values stored in the `Outcome` search attribute. */
export type Outcome =
  | 'running'
  | 'succeeded'
  | 'rolled_back_by_ecs'
  | 'timed_out'
  | 'verification_failed'
  | 'refused'
  | 'unauthorized'
  | 'cancelled'
  | 'failed';

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
  /** What asked for this deploy: authorisation and the record depend on it. Default 'deploy'. */
  operation?: 'deploy' | 'rollback' | 'redeploy';
}

export type DeployPhase =
  | 'preflight'
  | 'authorizing'
  | 'checking_images'
  | 'registering'
  | 'updating'
  | 'waiting'
  | 'rolling_back'
  | 'verifying'
  | 'succeeded'
  | 'rolled_back_by_ecs'
  | 'timed_out'
  | 'verification_failed'
  | 'refused'
  | 'unauthorized'
  | 'cancelled'
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
  /** The rollback or redeploy that runs this deploy as its child. */
  parentWorkflowId?: string;
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
  /** What the version endpoint reported at the end (absent when none is configured). */
  verified?: { url: string; release: string };
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

// ---- the record of validated releases (one long-lived workflow per app and environment) ----

/** A release that deployed successfully and was seen on the environment's version endpoint. */
export interface ValidatedRelease {
  tag: string;
  taskDefinitionArn: string;
  actor: string;
  /** Workflow that validated it (deploy/<app>/<env>) and its run. */
  workflowId: string;
  runId: string;
  /** ISO time the validation was recorded. */
  at: string;
  operation: 'deploy' | 'rollback' | 'redeploy';
}

export interface RecordState {
  app: string;
  env: string;
  /** Newest last; the last 50 are kept. */
  validated: ValidatedRelease[];
}

export const validatedSignal = defineSignal<[ValidatedRelease]>('validated');
export const recordQuery = defineQuery<RecordState>('record');

export function recordWorkflowId(app: string, env: string): string {
  return `record/${app}/${env}`;
}

// ---- rollback and redeploy ----

export interface RollbackInput {
  app: string;
  env: string;
  /** Target tag; without it, the last validated release other than what runs now. */
  tag?: string;
  actor: string;
  reason?: string;
  budgetSeconds?: number;
}

export interface RedeployInput {
  app: string;
  env: string;
  actor: string;
  reason?: string;
  budgetSeconds?: number;
}

export interface RollbackResult extends DeployResult {
  /** How the target was chosen. */
  chosen: 'explicit' | 'last-validated';
  /** The deploy this rollback cancelled, if one was in flight. */
  preempted?: { workflowId: string; runId: string; tag?: string };
}

export interface RedeployResult extends DeployResult {
  /** What the version endpoint reported before the redeploy. */
  reportedBy: string;
}

/** Sent to an in-flight deploy before it is cancelled, so its history says why. */
export interface PreemptNotice {
  by: string;
  actor: string;
  reason?: string;
}
export const preemptSignal = defineSignal<[PreemptNotice]>('preempt');

export function rollbackWorkflowId(app: string, env: string): string {
  return `rollback/${app}/${env}`;
}

export function redeployWorkflowId(app: string, env: string): string {
  return `redeploy/${app}/${env}`;
}

// ---- release ----

export interface ReleaseInput {
  app: string;
  /** The image tag to release: a commit SHA that exists for every image of the app. */
  tag: string;
  actor: string;
  /** Overrides the production deploy's wait budget (seconds). */
  budgetSeconds?: number;
}

export interface ReleaseResult {
  app: string;
  tag: string;
  /** `<app>-<YYYY.MM.DD.HH.MM.SS>` */
  name: string;
  releaseUrl: string;
  /** True when this request found the image already released and answered with that release. */
  existing: boolean;
  aliases: { repository: string; digest: string; created: boolean }[];
  /** Absent for release-only apps. */
  deploy?: DeployResult;
  changelogPr?: { number: number; url: string };
  releaseOnly: boolean;
}

export function releaseWorkflowId(app: string, tag: string): string {
  return `release/${app}/${tag}`;
}

// ---- pipeline (one long-lived workflow per app) ----

export type PipelinePhase =
  | 'idle'
  | 'paused'
  | 'waiting_for_images'
  | 'deploying_staging'
  | 'verifying_staging'
  | 'gating'
  | 'awaiting_approval'
  | 'promoting'
  | 'verifying_production';

export interface QueueEntry {
  sha: string;
  actor: string;
  title: string;
  /** ISO time the merge was reported. */
  at: string;
  status: 'waiting' | 'superseded' | 'refused' | 'cancelled' | 'candidate' | 'released' | 'rejected' | 'failed' | 'expired';
  note?: string;
}

export interface ApprovalRecord {
  approver: string;
  tag: string;
  at: string;
  decision: 'approve' | 'reject';
  reason?: string;
  /** Set when the approval or rejection was refused. */
  refused?: string;
  via: 'update' | 'signal';
}

export interface PipelineState {
  app: string;
  phase: PipelinePhase;
  paused: boolean;
  policy: 'latest' | 'fifo';
  candidate?: QueueEntry;
  queue: QueueEntry[];
  /** What the version endpoints last reported. */
  staging?: string;
  production?: string;
  lastValidated?: string;
  approvals: ApprovalRecord[];
  /** Finished cycles, newest last (the last 20). */
  history: { sha: string; outcome: string; at: string; note?: string }[];
}

export const pipelineStateQuery = defineQuery<PipelineState>('pipelineState');

export function pipelineWorkflowId(app: string): string {
  return `pipeline/${app}`;
}

export interface MergeReport {
  sha: string;
  actor: string;
  title: string;
}

export interface ApprovalRequest {
  /** The candidate's tag: approving anything else is refused. */
  tag: string;
  approver: string;
  reason?: string;
}

export interface QueueAction {
  sha?: string;
  actor: string;
  reason?: string;
}

/** GitHub Actions report each merge (signal-with-start: the first merge starts the pipeline). */
export const mergedSignal = defineSignal<[MergeReport]>('merged');
/** Approve or reject the candidate, with an answer (Update with a validator). */
export const approveUpdate = defineUpdate<ApprovalRecord, [ApprovalRequest]>('approve');
export const rejectUpdate = defineUpdate<ApprovalRecord, [ApprovalRequest]>('reject');
/** The same, fire-and-forget (e.g. the Temporal UI's "send signal"); refusals are recorded in the state. */
export const approveSignal = defineSignal<[ApprovalRequest]>('approveSignal');
export const rejectSignal = defineSignal<[ApprovalRequest]>('rejectSignal');
export const cancelEntryUpdate = defineUpdate<QueueEntry, [QueueAction]>('cancelEntry');
export const pauseUpdate = defineUpdate<PipelineState, [QueueAction]>('pause');
export const resumeUpdate = defineUpdate<PipelineState, [QueueAction]>('resume');
