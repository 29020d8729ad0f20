/**
 * The record of validated releases of one app in one environment: a long-lived workflow
 * (`record/<app>/<env>`) that deploys signal when a release was deployed and verified.
 * Rollbacks read it to find the last release that was proven good, so it believes no
 * message: a report only names a deploy execution, and the entry is taken from that
 * execution itself (completed, verified that tag, for this app and environment), read by
 * an activity. Reports that do not hold are kept as refused, with the reason. A release
 * that failed afterwards (the pipeline's production smoke suite) is withdrawn once that
 * pipeline's own state confirms it, so no rollback picks it again. It continues
 * as new when its history grows, carrying its state.
 */
import { allHandlersFinished, ApplicationFailure, condition, continueAsNew, patched, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { clip } from '../domain/input';
import { tagProblem } from '../domain/tags';
import { lockProblem, messageOf } from './failures';
import { FailureType, recordQuery, recordWorkflowId, validatedSignal, withdrawnSignal, type RecordState, type RefusedValidation, type ValidatedRelease } from '../contract';

const KEEP = 50;
const KEEP_REFUSED = 20;
/** Reports being confirmed at once; more are refused (a deploy reports once per run). */
const MAX_PENDING = 20;
/** Records started before reports were confirmed replay taking them as they came. */
const PATCH_CONFIRM = 'record-confirms-validated-releases';

const { confirmValidated, confirmWithdrawal } = proxyActivities<Activities>({
  // Waits for the reporting deploy to complete (it reports just before it does).
  startToCloseTimeout: '12m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: ['BadInput', 'NotFound'] },
});

export async function releaseRecord(initial: RecordState): Promise<void> {
  const confirming = patched(PATCH_CONFIRM);
  if (confirming) {
    if (!initial || typeof initial.app !== 'string' || typeof initial.env !== 'string') {
      throw ApplicationFailure.create({ type: FailureType.badInput, message: 'a record of validated releases starts from { app, env, validated: [] }', nonRetryable: true });
    }
    const lock = lockProblem(`the record of ${initial.app} in ${initial.env}`, recordWorkflowId(initial.app, initial.env));
    if (lock) throw ApplicationFailure.create({ type: FailureType.badInput, message: `refused: ${lock}`, nonRetryable: true });
    // Only the record itself carries entries over (continue-as-new); anyone else starts it empty.
    const carried = workflowInfo().continuedFromExecutionRunId !== undefined;
    if (!carried && (!Array.isArray(initial.validated) || initial.validated.length > 0)) {
      throw ApplicationFailure.create({
        type: FailureType.badInput,
        message: `refused: a record of validated releases starts empty (validated: []); releases enter it only when the deploy that verified them reports it`,
        nonRetryable: true,
      });
    }
  }
  const state: RecordState = {
    app: initial.app,
    env: initial.env,
    validated: [...(initial.validated ?? [])],
    ...(confirming && { pending: [], refused: [...(initial.refused ?? [])].slice(-KEEP_REFUSED) }),
    ...(initial.withdrawn && { withdrawn: [...initial.withdrawn].slice(-KEEP_REFUSED) }),
  };
  const known = (r: { workflowId: string; runId: string }) => [...state.validated, ...(state.pending ?? [])].some((v) => v.workflowId === r.workflowId && v.runId === r.runId);
  const accept = (release: ValidatedRelease) => {
    if (known(release)) return;
    // Newest last, by when the deploy completed.
    const at = state.validated.findIndex((v) => v.at > release.at);
    if (at < 0) state.validated.push(release);
    else state.validated.splice(at, 0, release);
    if (state.validated.length > KEEP) state.validated.splice(0, state.validated.length - KEEP);
  };
  const refuse = (report: unknown, reason: string) => {
    const r = (typeof report === 'object' && report !== null ? report : {}) as Record<string, unknown>;
    const entry: RefusedValidation = { at: new Date().toISOString(), reason: clip(reason, 500) };
    if (typeof r.workflowId === 'string') entry.workflowId = clip(r.workflowId, 200);
    if (typeof r.runId === 'string') entry.runId = clip(r.runId, 64);
    if (typeof r.tag === 'string') entry.tag = clip(r.tag, 128);
    state.refused!.push(entry);
    if (state.refused!.length > KEEP_REFUSED) state.refused!.splice(0, state.refused!.length - KEEP_REFUSED);
  };

  setHandler(validatedSignal, async (report: unknown) => {
    if (!confirming) {
      // Earlier records: the same deploy signalling twice (a retried activity) is recorded once.
      const release = report as ValidatedRelease;
      if (reportProblem(report) || known(release)) return;
      state.validated.push(release);
      if (state.validated.length > KEEP) state.validated.splice(0, state.validated.length - KEEP);
      return;
    }
    const problem = reportProblem(report);
    if (problem) return refuse(report, problem);
    const release = report as ValidatedRelease;
    const same = [...state.validated, ...state.pending!].find((v) => v.workflowId === release.workflowId && v.runId === release.runId);
    if (same && same.tag === release.tag && same.taskDefinitionArn === release.taskDefinitionArn) return; // a retried report of the same deploy
    if (same) return refuse(release, `run ${release.runId} of ${release.workflowId} is recorded with '${same.tag}' (${same.taskDefinitionArn}); this report says otherwise`);
    if (state.pending!.length >= MAX_PENDING) return refuse(release, `${MAX_PENDING} reports are being confirmed already`);
    state.pending!.push(release);
    try {
      const check = await confirmValidated({ app: state.app, env: state.env, release });
      state.pending = state.pending!.filter((p) => p !== release);
      if (check.ok) accept(check.release);
      else refuse(release, check.reason);
    } catch (err) {
      state.pending = state.pending!.filter((p) => p !== release);
      refuse(release, `could not be confirmed: ${messageOf(err)}`);
    }
  });
  // A release that failed afterwards leaves `validated` once the pipeline that saw it fail confirms it.
  setHandler(withdrawnSignal, async (report: unknown) => {
    if (!confirming) return; // records of earlier versions take no withdrawals
    const r = (typeof report === 'object' && report !== null ? report : {}) as Record<string, unknown>;
    const problem =
      (tagProblem(r.tag) ? `tag: ${tagProblem(r.tag)}` : undefined) ??
      (typeof r.workflowId === 'string' && r.workflowId.length <= 1000 ? undefined : 'workflowId must be text of at most 1000 characters') ??
      (typeof r.reason === 'string' ? undefined : 'reason must be text');
    if (problem) return refuse(report, `withdrawal refused: ${problem}`);
    const withdrawal = { tag: r.tag as string, workflowId: r.workflowId as string, reason: clip(r.reason as string, 500) };
    try {
      const check = await confirmWithdrawal({ app: state.app, report: withdrawal });
      if (!check.ok) return refuse(report, `withdrawal refused: ${check.reason}`);
    } catch (err) {
      return refuse(report, `withdrawal could not be confirmed: ${messageOf(err)}`);
    }
    state.validated = state.validated.filter((v) => v.tag !== withdrawal.tag);
    state.withdrawn = [...(state.withdrawn ?? []), { ...withdrawal, at: new Date().toISOString() }].slice(-KEEP_REFUSED);
  });
  setHandler(recordQuery, () => state);

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2000);
  await condition(allHandlersFinished);
  await continueAsNew<typeof releaseRecord>(state);
}

const OPERATIONS = ['deploy', 'rollback', 'redeploy'];

/** What is wrong with the shape of a `validated` report, or undefined. */
export function reportProblem(report: unknown): string | undefined {
  if (typeof report !== 'object' || report === null || Array.isArray(report))
    return `a report must be an object naming the deploy (workflowId, runId, tag, …); got ${report === null ? 'null' : Array.isArray(report) ? 'a list' : typeof report}`;
  const r = report as Record<string, unknown>;
  const text = (key: string, max: number) =>
    typeof r[key] === 'string' && (r[key] as string).length > 0 && (r[key] as string).length <= max ? undefined : `${key} must be text of 1 to ${max} characters`;
  return (
    (tagProblem(r.tag) ? `tag: ${tagProblem(r.tag)}` : undefined) ??
    text('workflowId', 1000) ??
    text('runId', 64) ??
    text('taskDefinitionArn', 2048) ??
    text('actor', 64) ??
    text('at', 64) ??
    (OPERATIONS.includes(r.operation as string) ? undefined : `operation must be one of ${OPERATIONS.join(', ')}`)
  );
}
