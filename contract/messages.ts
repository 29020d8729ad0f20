/**
 * The queries, signals and updates the workflows accept. Their names are part of recorded
 * histories: renaming one breaks the replay of running workflows.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ApprovalRecord,
  ApprovalRequest,
  DeployProgress,
  EcsEventNotice,
  MergeReport,
  PipelineState,
  PreemptNotice,
  QueueAction,
  QueueEntry,
  RecordState,
  ValidatedRelease,
  WithdrawalReport,
} from './types';

// ---- deploy ----

export const progressQuery = defineQuery<DeployProgress>('progress');
export const preemptSignal = defineSignal<[PreemptNotice]>('preempt');
/** An event ECS emitted about the deploy's service, routed by the worker that read it from SQS. */
export const ecsEventSignal = defineSignal<[EcsEventNotice]>('ecsEvent');

// ---- the record of validated releases ----

export const validatedSignal = defineSignal<[ValidatedRelease]>('validated');
export const recordQuery = defineQuery<RecordState>('record');
/** A validated release that failed afterwards (the pipeline's production smoke suite): rollbacks no longer pick it. */
export const withdrawnSignal = defineSignal<[WithdrawalReport]>('withdrawn');

// ---- pipeline ----

export const pipelineStateQuery = defineQuery<PipelineState>('pipelineState');
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
