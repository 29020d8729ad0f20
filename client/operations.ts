/**
 * Starting and following workflows: what the CLI commands and GitHub Actions call. One
 * place decides workflow IDs, search attributes, summaries and what a conflict says.
 */
import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type Client,
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowIdReusePolicy } from '@temporalio/common';
import { PRIORITY } from '../domain/ecs-queues';
import { keyword } from '../domain/input';
import { shortTag } from '../domain/tags';
import {
  deployWorkflowId,
  deploySummary,
  redeployWorkflowId,
  rollbackWorkflowId,
  SA,
  type DeployFailureDetails,
  type DeployInput,
  type DeployResult,
  type RedeployInput,
  type ReleaseInput,
  type RollbackInput,
  releaseWorkflowId,
  mergedSignal,
  pipelineWorkflowId,
  type MergeReport,
} from '../contract';

/** Another operation holds the service's lock. */
export class AlreadyRunning extends Error {
  override name = 'AlreadyRunning';
  constructor(
    message: string,
    readonly workflowId: string,
    readonly runId?: string,
  ) {
    super(message);
  }
}

export interface StartOptions {
  taskQueue: string;
  /** Builds links to the execution (TEMPORAL_UI_URL). */
  link?: (workflowId: string, runId?: string) => string;
}

type Kind = 'deploy' | 'rollback' | 'redeploy' | 'release';
type OperationInput = { app: string; env?: string; tag?: string; actor: string; reason?: string };

async function startOperation(client: Client, kind: Kind, workflowId: string, input: OperationInput, summary: string, opts: StartOptions) {
  try {
    return await client.workflow.start(kind, {
      workflowId,
      taskQueue: opts.taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
      // A rollback's workflow and activity tasks go before others' where the task queue is contended.
      ...(kind === 'rollback' && { priority: { priorityKey: PRIORITY.rollback } }),
      typedSearchAttributes: [
        { key: SA.operation, value: kind },
        { key: SA.app, value: keyword(input.app) },
        ...(input.env !== undefined ? [{ key: SA.env, value: keyword(input.env) }] : []),
        ...(input.tag !== undefined ? [{ key: SA.tag, value: keyword(input.tag) }] : []),
        { key: SA.actor, value: keyword(input.actor) },
        { key: SA.outcome, value: 'running' },
      ],
      staticSummary: summary,
      staticDetails: [
        `operation: ${kind}`,
        `app: ${input.app}`,
        `environment: ${input.env ?? '— (a release deploys to production)'}`,
        `tag: ${input.tag ?? (kind === 'rollback' ? 'the last validated release' : 'what the environment reports')}`,
        `actor: @${input.actor}`,
        `reason: ${input.reason ?? '—'}`,
      ].join('\n'),
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) throw await describeConflict(client, workflowId, opts);
    throw missingSearchAttribute(err, client.options.namespace) ?? err;
  }
}

/** The namespace does not know one of Slipway's search attributes: say how to register them. */
export class SearchAttributesMissing extends Error {
  override name = 'SearchAttributesMissing';
}

function missingSearchAttribute(err: unknown, namespace: string): SearchAttributesMissing | undefined {
  const details = err instanceof ServiceError ? String((err.cause as { details?: unknown } | undefined)?.details ?? '') : '';
  const name = /no mapping defined for search attribute (\S+)/.exec(details)?.[1];
  if (!name) return undefined;
  const create = Object.values(SA)
    .map((k) => `--name ${k.name} --type Keyword`)
    .join(' ');
  return new SearchAttributesMissing(
    `Temporal namespace "${namespace}" has no search attribute ${name}: Slipway's search attributes must be registered once per namespace (the dev server started by ./scripts/start.sh registers them). Run: temporal operator search-attribute create --namespace ${namespace} ${create}`,
  );
}

export async function startDeploy(client: Client, input: DeployInput, opts: StartOptions): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return startOperation(client, 'deploy', deployWorkflowId(input.app, input.env), input, deploySummary(input, shortTag), opts);
}

export async function startRollback(client: Client, input: RollbackInput, opts: StartOptions): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const to = input.tag ? shortTag(input.tag) : 'last validated';
  return startOperation(client, 'rollback', rollbackWorkflowId(input.app, input.env), input, `rollback ${input.app} ${input.env} → ${to} by @${input.actor}`, opts);
}

export async function startRelease(client: Client, input: ReleaseInput, opts: StartOptions): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return startOperation(client, 'release', releaseWorkflowId(input.app, input.tag), input, `release ${input.app} ${shortTag(input.tag)} by @${input.actor}`, opts);
}

export async function startRedeploy(client: Client, input: RedeployInput, opts: StartOptions): Promise<WorkflowHandleWithFirstExecutionRunId> {
  return startOperation(client, 'redeploy', redeployWorkflowId(input.app, input.env), input, `redeploy ${input.app} in ${input.env} by @${input.actor}`, opts);
}

async function describeConflict(client: Client, workflowId: string, opts: StartOptions): Promise<AlreadyRunning> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    const sa = d.typedSearchAttributes;
    const tag = sa.get(SA.tag);
    const actor = sa.get(SA.actor);
    const what = `a ${d.type}`;
    const link = opts.link ? ` — ${opts.link(workflowId, d.runId)}` : '';
    return new AlreadyRunning(
      `${what} of this service is already running: ${tag ? `tag ${tag}` : 'tag ?'} by @${actor ?? '?'} since ${d.startTime.toISOString()} ` +
        `(workflow ${workflowId}, run ${d.runId})${link}. Wait for it to finish, or roll back to preempt it.`,
      workflowId,
      d.runId,
    );
  } catch {
    return new AlreadyRunning(`an operation on this service is already running (workflow ${workflowId})`, workflowId);
  }
}

export type DeployOutcome<R = DeployResult> = { ok: true; result: R } | { ok: false; type: string; message: string; details?: DeployFailureDetails };

/** Waits for a deploy and returns its outcome (failures as values, not exceptions). */
export async function deployOutcome<R = DeployResult>(handle: WorkflowHandle): Promise<DeployOutcome<R>> {
  try {
    return { ok: true, result: (await handle.result()) as R };
  } catch (err) {
    if (err instanceof WorkflowFailedError && err.cause instanceof ApplicationFailure) {
      const f = err.cause;
      return { ok: false, type: f.type ?? 'Error', message: f.message, details: f.details?.[0] as DeployFailureDetails | undefined };
    }
    if (err instanceof WorkflowFailedError) return { ok: false, type: err.cause?.name ?? 'Failed', message: err.cause?.message ?? err.message };
    throw err;
  }
}

/**
 * Reports a merge to the app's pipeline, starting the pipeline if it is not running
 * (signal-with-start: one call, nothing lost between "start" and "deliver").
 */
export async function reportMerge(client: Client, app: string, merge: MergeReport, opts: StartOptions & { maxHistory?: number }) {
  return client.workflow.signalWithStart('pipeline', {
    workflowId: pipelineWorkflowId(app),
    taskQueue: opts.taskQueue,
    args: [{ app, ...(opts.maxHistory !== undefined && { maxHistory: opts.maxHistory }) }],
    signal: mergedSignal,
    signalArgs: [merge],
    typedSearchAttributes: [
      { key: SA.operation, value: 'pipeline' },
      { key: SA.app, value: app },
    ],
    staticSummary: `pipeline of ${app}: merges to main → staging → gate → approval → production`,
  });
}
