/**
 * Benchmark 3: many concurrent deploys of distinct services on one worker process
 * (worker/main.ts): do they all finish, what does the worker use (peak RSS from VmHWM, CPU
 * seconds from utime + stime), how long are the histories, how many ECS calls per deploy.
 * Peer: `aws ecs wait services-stable` processes, one per service (a smaller number run
 * concurrently; memory and CPU scaled up linearly to the same number of services).
 */
import os from 'node:os';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { deployOutcome, startDeploy } from '../client/operations';
import type { SlipwayConfig } from '../domain/config';
import { waitServicesStableMeasured } from './aws-cli';
import { median, p90, max, sum, fmtMs, fmtNum, fmtMiB, row, type Table } from './stats';
import { procStats } from './proc';
import { callsFor, finishedAt, registerAndUpdate, serviceOfCall, spawnWorker, type BenchService, type BenchStack } from './stack';

export function scaleServices(n: number): BenchService[] {
  return Array.from({ length: n }, (_, i) => ({ name: `scale-${String(i + 1).padStart(3, '0')}`, env: 'staging' as const }));
}

interface Side {
  deploys: number;
  succeeded: number;
  /** Per deploy: start (or register) → reported done. */
  durationsMs: number[];
  /** Per successful deploy: start → UpdateService received, and ECS SUCCESSFUL → reported done. */
  toUpdateMs: number[];
  detectMs: number[];
  wallMs: number;
  ecsCalls: number;
  describeCalls: number;
}

export interface ScaleResult {
  slipway: Side & {
    hwmKiB: number;
    idleRssKiB: number;
    peakRssKiB: number;
    cpuSeconds: number;
    historyEvents: number[];
    /** Scheduled → started, from the histories: activity tasks and workflow tasks (ms). */
    activityWaitMs: number[];
    workflowTaskWaitMs: number[];
    /** CPU seconds of the other processes during the run: Temporal dev server, the bench process (sandboxes, client). */
    temporalCpuSeconds: number;
    benchCpuSeconds: number;
  };
  peer: Side & { maxRssKiB: number[]; cpuSeconds: number[] };
}

/** Start → UpdateService and SUCCESSFUL → done for one deploy of `service`. */
function phases(stack: BenchStack, service: string, taskDefinitionArn: string, from: number, startedAt: number, doneAt: number) {
  const update = callsFor(stack.ecs, service, from).find((c) => c.op === 'UpdateService');
  return { toUpdate: (update?.at ?? NaN) - startedAt, detect: doneAt - finishedAt(stack.ecs, service, taskDefinitionArn) };
}

type HistoryEvent = NonNullable<Awaited<ReturnType<WorkflowHandle['fetchHistory']>>['events']>[number];

/** Scheduled → started of every activity task and workflow task in a history. */
function taskWaits(events: HistoryEvent[]): { activity: number[]; workflowTask: number[] } {
  const ms = (t: HistoryEvent['eventTime']) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;
  const scheduled = new Map<string, number>();
  const activity: number[] = [];
  const workflowTask: number[] = [];
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes || e.workflowTaskScheduledEventAttributes) scheduled.set(String(e.eventId), ms(e.eventTime));
    const a = e.activityTaskStartedEventAttributes;
    const from = (id: unknown) => scheduled.get(String(id)) ?? NaN;
    if (a) activity.push(ms(e.eventTime) - from(a.scheduledEventId));
    const w = e.workflowTaskStartedEventAttributes;
    if (w) workflowTask.push(ms(e.eventTime) - from(w.scheduledEventId));
  }
  return { activity, workflowTask };
}

function countCalls(stack: BenchStack, names: Set<string>, from: number) {
  const calls = stack.ecs.calls.slice(from).filter((c) => names.has(serviceOfCall(c) ?? ''));
  return { ecsCalls: calls.length, describeCalls: calls.filter((c) => c.op.startsWith('Describe')).length };
}

export async function runScale(
  stack: BenchStack,
  cfg: { path: string; config: SlipwayConfig },
  services: BenchService[],
  waiters: number,
  tags: [string, string],
  log: (s: string) => void,
): Promise<ScaleResult> {
  stack.ecs.setSpeed(1);
  const worker = await spawnWorker(stack, cfg.path, `bench-scale-${process.pid}`);
  const idle = worker.stats()!;
  let peakRss = idle.rssKiB;
  const sampler = setInterval(() => {
    const s = worker.stats();
    if (s) peakRss = Math.max(peakRss, s.rssKiB);
  }, 100);
  let slipway: ScaleResult['slipway'];
  try {
    const names = new Set(services.map((s) => s.name));
    const from = stack.ecs.calls.length;
    const temporalBefore = procStats(stack.temporal.process.pid!)?.cpuSeconds ?? NaN;
    const benchBefore = process.cpuUsage();
    const t0 = Date.now();
    const results = await Promise.all(
      services.map(async (s) => {
        const startedAt = Date.now();
        const handle = await startDeploy(stack.client, { app: s.name, env: 'staging', tag: tags[0], actor: 'alice', reason: 'scale benchmark' }, { taskQueue: worker.taskQueue });
        const outcome = await deployOutcome(handle);
        const doneAt = Date.now();
        return {
          handle,
          ok: outcome.ok,
          why: outcome.ok ? '' : `${outcome.type}: ${outcome.message}`,
          ms: doneAt - startedAt,
          phases: outcome.ok ? phases(stack, s.name, outcome.result.taskDefinitionArn, from, startedAt, doneAt) : undefined,
        };
      }),
    );
    const wallMs = Date.now() - t0;
    const after = worker.stats()!;
    const temporalCpuSeconds = (procStats(stack.temporal.process.pid!)?.cpuSeconds ?? NaN) - temporalBefore;
    const bench = process.cpuUsage(benchBefore);
    clearInterval(sampler);
    const failed = results.filter((r) => !r.ok);
    if (failed.length) log(`scale: ${failed.length} deploys did not succeed, e.g. ${failed[0].why}`);
    log(`scale: ${results.length - failed.length}/${results.length} succeeded in ${fmtMs(wallMs)}; fetching histories…`);
    const historyEvents: number[] = [];
    const activityWaitMs: number[] = [];
    const workflowTaskWaitMs: number[] = [];
    for (let i = 0; i < results.length; i += 25) {
      const batch = await Promise.all(results.slice(i, i + 25).map(async (r) => (await r.handle.fetchHistory()).events ?? []));
      for (const events of batch) {
        historyEvents.push(events.length);
        const w = taskWaits(events);
        activityWaitMs.push(...w.activity);
        workflowTaskWaitMs.push(...w.workflowTask);
      }
    }
    slipway = {
      deploys: results.length,
      succeeded: results.length - failed.length,
      durationsMs: results.map((r) => r.ms),
      toUpdateMs: results.flatMap((r) => (r.phases ? [r.phases.toUpdate] : [])),
      detectMs: results.flatMap((r) => (r.phases ? [r.phases.detect] : [])),
      wallMs,
      ...countCalls(stack, names, from),
      hwmKiB: after.hwmKiB,
      idleRssKiB: idle.rssKiB,
      peakRssKiB: peakRss,
      cpuSeconds: after.cpuSeconds - idle.cpuSeconds,
      historyEvents,
      activityWaitMs,
      workflowTaskWaitMs,
      temporalCpuSeconds,
      benchCpuSeconds: (bench.user + bench.system) / 1e6,
    };
  } finally {
    clearInterval(sampler);
    await worker.stop();
  }

  // The peer, on the first `waiters` services, rolled out again.
  const peerServices = services.slice(0, waiters);
  const names = new Set(peerServices.map((s) => s.name));
  const from = stack.ecs.calls.length;
  const t0 = Date.now();
  const runs = await Promise.all(
    peerServices.map(async (s, i) => {
      const startedAt = Date.now();
      const target = stack.target(cfg.config, s.name);
      const arn = await registerAndUpdate(stack.sdk, target, tags[1]);
      const r = await waitServicesStableMeasured(stack.ecs.url, target.cluster, s.name, join(stack.dir, `time-${i}.txt`));
      const ok = r.code === 0;
      return { ok, ms: r.endedAt - startedAt, rss: r.maxRssKiB, cpu: r.cpuSeconds, phases: ok ? phases(stack, s.name, arn, from, startedAt, r.endedAt) : undefined };
    }),
  );
  const peer: ScaleResult['peer'] = {
    deploys: runs.length,
    succeeded: runs.filter((r) => r.ok).length,
    durationsMs: runs.map((r) => r.ms),
    toUpdateMs: runs.flatMap((r) => (r.phases ? [r.phases.toUpdate] : [])),
    detectMs: runs.flatMap((r) => (r.phases ? [r.phases.detect] : [])),
    wallMs: Date.now() - t0,
    ...countCalls(stack, names, from),
    maxRssKiB: runs.map((r) => r.rss),
    cpuSeconds: runs.map((r) => r.cpu),
  };
  log(`scale peer: ${peer.succeeded}/${peer.deploys} waiters succeeded in ${fmtMs(peer.wallMs)}`);
  return { slipway, peer };
}

export function scaleTable(r: ScaleResult): Table {
  const s = r.slipway;
  const p = r.peer;
  const k = s.deploys / p.deploys;
  const peerRss = sum(p.maxRssKiB) * k;
  const peerCpu = sum(p.cpuSeconds) * k;
  return {
    title: `3. Scale: ${s.deploys} concurrent deploys of distinct services`,
    peerName: `${s.deploys} × aws ecs wait (from ${p.deploys} run)`,
    rows: [
      { metric: 'deploys that finished successfully', slipway: `${s.succeeded}/${s.deploys}`, peer: `${p.succeeded}/${p.deploys}`, ratio: '—' },
      row('time to reported done per deploy, median', median(s.durationsMs), median(p.durationsMs), fmtMs),
      row('time to reported done per deploy, p90', p90(s.durationsMs), p90(p.durationsMs), fmtMs),
      row('start → UpdateService received, median', median(s.toUpdateMs), median(p.toUpdateMs), fmtMs),
      row('start → UpdateService received, p90', p90(s.toUpdateMs), p90(p.toUpdateMs), fmtMs),
      row('ECS SUCCESSFUL → reported done, median', median(s.detectMs), median(p.detectMs), fmtMs),
      row('ECS SUCCESSFUL → reported done, p90', p90(s.detectMs), p90(p.detectMs), fmtMs),
      { metric: 'wall time, first start → last done', slipway: fmtMs(s.wallMs), peer: fmtMs(p.wallMs), ratio: '—' },
      row('peak memory (worker VmHWM | sum of waiters’ max RSS, scaled)', s.hwmKiB, peerRss, fmtMiB),
      row('CPU seconds (worker during the run | waiters, scaled)', s.cpuSeconds, peerCpu, (n) => `${fmtNum(n, 1)} s`),
      row('ECS calls per deploy', s.ecsCalls / s.deploys, p.ecsCalls / p.deploys, (n) => fmtNum(n, 1)),
      row('Describe* calls per deploy', s.describeCalls / s.deploys, p.describeCalls / p.deploys, (n) => fmtNum(n, 1)),
      {
        metric: 'history events per deploy, median (max)',
        slipway: `${fmtNum(median(s.historyEvents), 0)} (${max(s.historyEvents)})`,
        peer: '—',
        ratio: '—',
      },
    ],
    notes: [
      `Slipway: one worker process (worker/main.ts, default settings: ECS polled every 1–1.5 s), ${s.deploys} deploys started at once through the client; each service has 2 tasks and rolls out in about 10 s. Worker RSS when idle ${fmtMiB(s.idleRssKiB)}, highest sampled RSS during the run ${fmtMiB(s.peakRssKiB)}; VmHWM includes start-up.`,
      `Same machine, same run: the Temporal dev server used ${fmtNum(s.temporalCpuSeconds, 1)} CPU s and the benchmark process (ECS, GitHub and site sandboxes, the client) ${fmtNum(s.benchCpuSeconds, 1)} CPU s, over ${fmtMs(s.wallMs)} on ${os.availableParallelism()} cores.`,
      `Peer: ${p.deploys} services registered + updated through the SDK and watched by ${p.deploys} concurrent \`aws ecs wait services-stable\` processes under GNU time; their summed max RSS and CPU seconds are multiplied by ${fmtNum(k, 1)} to stand for ${s.deploys} (an extrapolation, not a run of ${s.deploys}). Peer calls include its DescribeTaskDefinition, RegisterTaskDefinition and UpdateService.`,
      `Task queue waits (scheduled → started, from the histories): activity tasks median ${fmtMs(median(s.activityWaitMs))}, p90 ${fmtMs(p90(s.activityWaitMs))}, max ${fmtMs(max(s.activityWaitMs))}; workflow tasks median ${fmtMs(median(s.workflowTaskWaitMs))}, p90 ${fmtMs(p90(s.workflowTaskWaitMs))}, max ${fmtMs(max(s.workflowTaskWaitMs))}.`,
      'ECS calls are counted per service from the sandbox call log; histories are `fetchHistory()` event counts.',
    ],
  };
}
