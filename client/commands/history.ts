/**
 * slipway history <app> [env] [--limit N] — recent deploys, rollbacks, redeploys and
 * releases of an app, newest first, from Temporal's visibility store.
 */
import type { WorkflowExecutionInfo } from '@temporalio/client';
import { appImages } from '../../domain/config';
import { shortTag } from '../../domain/tags';
import { SA } from '../../contract';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { checkEnvironment, clock, duration, parseLimit, table } from './status';

const OPERATIONS = ['deploy', 'rollback', 'redeploy', 'release'];
/** Operations whose child deploys they list themselves. */
const PARENTS = /^(rollback|redeploy|release)\//;

export interface HistoryEntry {
  workflowId: string;
  runId: string;
  /** ISO start time. */
  startedAt: string;
  closedAt?: string;
  operation: string;
  app: string;
  env?: string;
  tag?: string;
  actor?: string;
  /** The `Outcome` search attribute, or the execution status when it ended without one. */
  outcome: string;
  status: string;
  durationMs: number;
  /** The operation that ran this one as its child (a pipeline, for instance). */
  parent?: string;
  url: string;
}

/** The visibility query for an app's operations (app and env are config names: no quotes in them). */
export function historyQuery(app: string, env?: string): string {
  const q = (s: string) => `'${s}'`;
  return [`App = ${q(app)}`, ...(env !== undefined ? [`Env = ${q(env)}`] : []), `SlipwayOperation IN (${OPERATIONS.map(q).join(', ')})`].join(' AND ');
}

export async function historyCommand(ctx: Context, args: string[], flags: { env?: string; limit?: string }): Promise<number> {
  if (args.length < 1 || args.length > 2) throw new UsageError(`history takes <app> [env]; got ${args.length} argument(s). Run 'slipway help history'.`);
  const [app, positionalEnv] = args;
  if (positionalEnv !== undefined && flags.env !== undefined && positionalEnv !== flags.env) {
    throw new UsageError(`give the environment once: '${positionalEnv}' or --env ${flags.env}`);
  }
  const env = positionalEnv ?? flags.env;
  const limit = parseLimit(flags.limit, 20);
  const config = ctx.config();
  appImages(config, app); // names the valid apps when unknown
  if (env !== undefined) checkEnvironment(config, app, env);

  const client = await ctx.client();
  const now = Date.now();
  const entries: HistoryEntry[] = [];
  for await (const w of client.workflow.list({ query: historyQuery(app, env), pageSize: Math.min(100, limit * 2) })) {
    const parent = w.parentExecution?.workflowId;
    if (parent && PARENTS.test(parent)) continue; // shown as its parent's row
    entries.push(entry(ctx, w, app, now));
    if (entries.length >= limit) break;
  }
  entries.sort((a, b) => Date.parse(b.startedAt) - Date.parse(a.startedAt));

  const rows = entries.map((e) => [
    clock(e.startedAt),
    e.operation,
    e.env ?? '—',
    e.tag ? shortTag(e.tag) : '—',
    e.actor ? `@${e.actor}` : '—',
    e.outcome,
    e.closedAt ? duration(e.durationMs) : `${duration(e.durationMs)}…`,
    e.url,
  ]);
  const human = entries.length
    ? table(['WHEN', 'OPERATION', 'ENV', 'TAG', 'ACTOR', 'OUTCOME', 'DURATION', 'LINK'], rows)
    : `no deploys, rollbacks, redeploys or releases of ${app}${env ? ` in ${env}` : ''} found`;
  ctx.result(human, { app, ...(env !== undefined && { env }), operations: entries });
  return EXIT.ok;
}

function entry(ctx: Context, w: WorkflowExecutionInfo, app: string, now: number): HistoryEntry {
  const sa = w.typedSearchAttributes;
  const status = w.status.name;
  const recorded = sa.get(SA.outcome);
  // An execution terminated or timed out by Temporal never wrote its outcome.
  const outcome = recorded && !(recorded === 'running' && status !== 'RUNNING') ? recorded : status.toLowerCase();
  const env = sa.get(SA.env);
  const tag = sa.get(SA.tag);
  const actor = sa.get(SA.actor);
  const parent = w.parentExecution?.workflowId;
  return {
    workflowId: w.workflowId,
    runId: w.runId,
    startedAt: w.startTime.toISOString(),
    ...(w.closeTime && { closedAt: w.closeTime.toISOString() }),
    operation: sa.get(SA.operation) ?? w.type,
    app: sa.get(SA.app) ?? app,
    ...(env !== undefined && { env }),
    ...(tag !== undefined && { tag }),
    ...(actor !== undefined && { actor }),
    outcome,
    status: status.toLowerCase(),
    durationMs: (w.closeTime?.getTime() ?? now) - w.startTime.getTime(),
    ...(parent && { parent }),
    url: ctx.link(w.workflowId, w.runId),
  };
}
