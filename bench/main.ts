/**
 * `npm run bench`: Slipway side by side with a peer — how soon a finished rollout is
 * reported (vs `aws ecs wait services-stable`), the overhead before ECS sees UpdateService
 * (vs an AWS CLI script), many concurrent deploys on one worker (vs one waiter per
 * service), CLI start (vs `temporal workflow start`), a fleet under ECS's API buckets, and
 * approval → production (vs a 15 s "check for approval" loop). Prints a table per
 * benchmark and writes docs/benchmarks.md.
 *
 * Knobs (environment): BENCH_RUNS (runs per side, default 14), BENCH_SCALE (concurrent
 * deploys, default 200), BENCH_WAITERS (concurrent peer waiters, default 20),
 * BENCH_ONLY (comma-separated subset of detection,overhead,scale,cli,fleet,approval), BENCH_OUT
 * (the markdown file; default docs/benchmarks.md, none for a BENCH_ONLY run), BENCH_FLEET
 * (deploys of the fleet benchmark, default 200), BENCH_FLEET_TIME_SCALE (default 5), BENCH_FLEET_SIDES
 * (on,dropped,off: events, events with 20 % lost, polling only; default all), BENCH_FLEET_MINUTE=off
 * (skips the one-minute rollouts), BENCH_FLEET_WORKER_ENV (NAME=value;… for the fleet's workers),
 * BENCH_APPROVALS (approvals per side of the approval benchmark, default 12).
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, toolPath } from '../sandbox/tools';
import { approvalConfig, approvalServices, approvalTable, runApproval } from './approval';
import { awsVersion } from './aws-cli';
import { cliStartServices, cliStartTable, runCliStart } from './cli-start';
import { detectionServices, detectionTable, runDetection } from './detection';
import { MINUTE_SERVICE, ROLLBACK_SERVICE, fleetServices, fleetTable, runFleet } from './fleet';
import { machine, renderDocument } from './report';
import { overheadServices, overheadTable, runOverhead } from './overhead';
import { run } from './proc';
import { runScale, scaleServices, scaleTable } from './scale';
import { renderText, type Table } from './stats';
import { ROLLOUT_MS_AT_SPEED_1, spawnWorker, startBenchStack } from './stack';

const TAG = '3f2c1a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a';
const TAG2 = '9c4e2b7d1a0f3e5c6b8a9d2e1f0c3b4a5d6e7f80';

function intEnv(name: string, fallback: number): number {
  const v = Number(process.env[name] ?? '');
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

async function main(): Promise<void> {
  const runs = intEnv('BENCH_RUNS', 14);
  const scaleN = intEnv('BENCH_SCALE', 200);
  const waiters = Math.min(intEnv('BENCH_WAITERS', 20), scaleN);
  const only = new Set((process.env.BENCH_ONLY || 'detection,overhead,scale,cli,fleet,approval').split(',').map((s) => s.trim()));
  // A partial run does not overwrite the committed figures unless told where to write.
  const out = process.env.BENCH_OUT || (process.env.BENCH_ONLY ? undefined : join(REPO_ROOT, 'docs', 'benchmarks.md'));
  const began = Date.now();
  const loadAtStart = os.loadavg()[0];
  const log = (s: string) => process.stderr.write(`[${((Date.now() - began) / 1000).toFixed(0).padStart(4)} s] ${s}\n`);

  const det = detectionServices(runs);
  const ovh = overheadServices(runs);
  const start = cliStartServices(runs);
  const scale = scaleServices(scaleN);
  const fleetN = intEnv('BENCH_FLEET', 200);
  const fleetScale = intEnv('BENCH_FLEET_TIME_SCALE', 5);
  const fleet = only.has('fleet') ? fleetServices(fleetN) : [];
  const fleetSeeded = only.has('fleet') ? [...fleet, ROLLBACK_SERVICE, MINUTE_SERVICE] : [];
  const approvals = Math.max(intEnv('BENCH_APPROVALS', 12), 10);
  const apr = only.has('approval') ? approvalServices(approvals) : [];
  log(`starting Temporal and the sandboxes; seeding ${det.length + ovh.slipway.length + ovh.peer.length + start.length + scale.length + fleetSeeded.length + apr.length} services`);
  const stack = await startBenchStack([...det, ...ovh.slipway, ...ovh.peer, ...start, ...scale, ...fleetSeeded, ...apr], [TAG, TAG2], { events: only.has('fleet') });
  const tables: Table[] = [];
  const print = (t: Table) => {
    tables.push(t);
    process.stdout.write(`\n${renderText(t)}\n\n`);
  };
  try {
    const workerCfg = stack.writeConfig('worker', [...det, ...ovh.slipway, ...ovh.peer]);
    const ovhCli = stack.writeConfig('cli-overhead', [...ovh.slipway, ...ovh.peer]);
    const startCli = stack.writeConfig('cli-start', start);
    const scaleCfg = stack.writeConfig('scale', scale);

    if (only.has('detection') || only.has('overhead')) {
      const worker = await spawnWorker(stack, workerCfg.path, `bench-${process.pid}`);
      try {
        if (only.has('detection')) {
          log(`1/4 detection latency: ${runs} runs per side, then one 60 s rollout`);
          print(detectionTable(await runDetection(stack, workerCfg.config, worker, runs, TAG, log)));
        }
        if (only.has('overhead')) {
          stack.ecs.setSpeed(ROLLOUT_MS_AT_SPEED_1 / 2000);
          log(`2/4 orchestration overhead: ${runs} runs per side`);
          print(overheadTable(await runOverhead(stack, ovhCli, worker.taskQueue, runs, TAG, log)));
        }
      } finally {
        await worker.stop();
      }
    }
    if (only.has('scale')) {
      log(`3/4 scale: ${scaleN} concurrent deploys on a fresh worker process; ${waiters} peer waiters`);
      print(scaleTable(await runScale(stack, scaleCfg, scale, waiters, [TAG, TAG2], log)));
    }
    if (only.has('fleet')) {
      log(`5/5 fleet: ${fleetN} concurrent deploys across 20 clusters under ECS's buckets, time ×${fleetScale}: watched by events, by events with 20 % lost, by polling only`);
      print(fleetTable(await runFleet(stack, fleet, [TAG, TAG2], fleetScale, log)));
    }
    if (only.has('approval')) {
      const aprCfg = stack.writeConfig('approval', apr, approvalConfig);
      const worker = await spawnWorker(stack, aprCfg.path, `bench-approval-${process.pid}`);
      try {
        stack.ecs.setSpeed(ROLLOUT_MS_AT_SPEED_1 / 2000);
        log(`6/6 approval → production: ${approvals} approvals per side`);
        print(approvalTable(await runApproval(stack, aprCfg, worker, approvals, TAG, log)));
      } finally {
        await worker.stop();
      }
    }
    if (only.has('cli')) {
      log(`4/4 CLI start: ${runs} runs per side`);
      print(cliStartTable(await runCliStart(stack, startCli.path, runs, TAG, log)));
    }
  } finally {
    await stack.close();
  }

  const temporalVersion = (await run(toolPath('TEMPORAL_CLI_PATH'), ['--version'])).stdout.trim();
  const doc = renderDocument({
    tables,
    machine: await machine(),
    tools: { aws: await awsVersion(), temporal: temporalVersion },
    settings: { runs, scale: scaleN, waiters },
    durationMs: Date.now() - began,
    load: { start: loadAtStart, end: os.loadavg()[0] },
  });
  const total = `total ${((Date.now() - began) / 1000).toFixed(0)} s`;
  if (out) {
    writeFileSync(out, doc);
    log(`wrote ${out} (${total})`);
  } else {
    log(`BENCH_ONLY is set: docs/benchmarks.md left as it is; set BENCH_OUT to write this run (${total})`);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
