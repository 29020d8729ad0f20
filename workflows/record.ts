/**
 * The record of validated releases of one app in one environment: a long-lived workflow
 * (`record/<app>/<env>`) that deploys signal when a release was deployed and verified.
 * Rollbacks read it to find the last release that was proven good. It continues as new
 * when its history grows, carrying its state.
 */
import { allHandlersFinished, condition, continueAsNew, setHandler, workflowInfo } from '@temporalio/workflow';
import { recordQuery, validatedSignal, type RecordState, type ValidatedRelease } from '../contract';

const KEEP = 50;

export async function releaseRecord(initial: RecordState): Promise<void> {
  const state: RecordState = { app: initial.app, env: initial.env, validated: [...initial.validated] };
  setHandler(validatedSignal, (release: ValidatedRelease) => {
    // The same deploy signalling twice (a retried activity) is recorded once.
    if (state.validated.some((r) => r.workflowId === release.workflowId && r.runId === release.runId)) return;
    state.validated.push(release);
    if (state.validated.length > KEEP) state.validated.splice(0, state.validated.length - KEEP);
  });
  setHandler(recordQuery, () => state);

  await condition(() => workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 2000);
  await condition(allHandlersFinished);
  await continueAsNew<typeof releaseRecord>(state);
}
