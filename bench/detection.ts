/**
 * Benchmark 1: how soon a finished rollout is reported done, and the Describe* calls the
 * watching costs. Slipway's deploy workflow against `aws ecs wait services-stable`, on twin
 * services of the same sandbox rolling out at the same time at the same speed.
 */
import { deployOutcome, startDeploy } from '../client/operations';
import type { SlipwayConfig } from '../domain/config';
import type { DeployResult } from '../contract';
import { waitServicesStable } from './aws-cli';
import { expectOk } from './proc';
import { bootstrapRatio, median, p90, fmtMs, fmtNum, fmtRatio, row, type Table } from './stats';
import { ROLLOUT_MS_AT_SPEED_1, callsFor, clusterOf, finishedAt, registerAndUpdate, type BenchService, type BenchStack, type WorkerProcess } from './stack';

/** Rollout durations are spread evenly over one waiter period above this floor. */
const MIN_ROLLOUT_MS = 10_000;
const WAITER_PERIOD_MS = 15_000;
/** The long rollout whose Describe* calls are counted. */
export const COUNT_ROLLOUT_MS = 60_000;

export function detectionServices(runs: number): BenchService[] {
  const out: BenchService[] = [];
  for (let i = 0; i < runs; i++) {
    out.push({ name: `det-${i}-plain`, env: 'staging' }, { name: `det-${i}-verify`, env: 'staging', versionEndpoint: true }, { name: `det-${i}-waiter`, env: 'staging' });
  }
  out.push({ name: 'calls-plain', env: 'staging' }, { name: 'calls-waiter', env: 'staging' });
  return out;
}

/** One watched rollout: detection latency, rollout duration and the Describe* calls while watching. */
export interface Watched {
  latencyMs: number;
  rolloutMs: number;
  /** Describe* calls from UpdateService until reported done. */
  describes: number;
  /** Every ECS call of the deploy (register and update included). */
  calls: number;
  /** Describe* calls in the last 30 s before the deployment finished, per minute. */
  tailDescribesPerMin: number;
}

/** A Slipway deploy through the worker; latency = workflow result received − ECS SUCCESSFUL. */
export async function slipwayWatched(stack: BenchStack, taskQueue: string, service: string, tag: string): Promise<Watched> {
  const from = stack.ecs.calls.length;
  const handle = await startDeploy(stack.client, { app: service, env: 'staging', tag, actor: 'alice', reason: 'benchmark' }, { taskQueue });
  const outcome = await deployOutcome<DeployResult>(handle);
  const doneAt = Date.now();
  if (!outcome.ok) throw new Error(`deploy of ${service} failed: ${outcome.type}: ${outcome.message}`);
  return watched(stack, service, outcome.result.taskDefinitionArn, from, doneAt);
}

/** The peer: register + update through the SDK, then the AWS CLI waiter; latency = waiter exit − ECS SUCCESSFUL. */
export async function waiterWatched(stack: BenchStack, config: SlipwayConfig, service: string, tag: string): Promise<Watched> {
  const from = stack.ecs.calls.length;
  const target = stack.target(config, service);
  const arn = await registerAndUpdate(stack.sdk, target, tag);
  const r = expectOk(await waitServicesStable(stack.ecs.url, target.cluster, service), `aws ecs wait services-stable (${service})`);
  return watched(stack, service, arn, from, r.endedAt);
}

function watched(stack: BenchStack, service: string, taskDefinitionArn: string, from: number, doneAt: number): Watched {
  const done = finishedAt(stack.ecs, service, taskDefinitionArn);
  const calls = callsFor(stack.ecs, service, from);
  const update = calls.find((c) => c.op === 'UpdateService');
  if (!update) throw new Error(`no UpdateService for ${service}`);
  return {
    latencyMs: doneAt - done,
    rolloutMs: done - update.at,
    describes: calls.filter((c) => c.op.startsWith('Describe') && c.at >= update.at && c.at <= doneAt).length,
    calls: calls.filter((c) => c.at <= doneAt).length,
    tailDescribesPerMin: calls.filter((c) => c.op.startsWith('Describe') && c.at > done - 30_000 && c.at <= done).length * 2,
  };
}

/** Resolves once the newest service deployment of every one of `services` started after `since` and succeeded. */
async function rolledOut(stack: BenchStack, services: string[], since: number): Promise<void> {
  const deadline = Date.now() + 120_000;
  const done = (name: string) => {
    const sd = stack.ecs.service(clusterOf(name), name).serviceDeployments[0];
    return !!sd && sd.createdAt.getTime() >= since && sd.status === 'SUCCESSFUL';
  };
  while (!services.every(done)) {
    if (Date.now() > deadline) throw new Error(`rollouts of ${services.join(', ')} did not succeed within 120 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface DetectionResult {
  runs: { rolloutMs: number; plain: Watched; verify: Watched; waiter: Watched }[];
  count: { plain: Watched; waiter: Watched };
}

export async function runDetection(stack: BenchStack, config: SlipwayConfig, worker: WorkerProcess, runs: number, tag: string, log: (s: string) => void): Promise<DetectionResult> {
  const pending: Promise<DetectionResult['runs'][number]>[] = [];
  for (let i = 0; i < runs; i++) {
    // Rollouts of different lengths put completion at every phase of the waiter's 15 s cycle.
    const rolloutMs = MIN_ROLLOUT_MS + (WAITER_PERIOD_MS * (i + 0.5)) / runs;
    stack.ecs.setSpeed(ROLLOUT_MS_AT_SPEED_1 / rolloutMs);
    const since = Date.now();
    const names = [`det-${i}-plain`, `det-${i}-verify`, `det-${i}-waiter`];
    const run = Promise.all([
      slipwayWatched(stack, worker.taskQueue, names[0], tag),
      slipwayWatched(stack, worker.taskQueue, names[1], tag),
      waiterWatched(stack, config, names[2], tag),
    ]).then(([plain, verify, waiter]) => {
      log(
        `detection ${i + 1}/${runs}: rollout ${fmtMs(waiter.rolloutMs)}; Slipway ${fmtMs(plain.latencyMs)}, with version check ${fmtMs(verify.latencyMs)}; waiter ${fmtMs(waiter.latencyMs)}`,
      );
      return { rolloutMs, plain, verify, waiter };
    });
    run.catch(() => undefined);
    pending.push(run);
    // The next run may change the speed once these rollouts are over; detection goes on meanwhile.
    await Promise.race([rolledOut(stack, names, since), run]);
  }
  const out = await Promise.all(pending);

  stack.ecs.setSpeed(ROLLOUT_MS_AT_SPEED_1 / COUNT_ROLLOUT_MS);
  log(`counting calls over a ${COUNT_ROLLOUT_MS / 1000} s rollout…`);
  const [plain, waiter] = await Promise.all([slipwayWatched(stack, worker.taskQueue, 'calls-plain', tag), waiterWatched(stack, config, 'calls-waiter', tag)]);
  log(`counted: Slipway ${plain.describes} Describe* calls, waiter ${waiter.describes} (rollout ${fmtMs(waiter.rolloutMs)})`);
  return { runs: out, count: { plain, waiter } };
}

export function detectionTable(r: DetectionResult): Table {
  const plain = r.runs.map((x) => x.plain.latencyMs);
  const verify = r.runs.map((x) => x.verify.latencyMs);
  const waiter = r.runs.map((x) => x.waiter.latencyMs);
  const rollouts = r.runs.map((x) => x.waiter.rolloutMs);
  const perMin = (w: Watched) => w.describes / (w.rolloutMs / 60_000);
  const speedup = median(waiter) / median(plain);
  const [lo, hi] = bootstrapRatio(waiter, plain, median);
  return {
    title: '1. Detection latency: ECS deployment SUCCESSFUL → reported done',
    peerName: 'aws ecs wait services-stable',
    rows: [
      row('median', median(plain), median(waiter), fmtMs),
      row('p90', p90(plain), p90(waiter), fmtMs),
      row('median, Slipway with version endpoint check', median(verify), median(waiter), fmtMs),
      row('p90, Slipway with version endpoint check', p90(verify), p90(waiter), fmtMs),
      row(`Describe* calls during a ${fmtMs(r.count.waiter.rolloutMs)} rollout (measured)`, r.count.plain.describes, r.count.waiter.describes, (n) => fmtNum(n, 0)),
      row('Describe* calls per minute of rollout', perMin(r.count.plain), perMin(r.count.waiter), (n) => fmtNum(n, 1)),
      row('Describe* calls per minute while only old tasks drain (last 30 s before completion)', r.count.plain.tailDescribesPerMin, r.count.waiter.tailDescribesPerMin, (n) =>
        fmtNum(n, 0),
      ),
      row('Describe* calls over a 5-minute rollout (per-minute rate × 5, extrapolated)', perMin(r.count.plain) * 5, perMin(r.count.waiter) * 5, (n) => fmtNum(n, 0)),
    ],
    notes: [
      `${r.runs.length} runs per side; each run rolls out three twin services (2 tasks each) at once: one deployed by Slipway, one by Slipway with a version endpoint to check, and one by the peer (register + update through the SDK, then the waiter).`,
      `Rollouts last ${fmtMs(Math.min(...rollouts))}–${fmtMs(Math.max(...rollouts))}, spread evenly over one 15 s waiter period so completion falls at every phase of its polling. Both sides poll on fixed schedules from their UpdateService, so it is the rollout length that moves completion across their poll phases. A run starts once the previous run's rollouts have finished (its detection may still be going on).`,
      `Latency is measured from the finishedAt the ECS sandbox records for the service deployment to the workflow result reaching the client (Slipway) or the waiter process exiting.`,
      `Speed-up (waiter ÷ Slipway), median: ${fmtRatio(median(waiter), median(plain))}, bootstrap 90% interval ${lo.toFixed(1)}–${hi.toFixed(1)}×; p90: ${fmtRatio(p90(waiter), p90(plain))}. Goal ≥5× faster detection: ${speedup >= 5 ? 'met' : 'not met'} by this run's medians${lo < 5 && hi >= 5 ? ', but the interval straddles 5×: with this many runs the verdict can flip between runs' : ''}.`,
      `Calls: one ${fmtMs(r.count.waiter.rolloutMs)} rollout, counted from UpdateService to reported done; Slipway polls DescribeServices every 1–1.5 s and DescribeServiceDeployments only when the service shows a change that can decide the outcome (worker defaults), the waiter DescribeServices every 15 s. The 5-minute figures are the measured per-minute rates × 5, not a 5-minute run; the 60 s rollout's phases (12 s task start, 12 s health checks, 36 s draining) are stretched evenly, so a real rollout that spends longer idle costs Slipway closer to its draining-phase rate.`,
    ],
  };
}
