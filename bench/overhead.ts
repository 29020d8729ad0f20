/**
 * Benchmark 2: orchestration overhead, from spawning a command to the ECS sandbox receiving
 * UpdateService. Slipway: `bin/slipway deploy` (CLI, Temporal start, worker: preflight,
 * authorisation against the GitHub sandbox, image tag check against the registry, template
 * render, register, update). Peer: the bare AWS CLI steps a deploy script runs
 * (describe-task-definition, render, register-task-definition, update-service).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SlipwayConfig } from '../domain/config';
import { renderTaskDefinition } from '../domain/render';
import { REPO_ROOT } from '../sandbox/tools';
import { aws } from './aws-cli';
import { expectOk, run, type TimedRun } from './proc';
import { median, p90, fmtMs, row, type Row, type Table } from './stats';
import { callsFor, serviceOfCall, waitForCall, type BenchService, type BenchStack } from './stack';

export const SLIPWAY_BIN = join(REPO_ROOT, 'bin', 'slipway');

export function overheadServices(runs: number): { slipway: BenchService[]; peer: BenchService[] } {
  // One extra of each for the warm-up run.
  const n = runs + 1;
  return {
    slipway: Array.from({ length: n }, (_, i) => ({ name: `ovh-${i}`, env: 'production' as const })),
    peer: Array.from({ length: n }, (_, i) => ({ name: `ovhaws-${i}`, env: 'production' as const })),
  };
}

/** Milliseconds from spawn to each milestone. */
export interface Marks {
  firstCall: number;
  register: number;
  update: number;
  /** When the command (the last one, for the peer) exited. */
  exit: number;
}

/** Resolves with the UpdateService call for `service`, or rejects when `cli` fails first. */
async function updateOrFailure(stack: BenchStack, service: string, from: number, cli: Promise<TimedRun>, what: string) {
  const failed = cli.then((r) => {
    if (r.code !== 0) throw new Error(`${what} exited ${r.code}:\n${r.stderr || r.stdout}`);
    return new Promise<never>(() => undefined);
  });
  return Promise.race([waitForCall(stack.ecs, (c) => c.op === 'UpdateService' && serviceOfCall(c) === service, from, 60_000), failed]);
}

function marks(stack: BenchStack, service: string, from: number, t0: number, exitedAt: number): Marks {
  const calls = callsFor(stack.ecs, service, from);
  const at = (op: string) => (calls.find((c) => c.op === op)?.at ?? NaN) - t0;
  return { firstCall: calls[0].at - t0, register: at('RegisterTaskDefinition'), update: at('UpdateService'), exit: exitedAt - t0 };
}

export async function slipwayDeployCli(stack: BenchStack, configPath: string, taskQueue: string, service: string, env: string, tag: string): Promise<Marks> {
  const from = stack.ecs.calls.length;
  const cli = run(SLIPWAY_BIN, ['deploy', service, env, tag, '--actor', 'alice', '--no-wait', '--task-queue', taskQueue, '--config', configPath], {
    cwd: REPO_ROOT,
    env: { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, NODE_NO_WARNINGS: '1' },
  });
  await updateOrFailure(stack, service, from, cli, `slipway deploy ${service}`);
  const r = await cli;
  return marks(stack, service, from, r.startedAt, r.endedAt);
}

export async function awsCliDeploy(stack: BenchStack, config: SlipwayConfig, service: string, tag: string): Promise<Marks> {
  const from = stack.ecs.calls.length;
  const target = stack.target(config, service);
  const url = stack.ecs.url;
  const t0 = Date.now();
  const described = expectOk(await aws(url, ['ecs', 'describe-task-definition', '--task-definition', target.templateFamily]), 'aws ecs describe-task-definition');
  const request = renderTaskDefinition(JSON.parse(described.stdout).taskDefinition, target, tag);
  const file = join(stack.dir, `${service}-taskdef.json`);
  writeFileSync(file, JSON.stringify(request));
  const registered = expectOk(await aws(url, ['ecs', 'register-task-definition', '--cli-input-json', `file://${file}`]), 'aws ecs register-task-definition');
  const arn = JSON.parse(registered.stdout).taskDefinition.taskDefinitionArn;
  const updated = expectOk(
    await aws(url, [
      'ecs',
      'update-service',
      '--cluster',
      target.cluster,
      '--service',
      target.service,
      '--task-definition',
      arn,
      '--query',
      'service.serviceArn',
      '--output',
      'text',
    ]),
    'aws ecs update-service',
  );
  return marks(stack, service, from, t0, updated.endedAt);
}

export interface OverheadResult {
  slipway: Marks[];
  peer: Marks[];
}

export async function runOverhead(
  stack: BenchStack,
  cli: { path: string; config: SlipwayConfig },
  taskQueue: string,
  runs: number,
  tag: string,
  log: (s: string) => void,
): Promise<OverheadResult> {
  const out: OverheadResult = { slipway: [], peer: [] };
  // Run 0 of each side is a warm-up (file caches, tsx's transform cache), not counted.
  for (let i = 0; i <= runs; i++) {
    const s = await slipwayDeployCli(stack, cli.path, taskQueue, `ovh-${i}`, 'production', tag);
    const p = await awsCliDeploy(stack, cli.config, `ovhaws-${i}`, tag);
    if (i > 0) {
      out.slipway.push(s);
      out.peer.push(p);
    }
    log(`overhead ${i === 0 ? 'warm-up' : `${i}/${runs}`}: Slipway ${fmtMs(s.update)}, AWS CLI ${fmtMs(p.update)}`);
  }
  // Let the deploys finish before the next benchmark.
  await Promise.all(
    Array.from({ length: runs + 1 }, (_, i) =>
      stack.client.workflow
        .getHandle(`deploy/ovh-${i}/production`)
        .result()
        .catch(() => undefined),
    ),
  );
  return out;
}

export function overheadTable(r: OverheadResult): Table {
  const col = (xs: Marks[], k: keyof Marks) => xs.map((m) => m[k]);
  const rows: Row[] = [
    row('spawn → UpdateService received, median', median(col(r.slipway, 'update')), median(col(r.peer, 'update')), fmtMs),
    row('spawn → UpdateService received, p90', p90(col(r.slipway, 'update')), p90(col(r.peer, 'update')), fmtMs),
    row('spawn → first ECS call (DescribeTaskDefinition of the template), median', median(col(r.slipway, 'firstCall')), median(col(r.peer, 'firstCall')), fmtMs),
    row('spawn → RegisterTaskDefinition received, median', median(col(r.slipway, 'register')), median(col(r.peer, 'register')), fmtMs),
    row('spawn → command exited, median', median(col(r.slipway, 'exit')), median(col(r.peer, 'exit')), fmtMs),
  ];
  return {
    title: '2. Orchestration overhead: spawn → ECS receives UpdateService',
    peerName: 'AWS CLI script (describe, register, update)',
    rows,
    notes: [
      `Median of ${r.slipway.length} runs per side (after one warm-up each), alternating sides.`,
      'Slipway: `bin/slipway deploy <app> production <tag> --actor alice --no-wait`, a production deploy so authorisation is checked (GitHub sandbox team membership), plus the image tag check (registry HEAD), template render, register and update in the worker.',
      "Peer: three AWS CLI processes in sequence, the template rendered between them; no authorisation and no tag check. 'command exited' is the Slipway CLI returning after the start was accepted (the rest happens in the worker), and the peer's update-service returning.",
    ],
  };
}
