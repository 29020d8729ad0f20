/**
 * slipway status [app] [--env ENV] — what runs where, live: per app and environment, the
 * release the version endpoint reports, what is in flight, and the last validated release;
 * per app, the pipeline. Also the small rendering helpers the read-only commands share.
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { createVersionActivities } from '../../activities/version';
import { appImages, resolveTarget, type SlipwayConfig } from '../../domain/config';
import { BadInput } from '../../domain/errors';
import { modeSummary } from '../../domain/identity';
import { shortTag } from '../../domain/tags';
import {
  deployWorkflowId,
  pipelineStateQuery,
  pipelineWorkflowId,
  progressQuery,
  recordQuery,
  recordWorkflowId,
  redeployWorkflowId,
  rollbackWorkflowId,
  SA,
  type DeployPhase,
  type PipelineState,
  type QueueEntry,
  type ValidatedRelease,
} from '../../contract';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';

/** How long the version endpoints and Temporal queries may take. */
const VERSION_TIMEOUT_MS = 3000;
const QUERY_TIMEOUT_MS = 5000;

export interface InFlight {
  operation: 'deploy' | 'rollback' | 'redeploy';
  workflowId: string;
  runId: string;
  tag?: string;
  actor?: string;
  /** ISO start time. */
  since: string;
  /** The deploy's phase (for a rollback or redeploy: the phase of the deploy it runs). */
  phase?: DeployPhase;
  url: string;
}

export interface EnvironmentStatus {
  env: string;
  cluster: string;
  service: string;
  url?: string;
  versionEndpoint?: string;
  /** What the version endpoint reports; `error` when it did not answer usefully. */
  reported?: { release: string; url: string } | { error: string };
  inFlight: InFlight[];
  lastValidated?: ValidatedRelease;
  /** Set when the record of validated releases could not be read. */
  recordError?: string;
}

export interface PipelineStatus {
  workflowId: string;
  runId: string;
  url: string;
  phase?: PipelineState['phase'];
  paused?: boolean;
  policy?: PipelineState['policy'];
  candidate?: QueueEntry;
  queue?: QueueEntry[];
  /** Set when the pipeline runs but its state could not be read. */
  error?: string;
}

export interface AppStatus {
  app: string;
  releaseOnly: boolean;
  environments: EnvironmentStatus[];
  pipeline?: PipelineStatus;
}

export async function statusCommand(ctx: Context, args: string[], flags: { env?: string }): Promise<number> {
  if (args.length > 1) throw new UsageError(`status takes at most one <app>; got ${args.length} arguments. Run 'slipway help status'.`);
  const config = ctx.config();
  const [only] = args;
  if (only !== undefined) appImages(config, only); // names the valid apps when unknown
  if (flags.env !== undefined) checkEnvironment(config, only, flags.env);
  const apps = Object.values(config.apps).filter((a) => only === undefined || a.name === only);

  const client = await ctx.client();
  const readVersion = createVersionActivities({ timeoutMs: VERSION_TIMEOUT_MS }).readVersion;
  const statuses = await Promise.all(
    apps.map(async (a): Promise<AppStatus> => {
      if (a.releaseOnly) return { app: a.name, releaseOnly: true, environments: [] };
      const envs = Object.keys(a.environments).filter((e) => flags.env === undefined || e === flags.env);
      const [environments, pipeline] = await Promise.all([
        Promise.all(envs.map((env) => environmentStatus(ctx, client, config, a.name, env, readVersion))),
        pipelineStatus(ctx, client, a.name),
      ]);
      return { app: a.name, releaseOnly: false, environments, ...(pipeline && { pipeline }) };
    }),
  );

  // Who may name the actor, per environment: the trust boundary of each.
  const identity = config.environments.filter((e) => flags.env === undefined || e === flags.env).map((env) => ({ env, mode: modeSummary(config.identity, env) }));
  ctx.result(`${renderStatus(statuses)}\n\n${renderIdentity(identity)}`, { apps: statuses, identity });
  return EXIT.ok;
}

/** Throws `BadInput` naming the valid environments (of `app`, or of the config). */
export function checkEnvironment(config: SlipwayConfig, app: string | undefined, env: string): void {
  if (app !== undefined) {
    if (config.apps[app].releaseOnly) throw new BadInput(`${app} is release-only: it has no environments Slipway deploys to.`);
    resolveTarget(config, app, env);
    return;
  }
  if (!config.environments.includes(env)) {
    throw new BadInput(`unknown environment "${env}"; ${config.source} defines: ${config.environments.join(', ')}.`);
  }
}

/** `--limit N`: a whole number from 1 to 1000, else `fallback`. */
export function parseLimit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new UsageError(`--limit ${value}: give a whole number from 1 to 1000`);
  return n;
}

type ReadVersion = ReturnType<typeof createVersionActivities>['readVersion'];

async function environmentStatus(ctx: Context, client: Client, config: SlipwayConfig, app: string, env: string, readVersion: ReadVersion): Promise<EnvironmentStatus> {
  const target = resolveTarget(config, app, env);
  const [reported, inFlight, record] = await Promise.all([
    target.versionEndpoint
      ? readVersion({ url: target.versionEndpoint }).then(
          (v) => ({ release: v.release, url: v.url }),
          (err: Error) => ({ error: err.message }),
        )
      : undefined,
    inFlightOperations(ctx, client, app, env),
    lastValidated(client, app, env),
  ]);
  return {
    env,
    cluster: target.cluster,
    service: target.service,
    ...(target.url !== undefined && { url: target.url }),
    ...(target.versionEndpoint !== undefined && { versionEndpoint: target.versionEndpoint }),
    ...(reported && { reported }),
    inFlight,
    ...record,
  };
}

/** The running deploy, rollback and redeploy of a service; a rollback's or redeploy's child deploy is folded into it. */
async function inFlightOperations(ctx: Context, client: Client, app: string, env: string): Promise<InFlight[]> {
  const kinds = [
    ['deploy', deployWorkflowId(app, env)],
    ['rollback', rollbackWorkflowId(app, env)],
    ['redeploy', redeployWorkflowId(app, env)],
  ] as const;
  const running = await Promise.all(kinds.map(async ([operation, id]) => ({ operation, id, d: await describeRunning(client, id) })));
  const deploy = running[0].d;
  const progress = deploy ? await withTimeout(client, () => client.workflow.getHandle(deploy.workflowId, deploy.runId).query(progressQuery)).catch(() => undefined) : undefined;
  const out: InFlight[] = [];
  for (const { operation, d } of running) {
    if (!d) continue;
    if (operation === 'deploy' && progress?.parentWorkflowId !== undefined && running.some((r) => r.d && r.id === progress.parentWorkflowId)) continue;
    const runsOurDeploy = operation === 'deploy' || progress?.parentWorkflowId === d.workflowId;
    out.push({
      operation,
      workflowId: d.workflowId,
      runId: d.runId,
      ...optional('tag', d.typedSearchAttributes.get(SA.tag) ?? (runsOurDeploy ? progress?.tag : undefined)),
      ...optional('actor', d.typedSearchAttributes.get(SA.actor)),
      since: d.startTime.toISOString(),
      ...optional('phase', runsOurDeploy ? progress?.phase : undefined),
      url: ctx.link(d.workflowId, d.runId),
    });
  }
  return out;
}

async function lastValidated(client: Client, app: string, env: string): Promise<{ lastValidated?: ValidatedRelease; recordError?: string }> {
  try {
    const state = await withTimeout(client, () => client.workflow.getHandle(recordWorkflowId(app, env)).query(recordQuery));
    const last = state.validated.at(-1);
    return last ? { lastValidated: last } : {};
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return {};
    return { recordError: `cannot read ${recordWorkflowId(app, env)}: ${(err as Error).message}` };
  }
}

async function pipelineStatus(ctx: Context, client: Client, app: string): Promise<PipelineStatus | undefined> {
  const d = await describeRunning(client, pipelineWorkflowId(app));
  if (!d) return undefined;
  const base = { workflowId: d.workflowId, runId: d.runId, url: ctx.link(d.workflowId, d.runId) };
  try {
    const s = await withTimeout(client, () => client.workflow.getHandle(d.workflowId, d.runId).query(pipelineStateQuery));
    return { ...base, phase: s.phase, paused: s.paused, policy: s.policy, ...(s.candidate && { candidate: s.candidate }), queue: s.queue };
  } catch (err) {
    return { ...base, error: (err as Error).message };
  }
}

/** The execution when its latest run is running; undefined when it is not (or never existed). */
async function describeRunning(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  try {
    const d = await client.workflow.getHandle(workflowId).describe();
    return d.status.name === 'RUNNING' ? d : undefined;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/** A query answers only while a worker serves it: give up after a few seconds. */
function withTimeout<T>(client: Client, fn: () => Promise<T>): Promise<T> {
  return client.withDeadline(Date.now() + QUERY_TIMEOUT_MS, fn);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [k in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [k in K]?: V };
}

// ---- rendering ----

function renderStatus(apps: AppStatus[]): string {
  const now = Date.now();
  const rows: string[][] = [];
  const inFlight: string[] = [];
  const problems: string[] = [];
  const pipelines: string[] = [];
  const releaseOnly = apps.filter((a) => a.releaseOnly).map((a) => a.app);
  for (const a of apps) {
    if (a.releaseOnly) continue;
    for (const e of a.environments) {
      const reported = !e.reported ? '—' : 'error' in e.reported ? 'unreachable' : shortTag(e.reported.release);
      const flying = e.inFlight.map(
        (f) => `${f.operation} ${f.tag ? shortTag(f.tag) : '?'} @${f.actor ?? '?'}${f.phase ? ` ${f.phase}` : ''} ${duration(now - Date.parse(f.since))}`,
      );
      const v = e.lastValidated;
      rows.push([a.app, e.env, reported, flying.join('; ') || '—', v ? `${shortTag(v.tag)} @${v.actor} ${duration(now - Date.parse(v.at))} ago` : e.recordError ? 'unknown' : '—']);
      for (const f of e.inFlight) {
        inFlight.push(
          `  ${f.operation} ${a.app} ${f.tag ? shortTag(f.tag) : '?'} → ${e.env} by @${f.actor ?? '?'}${f.phase ? `, phase ${f.phase}` : ''}, since ${clock(f.since)}: ${f.url}`,
        );
      }
      if (e.reported && 'error' in e.reported) problems.push(`  ${a.app} ${e.env}: ${e.reported.error}`);
      if (e.recordError) problems.push(`  ${a.app} ${e.env}: ${e.recordError}`);
    }
    if (a.pipeline) pipelines.push(`  ${a.app}: ${renderPipeline(a.pipeline)}`);
  }
  const out = rows.length ? [table(['APP', 'ENV', 'REPORTS', 'IN FLIGHT', 'LAST VALIDATED'], rows)] : [];
  if (releaseOnly.length) out.push(...(out.length ? [''] : []), `Release-only (tagged and released by Slipway, deployed elsewhere): ${releaseOnly.join(', ')}`);
  if (inFlight.length) out.push('', 'In flight:', ...inFlight);
  if (problems.length) out.push('', 'Not answering:', ...problems);
  if (pipelines.length) out.push('', 'Pipelines:', ...pipelines);
  else if (apps.some((a) => !a.releaseOnly)) out.push('', 'Pipelines: none running');
  return out.join('\n');
}

function renderIdentity(modes: { env: string; mode: string }[]): string {
  const words = (mode: string) => (mode.startsWith('oidc') ? 'a GitHub Actions ID token must prove the actor' : 'whoever can reach Temporal names the actor');
  return ['Identity:', ...modes.map((m) => `  ${m.env}: ${m.mode} — ${words(m.mode)}`)].join('\n');
}

function renderPipeline(p: PipelineStatus): string {
  if (p.error) return `running, state unavailable (${p.error}): ${p.url}`;
  const candidate = p.candidate ? `candidate ${shortTag(p.candidate.sha)} by @${p.candidate.actor}` : 'no candidate';
  const waiting = (p.queue ?? []).filter((q) => q.status === 'waiting');
  const queue = waiting.length ? `queue: ${waiting.map((q) => shortTag(q.sha)).join(', ')}` : 'queue empty';
  return `${p.phase}${p.paused ? ' (paused)' : ''}, ${candidate}, ${queue}: ${p.url}`;
}

/** Left-aligned columns separated by two spaces; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : (c ?? '').padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

/** `45s`, `3m05s`, `2h10m`, `3d4h`. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}

/** `2025-06-01 12:00:03Z` */
export function clock(iso: string | Date): string {
  return new Date(iso)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}
