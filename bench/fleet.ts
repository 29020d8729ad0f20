/**
 * Benchmark 5: a fleet inside ECS's API limits. N concurrent deploys of distinct services
 * across 20 clusters on one worker process, with the ECS sandbox enforcing ECS's documented
 * token buckets per throttling category and a second client (the rest of the account:
 * console, Terraform, monitoring) using 30 % of each bucket Slipway uses. Side by side in one
 * run: rollouts watched by ECS's events (delivered through moto's SQS), the same with 20 % of
 * the events lost, and polling only. Time runs `FLEET_TIME_SCALE` times faster for
 * rollouts, bucket refill, the worker's poll and reconcile intervals and its budget alike.
 *
 * While the deploys are in flight, each side also rolls a production service back (to its
 * last validated release) and times the rollback's start → its UpdateService at ECS.
 */
import {
  DescribeServiceDeploymentsCommand,
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { deployOutcome, startDeploy, startRollback } from '../client/operations';
import type { DeployResult } from '../contract';
import { DOCUMENTED_LIMITS, type ThrottlingCategory } from '../domain/ecs-throttling';
import { localActivityType } from '../test/histories';
import { waitServicesStable } from './aws-cli';
import { fmtMiB, fmtMs, fmtNum, median, p90, type Table } from './stats';
import { REGION, ROLLOUT_MS_AT_SPEED_1, TIMING, clusterOf, imageRuntimeEnv, spawnWorker, type BenchService, type BenchStack, type EventsMode } from './stack';

export const FLEET_CLUSTERS = 20;
/** The share of each bucket the other client uses. */
const OTHER_SHARE = 0.3;
const OTHER_KEY = 'AKIAOTHERTOOLS';
/** The sandbox signs the worker's calls with this key (see activities/clients.ts). */
const SLIPWAY_KEY = 'sandbox';
/** The reconcile interval of event-watched rollouts at speed 1 (the default of aws.events.reconcileSeconds). */
const RECONCILE_SECONDS = 20;

/** The production service each side rolls back while its deploys are in flight. */
export const ROLLBACK_SERVICE: BenchService = { name: 'fleet-rollback', env: 'production', versionEndpoint: true };

/** The service of the one-minute rollouts (reads per rollout, each way of watching, and the AWS CLI's waiter). */
export const MINUTE_SERVICE: BenchService = { name: 'fleet-minute', env: 'staging' };

export const FLEET_SIDES: { mode: EventsMode; label: string }[] = [
  { mode: 'on', label: 'events' },
  { mode: 'dropped', label: 'events, 20 % lost' },
  { mode: 'off', label: 'polling only' },
];

const fleetQueue = () => `bench-fleet-${process.pid}`;

export function fleetServices(n: number): BenchService[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `fleet-${String(i + 1).padStart(4, '0')}`,
    env: 'staging' as const,
    cluster: `fleet-cluster-${String((i % FLEET_CLUSTERS) + 1).padStart(2, '0')}`,
  }));
}

export interface FleetSide {
  label: string;
  mode: EventsMode;
  deploys: number;
  succeeded: number;
  failures: string[];
  durationsMs: number[];
  /** ECS ended the service deployment (its finishedAt) → the look that saw it completed. */
  detectionMs: number[];
  /** The same, for the deploys whose end a look run here and now saw (one an event woke, a local activity). */
  detectionByLocalLookMs: number[];
  /** ECS's COMPLETED event (its time) → its signal in the deploy's history: SQS and the consumer. */
  deliveryMs: number[];
  /** For ends seen by an event-woken local look: the signal that woke it → its workflow task started, and → the look's marker. */
  wakeMs: number[];
  lookMs: number[];
  wallMs: number;
  slipwayCalls: number;
  readCalls: number;
  slipwayThrottled: number;
  otherCalls: number;
  otherThrottled: number;
  peakRssKiB: number;
  historyEvents: number[];
  /** The rollback started under load: start → its UpdateService at ECS. */
  rollbackMs?: number;
  rollbackWhy?: string;
  eventsPublished?: number;
}

/** The rest of the account: calls of each category Slipway uses at OTHER_SHARE of its sustained rate. */
function startOtherClient(stack: BenchStack, scale: number, service: { cluster: string; name: string; family: string }): () => Promise<void> {
  const sdk = new ECSClient({ endpoint: stack.ecs.url, region: REGION, credentials: { accessKeyId: OTHER_KEY, secretAccessKey: 'x' }, maxAttempts: 1 });
  const calls: Partial<Record<ThrottlingCategory, () => Promise<unknown>>> = {
    'service-read': () => sdk.send(new DescribeServicesCommand({ cluster: service.cluster, services: [service.name] })),
    'service-deployment-read': () => sdk.send(new ListServiceDeploymentsCommand({ cluster: service.cluster, service: service.name })),
    'task-definition-read': () => sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.family })),
    'task-read': () => sdk.send(new ListTasksCommand({ cluster: service.cluster, serviceName: service.name })),
    'task-definition-register': () =>
      sdk.send(new RegisterTaskDefinitionCommand({ family: 'other-tool', containerDefinitions: [{ name: 'app', image: 'registry.example/other:1' }] })),
    'service-update': () => sdk.send(new UpdateServiceCommand({ cluster: service.cluster, service: service.name, desiredCount: 2 })),
  };
  const timers = Object.entries(calls).map(([category, call]) => {
    const perSecond = DOCUMENTED_LIMITS[category as ThrottlingCategory].perSecond * OTHER_SHARE * scale;
    return setInterval(() => void call().catch(() => undefined), 1000 / perSecond);
  });
  return async () => {
    for (const t of timers) clearInterval(t);
    sdk.destroy();
  };
}

function eventMs(e: temporal.api.history.v1.IHistoryEvent): number {
  return Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
}

interface Look {
  at: number;
  /** Run as a local activity (a look an event woke). */
  local: boolean;
  /**
   * For a local look woken by a signal: from the signal to the start of the workflow task
   * that ran the look (the wait for the task), and from that start to the look's marker (the
   * activation, the look's ECS reads and the task's completion).
   */
  split?: { wakeMs: number; lookMs: number };
}

/**
 * When the last look of the rollout completed, from the deploy's history: a watch or observe
 * activity's completion, or the marker of a look run as a local activity (written with the
 * workflow task that took its result, so a little after the look).
 */
function lastLook(history: temporal.api.history.v1.IHistory): Look | undefined {
  const looks = new Set<number>();
  let signal: number | undefined;
  let task: { started: number; signal?: number } | undefined;
  let last: Look | undefined;
  for (const e of history.events ?? []) {
    if (e.workflowExecutionSignaledEventAttributes?.signalName === 'ecsEvent') signal = eventMs(e);
    if (e.workflowTaskStartedEventAttributes) {
      // The signals since the previous workflow task are what this one was scheduled for.
      task = { started: eventMs(e), signal };
      signal = undefined;
    }
    const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (name === 'watchDeployment' || name === 'observeDeployment') looks.add(Number(e.eventId));
    const done = e.activityTaskCompletedEventAttributes;
    if (done && looks.has(Number(done.scheduledEventId))) last = { at: eventMs(e), local: false };
    if (localActivityType(e) === 'observeDeployment') {
      const at = eventMs(e);
      last = { at, local: true, ...(task?.signal !== undefined && { split: { wakeMs: task.started - task.signal, lookMs: at - task.started } }) };
    }
  }
  return last;
}

/** The first SERVICE_DEPLOYMENT_COMPLETED signal in a deploy's history: its time there minus the event's own time. */
function completedDelivery(history: temporal.api.history.v1.IHistory): number | undefined {
  for (const e of history.events ?? []) {
    const a = e.workflowExecutionSignaledEventAttributes;
    if (a?.signalName !== 'ecsEvent') continue;
    const data = a.input?.payloads?.[0]?.data;
    const notice = data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { name: string; at: string }) : undefined;
    if (notice?.name === 'SERVICE_DEPLOYMENT_COMPLETED') return Math.max(0, eventMs(e) - Date.parse(notice.at));
  }
  return undefined;
}

/** finishedAt of each service deployment, by ARN (20 per call, as the other client, after the run). */
async function finishedAt(stack: BenchStack, arns: string[]): Promise<Map<string, number>> {
  const sdk = new ECSClient({ endpoint: stack.ecs.url, region: REGION, credentials: { accessKeyId: 'AKIABENCH', secretAccessKey: 'x' } });
  const out = new Map<string, number>();
  for (let i = 0; i < arns.length; i += 20) {
    const r = await sdk.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: arns.slice(i, i + 20) }));
    for (const sd of r.serviceDeployments ?? []) if (sd.serviceDeploymentArn && sd.finishedAt) out.set(sd.serviceDeploymentArn, new Date(sd.finishedAt).getTime());
  }
  sdk.destroy();
  return out;
}

async function runSide(
  stack: BenchStack,
  services: BenchService[],
  tag: string,
  tags: [string, string],
  scale: number,
  side: { mode: EventsMode; label: string },
  log: (s: string) => void,
): Promise<FleetSide> {
  const queue = await stack.useEvents(side.mode, `${side.mode}-${services.length}`);
  const cfg = stack.writeConfig(`fleet-${side.mode}-${services.length}`, [...services, ROLLBACK_SERVICE], (raw) => {
    if (queue) raw.aws.events = { queueUrl: queue.queueUrl, endpoint: queue.endpoint, reconcileSeconds: RECONCILE_SECONDS / scale };
  });
  stack.ecs.setSpeed(scale);
  stack.ecs.setThrottling(false);
  // One task queue for every side: the production service's record of validated releases lives there.
  const worker = await spawnWorker(stack, cfg.path, fleetQueue(), {
    ...fleetWorkerEnv(),
    SLIPWAY_ECS_BUDGET_TIME_SCALE: String(scale),
    SLIPWAY_POLL_MIN_MS: String(Math.round(1000 / scale)),
    SLIPWAY_POLL_MAX_MS: String(Math.round(1500 / scale)),
  });
  // The production service gets a second validated release, so that a rollback has one to go back to.
  const prep = await deployOutcome(
    await startDeploy(
      stack.client,
      { app: ROLLBACK_SERVICE.name, env: ROLLBACK_SERVICE.env, tag: tags[1], actor: 'alice', reason: 'fleet benchmark: before the rollback' },
      { taskQueue: worker.taskQueue },
    ),
  );
  if (!prep.ok) log(`fleet ${side.label}: the production service's deploy failed (${prep.type}: ${prep.message}); no rollback this side`);

  let peakRss = worker.stats()?.rssKiB ?? 0;
  const sampler = setInterval(() => {
    const s = worker.stats();
    if (s) peakRss = Math.max(peakRss, s.rssKiB);
  }, 200);
  stack.ecs.setThrottling({});
  // The other client works on a service outside the benchmark's set.
  const stopOther = startOtherClient(stack, scale, { cluster: 'staging-default', name: 'staging-api', family: 'staging-api-template' });
  stack.ecs.resetCalls();
  const published = stack.ecs.eventStats().published;
  const t0 = Date.now();
  let results: { handle: WorkflowHandle; ok: boolean; why: string; ms: number; sdArn?: string }[];
  let rollback: { ms?: number; why?: string; handle?: WorkflowHandle; updateAt?: number; startedAt?: number } = {};
  try {
    const deploys = Promise.all(
      services.map(async (s) => {
        const startedAt = Date.now();
        const handle = await startDeploy(stack.client, { app: s.name, env: 'staging', tag, actor: 'alice', reason: 'fleet benchmark' }, { taskQueue: worker.taskQueue });
        const outcome = await deployOutcome<DeployResult>(handle);
        return {
          handle,
          ok: outcome.ok,
          why: outcome.ok ? '' : `${outcome.type}: ${outcome.message}`,
          ms: Date.now() - startedAt,
          sdArn: outcome.ok ? outcome.result.serviceDeploymentArn : outcome.details?.serviceDeploymentArn,
        };
      }),
    );
    if (prep.ok) rollback = await rollbackUnderLoad(stack, services.length, worker.taskQueue);
    results = await deploys;
    // The next side deploys the production service again: its rollback must be over.
    if (rollback.handle) {
      const o = await deployOutcome(rollback.handle);
      if (!o.ok) rollback.why = `${rollback.why ?? ''}; the rollback failed: ${o.type}: ${o.message}`;
      if (rollback.updateAt !== undefined && rollback.startedAt !== undefined) {
        log(`fleet ${side.label}: the rollback, in seconds from its start request:\n  ${await rollbackTimeline(stack, rollback.handle, rollback.startedAt, rollback.updateAt)}`);
      }
    }
  } finally {
    await stopOther();
    clearInterval(sampler);
    await worker.stop();
  }
  const wallMs = Date.now() - t0;
  const stats = stack.ecs.throttlingStats();
  stack.ecs.setThrottling(false);
  const sum = (m: Record<string, { allowed: number; throttled: number } | undefined> | undefined, k: 'allowed' | 'throttled') =>
    Object.values(m ?? {}).reduce((a, c) => a + (c?.[k] ?? 0), 0);
  const calls = stack.ecs.calls.filter((c) => c.caller === SLIPWAY_KEY);
  const failed = results.filter((r) => !r.ok);
  log(
    `fleet ${side.label}: ${results.length - failed.length}/${results.length} succeeded in ${fmtMs(wallMs)}${failed.length ? `; e.g. ${failed[0].why}` : ''}; rollback ${rollback.ms !== undefined ? fmtMs(rollback.ms) : rollback.why}`,
  );
  const ended = await finishedAt(
    stack,
    results.flatMap((r) => (r.ok && r.sdArn ? [r.sdArn] : [])),
  );
  const historyEvents: number[] = [];
  const detectionMs: number[] = [];
  const detectionByLocalLookMs: number[] = [];
  const deliveryMs: number[] = [];
  const wakeMs: number[] = [];
  const lookMs: number[] = [];
  for (let i = 0; i < results.length; i += 25) {
    const batch = await Promise.all(results.slice(i, i + 25).map(async (r) => ({ r, history: await r.handle.fetchHistory() })));
    for (const { r, history } of batch) {
      historyEvents.push(history.events?.length ?? 0);
      const seen = lastLook(history);
      const end = r.sdArn ? ended.get(r.sdArn) : undefined;
      if (r.ok && seen !== undefined && end !== undefined) {
        const ms = Math.max(0, seen.at - end);
        detectionMs.push(ms);
        if (seen.local) detectionByLocalLookMs.push(ms);
        if (seen.split) {
          wakeMs.push(seen.split.wakeMs);
          lookMs.push(seen.split.lookMs);
        }
      }
      const delivered = completedDelivery(history);
      if (delivered !== undefined) deliveryMs.push(delivered);
    }
  }
  return {
    label: side.label,
    mode: side.mode,
    deploys: results.length,
    succeeded: results.length - failed.length,
    failures: failed.map((f) => f.why),
    durationsMs: results.map((r) => r.ms),
    detectionMs,
    detectionByLocalLookMs,
    deliveryMs,
    wakeMs,
    lookMs,
    wallMs,
    slipwayCalls: calls.length,
    readCalls: calls.filter((c) => c.op.startsWith('Describe') || c.op.startsWith('List')).length,
    slipwayThrottled: sum(stats.byCaller[SLIPWAY_KEY], 'throttled'),
    otherCalls: sum(stats.byCaller[OTHER_KEY], 'allowed') + sum(stats.byCaller[OTHER_KEY], 'throttled'),
    otherThrottled: sum(stats.byCaller[OTHER_KEY], 'throttled'),
    peakRssKiB: peakRss,
    historyEvents,
    ...(rollback.ms !== undefined && { rollbackMs: rollback.ms }),
    ...(rollback.why !== undefined && { rollbackWhy: rollback.why }),
    ...(side.mode !== 'off' && { eventsPublished: stack.ecs.eventStats().published - published }),
  };
}

/**
 * Once half the fleet's services were updated (the rest still registering and updating),
 * rolls the production service back to its last validated release and times start →
 * its UpdateService at ECS.
 */
async function rollbackUnderLoad(
  stack: BenchStack,
  deploys: number,
  taskQueue: string,
): Promise<{ ms?: number; why?: string; handle?: WorkflowHandle; updateAt?: number; startedAt?: number }> {
  const updates = () => stack.ecs.calls.filter((c) => c.op === 'UpdateService' && c.caller === SLIPWAY_KEY && /^fleet-\d{4}$/.test(String(c.input.service))).length;
  const deadline = Date.now() + 15 * 60_000;
  while (updates() < deploys / 2) {
    if (Date.now() > deadline) return { why: 'the fleet never reached half its updates' };
    await new Promise((r) => setTimeout(r, 50));
  }
  const inFlight = deploys - updates();
  const t = Date.now();
  const handle = await startRollback(
    stack.client,
    { app: ROLLBACK_SERVICE.name, env: ROLLBACK_SERVICE.env, actor: 'alice', reason: 'fleet benchmark: rollback under load' },
    { taskQueue },
  );
  for (let i = 0; ; i++) {
    const update = stack.ecs.calls.find((c) => c.op === 'UpdateService' && c.input.service === ROLLBACK_SERVICE.name && c.at >= t);
    if (update) return { ms: update.at - t, why: `${inFlight} deploys not yet updated`, handle, updateAt: update.at, startedAt: t };
    // Whether it ended without an update: asked now and then, not at every turn, to add no load to what is measured.
    const d = i % 25 === 24 ? await handle.describe().catch(() => undefined) : undefined;
    if (d && d.status.name !== 'RUNNING') {
      const o = await deployOutcome(handle);
      return { why: `the rollback ended without an update: ${o.ok ? 'succeeded' : `${o.type}: ${o.message}`}`, handle };
    }
    if (Date.now() > deadline) return { why: 'no UpdateService within 15 min', handle };
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** History events that show a rollback's path to its UpdateService (besides activities and local-activity markers). */
const TIMELINE_EVENTS = new Set([
  'workflow_execution_started',
  'workflow_task_scheduled',
  'workflow_task_started',
  'workflow_task_completed',
  'activity_task_started',
  'activity_task_completed',
  'start_child_workflow_execution_initiated',
  'child_workflow_execution_started',
]);

/**
 * Where a rollback's time went, from its history and its deploy's: each event's offset from
 * the start request, up to its UpdateService (for the log; workflow tasks waiting to start are
 * the server's queue, those running long are the worker's).
 */
async function rollbackTimeline(stack: BenchStack, handle: WorkflowHandle, t: number, updateAt: number): Promise<string> {
  const line = (history: temporal.api.history.v1.IHistory, label: string): string => {
    const parts = (history.events ?? []).flatMap((e) => {
      const at = eventMs(e);
      if (at > updateAt + 50) return [];
      const la = localActivityType(e);
      const type = (temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? '').replace(/^EVENT_TYPE_/, '').toLowerCase();
      const name = la ? `LA ${la}` : (e.activityTaskScheduledEventAttributes?.activityType?.name ?? (TIMELINE_EVENTS.has(type) ? type.replace(/_/g, ' ') : undefined));
      return name ? [`+${((at - t) / 1000).toFixed(2)} ${name}`] : [];
    });
    return `${label}: ${parts.join(', ')}`;
  };
  const history = await handle.fetchHistory();
  const lines = [line(history, 'rollback')];
  const child = history.events?.find((e) => e.childWorkflowExecutionStartedEventAttributes)?.childWorkflowExecutionStartedEventAttributes?.workflowExecution;
  if (child?.workflowId) lines.push(line(await stack.client.workflow.getHandle(child.workflowId, child.runId ?? undefined).fetchHistory(), 'its deploy'));
  return lines.join('\n  ');
}

/** Reads of one rollout that takes a minute (at speed 1), watched each way; and the AWS CLI's waiter's. */
export interface MinuteReads {
  events: number;
  polling: number;
  waiter: number;
}

const isRead = (op: string) => op.startsWith('Describe') || op.startsWith('List');

/**
 * One deploy of a service whose rollout takes a minute, alone on the account: the ECS reads
 * Slipway makes from its UpdateService to its end, watched by events and by polling; then
 * the same rollout started by hand and waited for with `aws ecs wait services-stable`.
 */
export async function runMinuteRollouts(stack: BenchStack, tags: [string, string], log: (s: string) => void): Promise<MinuteReads> {
  stack.ecs.setThrottling(false);
  stack.ecs.setSpeed(ROLLOUT_MS_AT_SPEED_1 / 60_000);
  const reads = async (mode: EventsMode, tag: string): Promise<number> => {
    const queue = await stack.useEvents(mode, `minute-${mode}`);
    const cfg = stack.writeConfig(`minute-${mode}`, [MINUTE_SERVICE], (raw) => {
      if (queue) raw.aws.events = { queueUrl: queue.queueUrl, endpoint: queue.endpoint };
    });
    const worker = await spawnWorker(stack, cfg.path, `bench-minute-${mode}-${process.pid}`);
    try {
      stack.ecs.resetCalls();
      const o = await deployOutcome(
        await startDeploy(stack.client, { app: MINUTE_SERVICE.name, env: 'staging', tag, actor: 'alice', reason: 'one-minute rollout' }, { taskQueue: worker.taskQueue }),
      );
      if (!o.ok) throw new Error(`the one-minute rollout (${mode}) failed: ${o.type}: ${o.message}`);
    } finally {
      await worker.stop();
    }
    const calls = stack.ecs.calls.filter((c) => c.caller === SLIPWAY_KEY);
    const update = calls.findIndex((c) => c.op === 'UpdateService');
    const n = calls.slice(update + 1).filter((c) => isRead(c.op)).length;
    log(`one-minute rollout, ${mode === 'on' ? 'events' : 'polling'}: ${n} reads after the update`);
    return n;
  };
  const events = await reads('on', tags[1]);
  const polling = await reads('off', tags[0]);
  stack.ecs.resetCalls();
  await stack.sdk.send(new UpdateServiceCommand({ cluster: clusterOf(MINUTE_SERVICE.name), service: MINUTE_SERVICE.name, forceNewDeployment: true }));
  const w = await waitServicesStable(stack.ecs.url, clusterOf(MINUTE_SERVICE.name), MINUTE_SERVICE.name);
  if (w.code !== 0) throw new Error(`aws ecs wait services-stable exited ${w.code}: ${w.stderr}`);
  const waiter = stack.ecs.calls.filter((c) => c.op === 'DescribeServices').length;
  log(`one-minute rollout, aws ecs wait services-stable: ${waiter} reads`);
  return { events, polling, waiter };
}

export async function runFleet(
  stack: BenchStack,
  services: BenchService[],
  tags: [string, string],
  scale: number,
  log: (s: string) => void,
): Promise<{ sides: FleetSide[]; scale: number; minute?: MinuteReads }> {
  // The production service's first validated release, for the rollbacks to go back to.
  const first = stack.writeConfig('fleet-rollback', [ROLLBACK_SERVICE]);
  stack.ecs.setSpeed(scale);
  const worker = await spawnWorker(stack, first.path, fleetQueue());
  try {
    const o = await deployOutcome(
      await startDeploy(
        stack.client,
        { app: ROLLBACK_SERVICE.name, env: ROLLBACK_SERVICE.env, tag: tags[0], actor: 'alice', reason: 'fleet benchmark' },
        { taskQueue: worker.taskQueue },
      ),
    );
    if (!o.ok) log(`fleet: the production service's first deploy failed (${o.type}: ${o.message})`);
  } finally {
    await worker.stop();
  }
  const sides: FleetSide[] = [];
  // BENCH_FLEET_SIDES=on,dropped,off picks sides (all by default).
  const picked = new Set((process.env.BENCH_FLEET_SIDES || FLEET_SIDES.map((s) => s.mode).join(',')).split(',').map((s) => s.trim()));
  for (const [i, side] of FLEET_SIDES.entries()) if (picked.has(side.mode)) sides.push(await runSide(stack, services, tags[i % 2 === 0 ? 1 : 0], tags, scale, side, log));
  const minute = process.env.BENCH_FLEET_MINUTE === 'off' ? undefined : await runMinuteRollouts(stack, tags, log);
  return { sides, scale, ...(minute && { minute }) };
}

export function fleetTable(r: { sides: FleetSide[]; scale: number; minute?: MinuteReads }): Table {
  const { sides, scale, minute } = r;
  const rolloutS = (TIMING.taskStartMs + TIMING.healthyMs + TIMING.drainMs) / 1000;
  const rows: [string, (s: FleetSide) => string][] = [
    ['deploys that finished successfully', (s) => `${s.succeeded}/${s.deploys}`],
    ['time to done per deploy, median (wall)', (s) => fmtMs(median(s.durationsMs))],
    ['time to done per deploy, p90 (wall)', (s) => fmtMs(p90(s.durationsMs))],
    ['wall time, first start → last done', (s) => fmtMs(s.wallMs)],
    ['deploys done per second of wall time (the load the machine carries)', (s) => fmtNum(s.succeeded / (s.wallMs / 1000), 2)],
    ['detection latency, median (ECS finishedAt → the look that saw it)', (s) => fmtMs(median(s.detectionMs))],
    ['detection latency, p90', (s) => fmtMs(p90(s.detectionMs))],
    [
      'deploys whose end a look an event woke saw (a local activity; the rest: a reconciling or polling look), and their detection median / p90',
      (s) =>
        s.mode === 'off' ? '—' : `${s.detectionByLocalLookMs.length}/${s.detectionMs.length}: ${fmtMs(median(s.detectionByLocalLookMs))} / ${fmtMs(p90(s.detectionByLocalLookMs))}`,
    ],
    [
      "of which ECS's COMPLETED event → its signal (SQS, consumer), median / p90",
      (s) => (s.deliveryMs.length ? `${fmtMs(median(s.deliveryMs))} / ${fmtMs(p90(s.deliveryMs))}` : '—'),
    ],
    ['of those, the signal that woke the look → its workflow task started, median / p90', (s) => (s.wakeMs.length ? `${fmtMs(median(s.wakeMs))} / ${fmtMs(p90(s.wakeMs))}` : '—')],
    [
      "and that workflow task's start → the look's marker (activation, reads, the task's completion), median / p90",
      (s) => (s.lookMs.length ? `${fmtMs(median(s.lookMs))} / ${fmtMs(p90(s.lookMs))}` : '—'),
    ],
    ['ECS calls per deploy (sent, throttled ones included)', (s) => fmtNum(s.slipwayCalls / s.deploys, 1)],
    ['Describe*/List* reads per deploy', (s) => fmtNum(s.readCalls / s.deploys, 2)],
    ['ThrottlingException seen by Slipway', (s) => String(s.slipwayThrottled)],
    ['ThrottlingException seen by the other client', (s) => `${s.otherThrottled} of ${s.otherCalls}`],
    ['worker peak RSS (sampled)', (s) => fmtMiB(s.peakRssKiB)],
    ['history events per deploy, median (max)', (s) => `${fmtNum(median(s.historyEvents), 0)} (${Math.max(...s.historyEvents)})`],
    ['rollback under load: start → its UpdateService', (s) => (s.rollbackMs !== undefined ? fmtMs(s.rollbackMs) : `— (${s.rollbackWhy ?? 'not run'})`)],
    ['ECS events published during the run', (s) => (s.eventsPublished !== undefined ? String(s.eventsPublished) : '—')],
    ...(minute
      ? ([
          [
            `reads of one one-minute rollout, alone (aws ecs wait services-stable: ${minute.waiter})`,
            (s: FleetSide) => (s.mode === 'on' ? String(minute.events) : s.mode === 'off' ? String(minute.polling) : '—'),
          ],
        ] as [string, (s: FleetSide) => string][])
      : []),
  ];
  const n = sides[0]?.deploys ?? 0;
  return {
    title: `5. Fleet inside ECS's API limits: ${n} concurrent deploys across ${FLEET_CLUSTERS} clusters, one worker`,
    peerName: 'polling only',
    columns: sides.map((s) => s.label),
    rows: rows.map(([metric, f]) => ({ metric, slipway: '', peer: '', ratio: '', cells: sides.map(f) })),
    notes: [
      `Time is scaled ×${scale} (so that the run fits in minutes on 2 cores): rollouts (${rolloutS} s each at speed 1), the sandbox's bucket refill, the worker's poll intervals (1–1.5 s at speed 1), its reconcile interval (${RECONCILE_SECONDS} s at speed 1) and its budget all run ${scale} times as fast, so call counts per deploy are those of speed 1. At speed 1, RegisterTaskDefinition's sustained 1 call per second, at the worker's share of 0.5, lets a fleet finish at most 0.5 deploys of new revisions per second; at ×${scale} this machine carries up to ${fmtNum(0.5 * scale, 1)} per second. Times in the table are wall-clock times of this run; detection latency and the rollback's time do not scale (SQS, Temporal and the worker run at their own speed).`,
      `The sandbox enforces ECS's documented buckets per throttling category (service reads 100/20 per s, service deployment reads 50/20, RegisterTaskDefinition 20/1, UpdateService 50/5, …) for the whole account. A second client stands for the rest of the account and uses ${OTHER_SHARE * 100} % of the sustained rate of every category Slipway uses. The worker uses aws.ecsApiShare = 0.5 (the default).`,
      `The worker runs as the container image runs it: node dist/worker/main.js with the image's memory settings (${workerMemorySettings()}).`,
      `Events: the ECS sandbox publishes ECS's EventBridge events to moto's SQS (one queue per side); "20 % lost" drops a fifth of them at random (seeded). Detection latency is from ECS's finishedAt of the service deployment to the completion of the look that saw it (a watch or observe activity's completion, or the marker of a look run as a local activity), both on this machine's clock; the delivery row is from the COMPLETED event's time (whole seconds, as EventBridge gives it) to its signal in the deploy's history.`,
      ...(minute
        ? [
            `One-minute rollout: ${MINUTE_SERVICE.name} alone on the account, its rollout slowed to one minute; reads are the Describe*/List* calls Slipway made from its UpdateService to the deploy's end (reconcile interval 20 s, poll 1–1.5 s). The AWS CLI's waiter, started after a forced new deployment of the same service, polls DescribeServices every 15 s until the service is stable.`,
          ]
        : []),
      `Rollback under load: once half the fleet's services were updated, the production service ${ROLLBACK_SERVICE.name} is rolled back to its last validated release (an exact revision: nothing to register); measured from the start request to its UpdateService at the sandbox.`,
      ...sides.flatMap((s) => (s.failures.length ? [`${s.label}, not succeeded: ${s.failures.slice(0, 3).join(' | ')}`] : [])),
    ],
  };
}

/** The memory settings the fleet's worker runs with: the image's, or those BENCH_FLEET_WORKER_ENV sets instead. */
function workerMemorySettings(): string {
  const env: Record<string, string> = { ...imageRuntimeEnv(), ...fleetWorkerEnv() };
  const set = Object.entries(env).filter(([k]) => k === 'NODE_OPTIONS' || k === 'MALLOC_ARENA_MAX');
  return set.length ? set.map(([k, v]) => `${k}=${v || '(unset)'}`).join(', ') : 'none';
}

/** BENCH_FLEET_WORKER_ENV: NAME=value;… for the fleet's workers. */
function fleetWorkerEnv(): Record<string, string> {
  const raw = process.env.BENCH_FLEET_WORKER_ENV;
  return raw ? Object.fromEntries(raw.split(';').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])) : {};
}
