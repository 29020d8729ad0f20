/**
 * Benchmark 4: starting a deploy from the command line. `bin/slipway deploy --no-wait`
 * (the compiled CLI on plain node) against `temporal workflow start` with the same workflow
 * type, task queue, input, search attributes and summary, on a task queue no worker polls
 * (only the start is timed); and `slipway --help` against `temporal --help`.
 */
import { join } from 'node:path';
import { shortTag } from '../domain/tags';
import { REPO_ROOT, toolPath } from '../sandbox/tools';
import { deployWorkflowId, deploySummary, SA, type DeployInput } from '../contract';
import { SLIPWAY_BIN } from './overhead';
import { expectOk, run } from './proc';
import { median, p90, fmtMs, row, type Table } from './stats';
import type { BenchService, BenchStack } from './stack';

/** Apps for `bin/slipway` (start-N), one extra for the warm-up. */
export function cliStartServices(runs: number): BenchService[] {
  return Array.from({ length: runs + 1 }, (_, i) => ({ name: `start-${i}`, env: 'staging' as const }));
}

function startAttributes(input: DeployInput): [string, string][] {
  return [
    [SA.operation.name, 'deploy'],
    [SA.app.name, input.app],
    [SA.env.name, input.env],
    [SA.tag.name, input.tag],
    [SA.actor.name, input.actor],
    [SA.outcome.name, 'running'],
  ];
}

function startDetails(input: DeployInput): string {
  return [`operation: deploy`, `app: ${input.app}`, `environment: ${input.env}`, `tag: ${input.tag}`, `actor: @${input.actor}`, `reason: —`].join('\n');
}

function temporalStartArgs(address: string, taskQueue: string, input: DeployInput, workflowId: string): string[] {
  const attrs = startAttributes(input);
  const details = startDetails(input);
  return [
    'workflow',
    'start',
    '--address',
    address,
    '--namespace',
    'default',
    '--type',
    'deploy',
    '--task-queue',
    taskQueue,
    '--workflow-id',
    workflowId,
    '--id-reuse-policy',
    'AllowDuplicate',
    '--input',
    JSON.stringify(input),
    ...attrs.flatMap(([k, v]) => ['--search-attribute', `${k}=${JSON.stringify(v)}`]),
    '--static-summary',
    deploySummary(input, shortTag),
    '--static-details',
    details,
  ];
}

/** The same start through @temporalio/client alone: bench/client-floor.cjs. */
function clientFloorArgs(address: string, taskQueue: string, input: DeployInput, workflowId: string): string[] {
  const payload = { input, searchAttributes: startAttributes(input), summary: deploySummary(input, shortTag), details: startDetails(input) };
  return [join(REPO_ROOT, 'bench', 'client-floor.cjs'), address, 'default', taskQueue, workflowId, JSON.stringify(payload)];
}

export interface CliStartResult {
  slipway: number[];
  temporal: number[];
  /** The same start through @temporalio/client alone (bench/client-floor.cjs). */
  clientFloor: number[];
  /** `slipway --help` and `temporal --help`. */
  slipwayHelp: number[];
  temporalHelp: number[];
  /** `node -e 0`: the floor any node program starts from. */
  node: number[];
  nodeVersion: string;
}

export async function runCliStart(stack: BenchStack, configPath: string, runs: number, tag: string, log: (s: string) => void): Promise<CliStartResult> {
  const taskQueue = `bench-idle-${process.pid}`;
  const temporal = toolPath('TEMPORAL_CLI_PATH');
  const out: CliStartResult = { slipway: [], temporal: [], clientFloor: [], slipwayHelp: [], temporalHelp: [], node: [], nodeVersion: process.version };
  const started: string[] = [];
  const slipwayArgs = (app: string) => ['deploy', app, 'staging', tag, '--actor', 'alice', '--no-wait', '--task-queue', taskQueue, '--config', configPath];
  const env = { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address };
  const ms = (r: { startedAt: number; endedAt: number }) => r.endedAt - r.startedAt;
  for (let i = 0; i <= runs; i++) {
    const s = expectOk(await run(SLIPWAY_BIN, slipwayArgs(`start-${i}`), { cwd: REPO_ROOT, env }), 'slipway deploy --no-wait');
    started.push(deployWorkflowId(`start-${i}`, 'staging'));
    const input: DeployInput = { app: `tstart-${i}`, env: 'staging', tag, actor: 'alice' };
    const id = deployWorkflowId(input.app, input.env);
    const t = expectOk(await run(temporal, temporalStartArgs(stack.temporal.address, taskQueue, input, id)), 'temporal workflow start');
    started.push(id);
    const floorInput: DeployInput = { app: `fstart-${i}`, env: 'staging', tag, actor: 'alice' };
    const floorId = deployWorkflowId(floorInput.app, floorInput.env);
    const f = expectOk(await run(process.execPath, clientFloorArgs(stack.temporal.address, taskQueue, floorInput, floorId), { cwd: REPO_ROOT }), 'client-floor start');
    started.push(floorId);
    const sh = expectOk(await run(SLIPWAY_BIN, ['--help'], { cwd: REPO_ROOT, env }), 'slipway --help');
    const th = expectOk(await run(temporal, ['--help']), 'temporal --help');
    const n = expectOk(await run(process.execPath, ['-e', '0']), 'node -e 0');
    if (i > 0) {
      out.slipway.push(ms(s));
      out.temporal.push(ms(t));
      out.clientFloor.push(ms(f));
      out.slipwayHelp.push(ms(sh));
      out.temporalHelp.push(ms(th));
      out.node.push(ms(n));
    }
    log(
      `cli start ${i === 0 ? 'warm-up' : `${i}/${runs}`}: slipway deploy ${fmtMs(ms(s))}, temporal workflow start ${fmtMs(ms(t))}, @temporalio/client alone ${fmtMs(ms(f))}; --help ${fmtMs(ms(sh))} vs ${fmtMs(ms(th))}; node -e 0 ${fmtMs(ms(n))}`,
    );
  }
  // Nothing will run them: end them.
  await Promise.all(
    started.map((id) =>
      stack.client.workflow
        .getHandle(id)
        .terminate('benchmark done')
        .catch(() => undefined),
    ),
  );
  return out;
}

export function cliStartTable(r: CliStartResult): Table {
  return {
    title: '4. CLI start: spawn → deploy workflow started, process exited',
    peerName: 'temporal (Go binary)',
    rows: [
      row('slipway deploy --no-wait vs temporal workflow start, median', median(r.slipway), median(r.temporal), fmtMs),
      row('slipway deploy --no-wait vs temporal workflow start, p90', p90(r.slipway), p90(r.temporal), fmtMs),
      row('@temporalio/client alone (the floor under any Node CLI) vs temporal workflow start, median', median(r.clientFloor), median(r.temporal), fmtMs),
      row('slipway --help vs temporal --help, median', median(r.slipwayHelp), median(r.temporalHelp), fmtMs),
      row('slipway --help vs temporal --help, p90', p90(r.slipwayHelp), p90(r.temporalHelp), fmtMs),
      row('node -e 0 (the floor of any node program) vs temporal --help, median', median(r.node), median(r.temporalHelp), fmtMs),
    ],
    notes: [
      `Median of ${r.slipway.length} runs per side (after one warm-up each), alternating sides, distinct workflow IDs, a task queue no worker polls. Node ${r.nodeVersion}.`,
      'Both start workflow type `deploy` with the same input, the same six search attributes, summary and details. `bin/slipway` runs the compiled CLI (`dist/`, `npm run build`) with plain node and its compile cache; it also loads and validates the config and checks the tag and the app/environment before starting. Command modules load only when their command runs, so `--help` loads neither the Temporal client nor the config.',
      '`@temporalio/client alone` (bench/client-floor.cjs) makes the same start with nothing else: loading the SDK (gRPC, the protobuf definitions) and its connection handshake. It is the floor for a CLI on Node with the official client; the difference between it and `slipway deploy` is what Slipway itself adds (config, checks, argument parsing).',
      'Goals: `slipway --help` under 100 ms; spawn → workflow started within 2× of `temporal workflow start`.',
    ],
  };
}
