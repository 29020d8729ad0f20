/**
 * Inputs, results, progress and state of the workflows: what a caller passes, what comes
 * back, and what a query shows while an operation runs.
 */
import type { ProgressEvent } from './progress';
import type { Outcome } from './search-attributes';

export interface DeployInput {
  app: string;
  env: string;
  /** Image tag to deploy (usually a full commit SHA). */
  tag: string;
  /** GitHub login of the person or bot asking for the deploy. */
  actor: string;
  /**
   * A GitHub Actions OIDC ID token proving the actor (required where the identity mode is
   * `oidc`). Short-lived and bound to the configured audience; never shown or returned.
   */
  idToken?: string;
  reason?: string;
  /** Overrides the configured wait budget (seconds). */
  budgetSeconds?: number;
  /** What asked for this deploy: authorisation and the record depend on it. Default 'deploy'. */
  operation?: 'deploy' | 'rollback' | 'redeploy';
  /**
   * Re-point the service at this exact task definition (a revision that was proven for
   * `tag`) instead of rendering and registering one.
   */
  taskDefinitionArn?: string;
}

export type DeployPhase =
  | 'preflight'
  | 'authorizing'
  | 'checking_images'
  | 'registering'
  | 'updating'
  | 'waiting'
  /** ECS holds the new revision on test traffic (a PAUSE hook): Slipway checks it there. */
  | 'gating'
  | 'rolling_back'
  | 'verifying'
  /** Where it ended: the same values as the `Outcome` search attribute. */
  | Exclude<Outcome, 'running'>;

export interface TaskCounts {
  desired: number;
  running: number;
  pending: number;
  failed: number;
  /** Set when the counts are of another revision than the deploy's (what runs during and after an ECS rollback). */
  revision?: string;
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
  /** How the service deploys (strategy, bake, hooks, alarms), read before the update. */
  strategy?: string;
  /** The wait budget and what it is made of. */
  budget?: { seconds: number; breakdown: string };
  /** The service deployment's lifecycle stage as ECS reports it (BLUE_GREEN, LINEAR, CANARY). */
  lifecycleStage?: string;
  /** Traffic weights (percent) ECS requested for the new revision. */
  traffic?: { production: number; test: number };
  /** ISO time production traffic was fully on the new revision (a milestone). */
  trafficShiftedAt?: string;
  /** Set when Slipway ended the ECS deployment it started (StopServiceDeployment). */
  stoppedEcsDeployment?: 'ROLLBACK' | 'ABORT';
  /** The checks on test traffic while ECS held the new revision at a PAUSE hook. */
  gate?: TestGateProgress;
  /** Service events seen since this deploy's UpdateService, oldest first (the last 50). */
  events: string[];
  /** Reasons given for stopped tasks of this deploy's revision. */
  stoppedReasons: string[];
  /** Typed progress events, one per change, oldest first (the last 100). */
  entries: ProgressEvent[];
  /** Number of events ever emitted (so a follower can ask only for what is new). */
  entryCount: number;
  /** `entries` in words (domain/progress-text.ts), for readers that predate them. */
  log: string[];
  /** = `entryCount`. */
  logCount: number;
  /** The rollback or redeploy that runs this deploy as its child. */
  parentWorkflowId?: string;
}

/** The checks Slipway runs on test traffic while a PAUSE hook at POST_TEST_TRAFFIC_SHIFT holds the deployment. */
export interface TestGateProgress {
  state: 'checking' | 'awaiting_approval' | 'passed' | 'failed';
  hookId: string;
  /** ISO time by which the checks must pass (then ROLLBACK). */
  deadline: string;
  /** Why it failed. */
  reason?: string;
  /** How Slipway answered the hook (ContinueServiceDeployment). */
  answered?: 'CONTINUE' | 'ROLLBACK';
  /** Approvals and rejections of the tag on test traffic, refused ones included. */
  approvals: ApprovalRecord[];
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
  /** Newest last; the last 50 are kept. Each was confirmed against the deploy that it names. */
  validated: ValidatedRelease[];
  /** Reported, being confirmed against the deploy execution (absent in records of earlier versions). */
  pending?: ValidatedRelease[];
  /** Reports that were not accepted, and why (newest last; the last 20 are kept). */
  refused?: RefusedValidation[];
  /** Releases taken out of `validated` because they failed afterwards (newest last; the last 20 are kept). */
  withdrawn?: (WithdrawalReport & { at: string })[];
}

/**
 * A validated release that failed afterwards, reported by the pipeline that saw it fail
 * (`workflowId`); the record confirms it in that pipeline's own state before taking the
 * release out of `validated`.
 */
export interface WithdrawalReport {
  tag: string;
  workflowId: string;
  reason: string;
}

/** A `validated` signal the record did not accept. */
export interface RefusedValidation {
  at: string;
  /** The execution the signal named, as far as it could be read (shortened). */
  workflowId?: string;
  runId?: string;
  tag?: string;
  reason: string;
}

/** What the confirmation of a reported validated release found in the deploy's own execution. */
export type ValidationCheck = { ok: true; release: ValidatedRelease } | { ok: false; reason: string };

// ---- rollback and redeploy ----

export interface RollbackInput {
  app: string;
  env: string;
  /** Target tag; without it, the last validated release other than what runs now. */
  tag?: string;
  actor: string;
  /**
   * A GitHub Actions OIDC ID token proving the actor (required where the identity mode is
   * `oidc`). Short-lived and bound to the configured audience; never shown or returned.
   */
  idToken?: string;
  reason?: string;
  budgetSeconds?: number;
  /**
   * Render and register the current template for the tag (today's template, e.g. after a
   * template fix) instead of re-pointing the service at the revision that was validated.
   */
  rerender?: boolean;
}

export interface RedeployInput {
  app: string;
  env: string;
  actor: string;
  /**
   * A GitHub Actions OIDC ID token proving the actor (required where the identity mode is
   * `oidc`). Short-lived and bound to the configured audience; never shown or returned.
   */
  idToken?: string;
  reason?: string;
  budgetSeconds?: number;
}

export interface RollbackResult extends DeployResult {
  /** How the target was chosen. */
  chosen: 'explicit' | 'last-validated';
  /** The deploy this rollback cancelled, if one was in flight. */
  preempted?: PreemptedDeploy;
  /**
   * How the service got back: ECS rolled the stopped deployment back to the target's
   * revision (`stopped-and-rolled-back`), the service was pointed at the validated revision
   * (`re-pointed`), or a revision was rendered and registered (`rendered`). Absent in
   * results of earlier versions.
   */
  how?: 'stopped-and-rolled-back' | 're-pointed' | 'rendered';
}

/** A deploy a rollback cancelled, and how it left ECS. */
export interface PreemptedDeploy {
  workflowId: string;
  runId: string;
  tag?: string;
  /** The ECS service deployment it had started. */
  serviceDeploymentArn?: string;
  /** Set when it ended that deployment (StopServiceDeployment) as it was cancelled. */
  stoppedEcsDeployment?: 'ROLLBACK' | 'ABORT';
}

/**
 * A rollback to the last validated release that found the environment already running it
 * (typically right after ECS rolled a later deploy back): an answer, nothing changed.
 */
export interface RollbackUnneeded {
  outcome: 'already_running';
  app: string;
  env: string;
  /** The last validated release, which runs now. */
  tag: string;
  /** Its validated revision, which the service runs. */
  taskDefinitionArn: string;
  /** ISO time it has run again since: when the deploy after it ended (or when it was validated). */
  since: string;
  validated: ValidatedRelease;
  /** The deploy after it that did not take over. */
  after?: { workflowId: string; runId: string; tag?: string; outcome?: string };
  /** The answer, in words. */
  message: string;
}

/** What a rollback returns: the deploy it ran, or the answer that none was needed. */
export type RollbackAnswer = RollbackResult | RollbackUnneeded;

/** The newest execution of `deploy/<app>/<env>`, as Temporal describes it. */
export interface LatestDeploy {
  workflowId: string;
  runId: string;
  /** RUNNING, COMPLETED, FAILED, CANCELLED, … */
  status: string;
  closeTime?: string;
  tag?: string;
  outcome?: string;
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

/**
 * An ECS event (EventBridge `detail-type` "ECS Deployment State Change" or "ECS Service
 * Action") about a deploy's service. At least once and in any order: `id` (EventBridge's)
 * tells a redelivery from a new event.
 */
export interface EcsEventNotice {
  id: string;
  detailType: string;
  /** `detail.eventName`: SERVICE_DEPLOYMENT_COMPLETED, SERVICE_STEADY_STATE, ... */
  name: string;
  /** `detail.deploymentId` (the `ecs-svc/...` ID DescribeServices shows), for deployment state changes. */
  deploymentId?: string;
  reason?: string;
  /** When ECS says it happened (`detail.updatedAt`, else `detail.createdAt`, else the envelope's `time`). */
  at: string;
  /** When the worker routed it (ISO time), for detection latency. */
  routedAt: string;
}

// ---- release ----

export interface ReleaseInput {
  app: string;
  /** The image tag to release: a commit SHA that exists for every image of the app. */
  tag: string;
  actor: string;
  /**
   * A GitHub Actions OIDC ID token proving the actor (required where the identity mode is
   * `oidc`). Short-lived and bound to the configured audience; never shown or returned.
   */
  idToken?: string;
  /** Overrides the production deploy's wait budget (seconds). */
  budgetSeconds?: number;
  /**
   * The caller deploys production itself, alongside this release (the pipeline, so that an
   * approval reaches production at once): the release only tags, writes the notes, aliases
   * the images and opens the changelog pull request.
   */
  productionByCaller?: boolean;
}

export interface ReleaseResult {
  app: string;
  tag: string;
  /** `<app>-<YYYY.MM.DD.HH.MM.SS>` */
  name: string;
  releaseUrl: string;
  /** The GitHub Release's ID (to mark it failed later). */
  releaseId?: number;
  /** True when this request found the image already released and answered with that release. */
  existing: boolean;
  aliases: { repository: string; digest: string; created: boolean }[];
  /** Absent for release-only apps. */
  deploy?: DeployResult;
  changelogPr?: { number: number; url: string };
  releaseOnly: boolean;
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
  | 'verifying_production'
  | 'smoke_testing_production'
  | 'rolling_back_production';

export interface QueueEntry {
  sha: string;
  /** The merger the report named. */
  actor: string;
  /** Who merged it as GitHub records it (the pull request's `merged_by`), once it is the candidate; absent for a direct push or without GitHub. */
  mergedBy?: string;
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
  /** Set when a verified ID token proved the approver (never the token itself). */
  proven?: ProvenActor;
}

/** What a verified ID token proved about who acted. */
export interface ProvenActor {
  actor: string;
  /** Who started the GitHub Actions run, when not the actor (a re-run). */
  triggeringActor?: string;
  workflowRef?: string;
  runId?: string;
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
  /**
   * A GitHub Actions OIDC ID token proving the actor (required where the identity mode is
   * `oidc`). Short-lived and bound to the configured audience; never shown or returned.
   */
  idToken?: string;
}

export interface QueueAction {
  sha?: string;
  actor: string;
  reason?: string;
  /**
   * A GitHub Actions OIDC ID token proving the actor (required where the identity mode is
   * `oidc`). Short-lived and bound to the configured audience; never shown or returned.
   */
  idToken?: string;
}
