/**
 * Metrics recorded by workflow code, through the SDK's workflow metric meter: nothing is
 * recorded while a history replays, and no command is added, so histories recorded before
 * these metrics replay unchanged.
 *
 * - `interceptors`: when a deploy, rollback, redeploy or release ends, counts it by app,
 *   env, operation and outcome (read from the search attributes the workflow set), and
 *   records a deploy's duration. Registered on the worker (worker/create.ts) and in the
 *   workflow bundle (worker/bundle.ts).
 * - `reportPipeline`: the pipeline's queue length and the candidate awaiting approval.
 */
import {
  ContinueAsNew,
  isCancellation,
  metricMeter,
  workflowInfo,
  type Next,
  type WorkflowExecuteInput,
  type WorkflowInboundCallsInterceptor,
  type WorkflowInterceptorsFactory,
} from '@temporalio/workflow';
import { METRICS } from '../domain/metrics';
import { SA, type PipelineState } from '../contract';

const OPERATION_WORKFLOWS = new Set(['deploy', 'rollback', 'redeploy', 'release']);

function recordEnd(err?: unknown): void {
  const info = workflowInfo();
  if (!OPERATION_WORKFLOWS.has(info.workflowType)) return;
  const sa = info.typedSearchAttributes;
  let outcome = sa.get(SA.outcome);
  if (!outcome || outcome === 'running') outcome = err === undefined ? 'succeeded' : isCancellation(err) ? 'cancelled' : 'failed';
  const labels = { app: sa.get(SA.app) ?? '', env: sa.get(SA.env) ?? '', operation: sa.get(SA.operation) ?? info.workflowType, outcome };
  metricMeter.createCounter(METRICS.operations, undefined, 'Finished Slipway operations').add(1, labels);
  if (info.workflowType === 'deploy') {
    const seconds = Math.max(0, (Date.now() - info.startTime.getTime()) / 1000);
    metricMeter.createHistogram(METRICS.deployDuration, 'float', 's', 'Duration of deploys, start to end').record(seconds, labels);
  }
}

class OperationMetrics implements WorkflowInboundCallsInterceptor {
  async execute(input: WorkflowExecuteInput, next: Next<WorkflowInboundCallsInterceptor, 'execute'>): Promise<unknown> {
    let result: unknown;
    try {
      result = await next(input);
    } catch (err) {
      if (!(err instanceof ContinueAsNew)) recordEnd(err);
      throw err;
    }
    recordEnd();
    return result;
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ inbound: [new OperationMetrics()] });

/** Sets the pipeline's gauges; called on every change of its state. */
export function reportPipeline(state: PipelineState): void {
  const labels = { app: state.app };
  const awaiting = state.phase === 'awaiting_approval' && state.candidate ? state.candidate : undefined;
  // Awaiting approval since the gate passed (recorded in the history just before the phase changed).
  const since = awaiting && [...state.history].reverse().find((h) => h.sha === awaiting.sha && h.outcome === 'gate_passed')?.at;
  metricMeter
    .createGauge(METRICS.pipelineQueueLength, 'int', undefined, 'Merges waiting in the pipeline queue')
    .set(state.queue.filter((e) => e.status === 'waiting').length, labels);
  metricMeter.createGauge(METRICS.pipelineAwaitingApproval, 'int', undefined, 'Candidates awaiting approval').set(awaiting ? 1 : 0, labels);
  metricMeter
    .createGauge(METRICS.pipelineAwaitingApprovalSince, 'float', 's', 'Unix time since which the candidate awaits approval (0: none)')
    .set(since ? Date.parse(since) / 1000 : 0, labels);
}
