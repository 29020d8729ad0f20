/**
 * Benchmark 5: a fleet inside ECS's API limits. N concurrent deploys of distinct services
 * across 20 clusters on one worker process, with the ECS sandbox enforcing ECS's documented
 * token buckets per throttling category and a second client (the rest of the account:
 * console, Terraform, monitoring) using 30 % of each bucket Slipway uses. Side by side: the
 * worker with its ECS budget (default share) and the same worker without it (today's
 * behaviour before the budget). Time runs `FLEET_TIME_SCALE` times faster for rollouts,
 * bucket refill, the worker's poll intervals and its budget alike.
 */
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  ECSClient,
  ListServiceDeploymentsCommand,
  ListTasksCommand,
  RegisterTaskDefinitionCommand,
  UpdateServiceCommand,
} from '@aws-sdk/client-ecs';
import type { WorkflowHandle } from '@temporalio/client';
import { deployOutcome, startDeploy } from '../client/operations';
import type { SlipwayConfig } from '../domain/config';
import { DOCUMENTED_LIMITS, type ThrottlingCategory } from '../domain/ecs-throttling';
import { fmtMiB, fmtMs, fmtNum, median, p90, type Table } from './stats';
import { REGION, TIMING, spawnWorker, type BenchService, type BenchStack } from './stack';

export const FLEET_CLUSTERS = 20;
/** The share of each bucket the other client uses. */
const OTHER_SHARE = 0.3;
const OTHER_KEY = 'AKIAOTHERTOOLS';
/** The sandbox signs the worker's calls with this key (see activities/clients.ts). */
const SLIPWAY_KEY = 'sandbox';

export function fleetServices(n: number): BenchService[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `fleet-${String(i + 1).padStart(4, '0')}`,
    env: 'staging' as const,
    cluster: `fleet-cluster-${String((i % FLEET_CLUSTERS) + 1).padStart(2, '0')}`,
  }));
}

export interface FleetSide {
  label: string;
  deploys: number;
  succeeded: number;
  failures: string[];
  durationsMs: number[];
  wallMs: number;
  slipwayCalls: number;
  describeCalls: number;
  slipwayThrottled: number;
  otherCalls: number;
  otherThrottled: number;
  peakRssKiB: number;
  historyEvents: number[];
}

/** The rest of the account: calls of each category Slipway uses at OTHER_SHARE of its sustained rate. */
function startOtherClient(stack: BenchStack, scale: number, service: { cluster: string; name: string; family: string }): () => Promise<void> {
  const sdk = new ECSClient({ endpoint: stack.ecs.url, region: REGION, credentials: { accessKeyId: OTHER_KEY, secretAccessKey: 'x' }, maxAttempts: 1 });
  const calls: Record<ThrottlingCategory, (() => Promise<unknown>) | undefined> = {
    'service-read': () => sdk.send(new DescribeServicesCommand({ cluster: service.cluster, services: [service.name] })),
    'service-deployment-read': () => sdk.send(new ListServiceDeploymentsCommand({ cluster: service.cluster, service: service.name })),
    'task-definition-read': () => sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: service.family })),
    'task-read': () => sdk.send(new ListTasksCommand({ cluster: service.cluster, serviceName: service.name })),
    'task-definition-register': () =>
      sdk.send(new RegisterTaskDefinitionCommand({ family: 'other-tool', containerDefinitions: [{ name: 'app', image: 'registry.example/other:1' }] })),
    'service-update': () => sdk.send(new UpdateServiceCommand({ cluster: service.cluster, service: service.name, desiredCount: 2 })),
  } as Record<ThrottlingCategory, (() => Promise<unknown>) | undefined>;
  const timers = Object.entries(calls).map(([category, call]) => {
    const perSecond = DOCUMENTED_LIMITS[category as ThrottlingCategory].perSecond * OTHER_SHARE * scale;
    return setInterval(() => void call!().catch(() => undefined), 1000 / perSecond);
  });
  return async () => {
    for (const t of timers) clearInterval(t);
    sdk.destroy();
  };
}

async function runSide(
  stack: BenchStack,
  cfg: { path: string; config: SlipwayConfig },
  services: BenchService[],
  tag: string,
  scale: number,
  budget: boolean,
  log: (s: string) => void,
): Promise<FleetSide> {
  const label = budget ? 'with the ECS budget' : 'without (before)';
  stack.ecs.setSpeed(scale);
  stack.ecs.setThrottling({});
  const worker = await spawnWorker(stack, cfg.path, `bench-fleet-${budget ? 'budget' : 'none'}-${process.pid}`, {
    SLIPWAY_ECS_BUDGET: budget ? 'on' : 'off',
    SLIPWAY_ECS_BUDGET_TIME_SCALE: String(scale),
    SLIPWAY_POLL_MIN_MS: String(Math.round(1000 / scale)),
    SLIPWAY_POLL_MAX_MS: String(Math.round(1500 / scale)),
  });
  let peakRss = worker.stats()?.rssKiB ?? 0;
  const sampler = setInterval(() => {
    const s = worker.stats();
    if (s) peakRss = Math.max(peakRss, s.rssKiB);
  }, 200);
  // The other client works on a service outside the benchmark's set.
  const stopOther = startOtherClient(stack, scale, { cluster: 'staging-default', name: 'staging-api', family: 'staging-api-template' });
  stack.ecs.resetCalls();
  const from = 0;
  const t0 = Date.now();
  let results: { handle: WorkflowHandle; ok: boolean; why: string; ms: number }[];
  try {
    results = await Promise.all(
      services.map(async (s) => {
        const startedAt = Date.now();
        const handle = await startDeploy(stack.client, { app: s.name, env: 'staging', tag, actor: 'alice', reason: 'fleet benchmark' }, { taskQueue: worker.taskQueue });
        const outcome = await deployOutcome(handle);
        return { handle, ok: outcome.ok, why: outcome.ok ? '' : `${outcome.type}: ${outcome.message}`, ms: Date.now() - startedAt };
      }),
    );
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
  const calls = stack.ecs.calls.slice(from).filter((c) => c.caller === SLIPWAY_KEY);
  const failed = results.filter((r) => !r.ok);
  log(`fleet ${label}: ${results.length - failed.length}/${results.length} succeeded in ${fmtMs(wallMs)}${failed.length ? `; e.g. ${failed[0].why}` : ''}`);
  const historyEvents: number[] = [];
  for (let i = 0; i < results.length; i += 25) {
    const batch = await Promise.all(results.slice(i, i + 25).map(async (r) => (await r.handle.fetchHistory()).events?.length ?? 0));
    historyEvents.push(...batch);
  }
  return {
    label,
    deploys: results.length,
    succeeded: results.length - failed.length,
    failures: failed.map((f) => f.why),
    durationsMs: results.map((r) => r.ms),
    wallMs,
    slipwayCalls: calls.length,
    describeCalls: calls.filter((c) => c.op.startsWith('Describe')).length,
    slipwayThrottled: sum(stats.byCaller[SLIPWAY_KEY], 'throttled'),
    otherCalls: sum(stats.byCaller[OTHER_KEY], 'allowed') + sum(stats.byCaller[OTHER_KEY], 'throttled'),
    otherThrottled: sum(stats.byCaller[OTHER_KEY], 'throttled'),
    peakRssKiB: peakRss,
    historyEvents,
  };
}

export async function runFleet(
  stack: BenchStack,
  cfg: { path: string; config: SlipwayConfig },
  services: BenchService[],
  tags: [string, string],
  scale: number,
  log: (s: string) => void,
): Promise<{ before: FleetSide; after: FleetSide; scale: number }> {
  const before = await runSide(stack, cfg, services, tags[0], scale, false, log);
  const after = await runSide(stack, cfg, services, tags[1], scale, true, log);
  return { before, after, scale };
}

export function fleetTable(r: { before: FleetSide; after: FleetSide; scale: number }): Table {
  const { before: b, after: a, scale } = r;
  const rolloutS = (TIMING.taskStartMs + TIMING.healthyMs + TIMING.drainMs) / 1000;
  /** Describe calls per deploy per minute it took (wall clock). */
  const perMinute = (s: FleetSide) => s.describeCalls / s.deploys / (median(s.durationsMs) / 60_000);
  const cell = (s: FleetSide, f: (s: FleetSide) => string) => f(s);
  const rows = [
    ['deploys that finished successfully', (s: FleetSide) => `${s.succeeded}/${s.deploys}`],
    ['time to done per deploy, median (wall)', (s: FleetSide) => fmtMs(median(s.durationsMs))],
    ['time to done per deploy, p90 (wall)', (s: FleetSide) => fmtMs(p90(s.durationsMs))],
    ['wall time, first start → last done', (s: FleetSide) => fmtMs(s.wallMs)],
    ['ECS calls per deploy (sent, throttled ones included)', (s: FleetSide) => fmtNum(s.slipwayCalls / s.deploys, 1)],
    ['Describe* calls per deploy', (s: FleetSide) => fmtNum(s.describeCalls / s.deploys, 1)],
    ['Describe* calls per deploy per minute (wall)', (s: FleetSide) => fmtNum(perMinute(s), 1)],
    ['ThrottlingException seen by Slipway', (s: FleetSide) => String(s.slipwayThrottled)],
    ['ThrottlingException seen by the other client', (s: FleetSide) => `${s.otherThrottled} of ${s.otherCalls}`],
    ['worker peak RSS (sampled)', (s: FleetSide) => fmtMiB(s.peakRssKiB)],
    ['history events per deploy, median (max)', (s: FleetSide) => `${fmtNum(median(s.historyEvents), 0)} (${Math.max(...s.historyEvents)})`],
  ] as const;
  return {
    title: `5. Fleet inside ECS's API limits: ${a.deploys} concurrent deploys across ${FLEET_CLUSTERS} clusters, one worker`,
    peerName: 'same worker without the ECS budget (before)',
    rows: rows.map(([metric, f]) => ({ metric, slipway: cell(a, f), peer: cell(b, f), ratio: '—' })),
    notes: [
      `Time is scaled ×${scale} (so that the run fits in minutes on 2 cores): rollouts (${rolloutS} s each at speed 1), the sandbox's bucket refill, the worker's poll intervals (1–1.5 s at speed 1) and its budget all run ${scale} times as fast, so call counts per deploy are those of speed 1; times in the table are wall-clock times of this run, which also include the steps that do not scale (preflight against the registry, Temporal task dispatch on a loaded machine).`,
      `The sandbox enforces ECS's documented buckets per throttling category (service reads 100/20 per s, service deployment reads 50/20, RegisterTaskDefinition 20/1, UpdateService 50/5, …) for the whole account. A second client stands for the rest of the account and uses ${OTHER_SHARE * 100} % of the sustained rate of every category Slipway uses. The budgeted worker uses aws.ecsApiShare = ${fmtNum(0.5, 1)} (the default).`,
      ...(a.failures.length ? [`With the budget, not succeeded: ${a.failures.slice(0, 3).join(' | ')}`] : []),
      ...(b.failures.length ? [`Without the budget, not succeeded: ${b.failures.slice(0, 3).join(' | ')}`] : []),
    ],
  };
}
