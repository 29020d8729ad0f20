/**
 * Benchmark 4: starting a deploy from the command line. `bin/slipway deploy --no-wait`
 * against `temporal workflow start` with the same workflow type, task queue, input, search
 * attributes and summary, on a task queue no worker polls (only the start is timed).
 */
import { join } from 'node:path';
import { shortTag } from '../domain/tags';
import { REPO_ROOT, toolPath } from '../sandbox/tools';
import { deployWorkflowId, deploySummary, SA, type DeployInput } from '../contract';
import { transpileProduction } from './compile';
import { SLIPWAY_BIN } from './overhead';
import { expectOk, run } from './proc';
import { median, p90, fmtMs, row, type Table } from './stats';
import type { BenchService, BenchStack } from './stack';

/** Apps for `bin/slipway` (start-N) and for the compiled CLI (startc-N), one extra for the warm-up. */
export function cliStartServices(runs: number): BenchService[] {
  return Array.from({ length: runs + 1 }, (_, i) => [
    { name: `start-${i}`, env: 'staging' as const },
    { name: `startc-${i}`, env: 'staging' as const },
  ]).flat();
}

function temporalStartArgs(address: string, taskQueue: string, input: DeployInput, workflowId: string): string[] {
  const attrs: [string, string][] = [
    [SA.operation.name, 'deploy'],
    [SA.app.name, input.app],
    [SA.env.name, input.env],
    [SA.tag.name, input.tag],
    [SA.actor.name, input.actor],
    [SA.outcome.name, 'running'],
  ];
  const details = [`operation: deploy`, `app: ${input.app}`, `environment: ${input.env}`, `tag: ${input.tag}`, `actor: @${input.actor}`, `reason: —`].join('\n');
  return [
    'workflow', 'start',
    '--address', address,
    '--namespace', 'default',
    '--type', 'deploy',
    '--task-queue', taskQueue,
    '--workflow-id', workflowId,
    '--id-reuse-policy', 'AllowDuplicate',
    '--input', JSON.stringify(input),
    ...attrs.flatMap(([k, v]) => ['--search-attribute', `${k}=${JSON.stringify(v)}`]),
    '--static-summary', deploySummary(input, shortTag),
    '--static-details', details,
  ];
}

export interface CliStartResult {
  slipway: number[];
  /** The same CLI transpiled to JavaScript, run with plain node (as the Docker image does). */
  compiled: number[];
  temporal: number[];
}

export async function runCliStart(stack: BenchStack, configPath: string, runs: number, tag: string, log: (s: string) => void): Promise<CliStartResult> {
  const taskQueue = `bench-idle-${process.pid}`;
  const temporal = toolPath('TEMPORAL_CLI_PATH');
  const compiledCli = transpileProduction(join(stack.dir, 'dist'));
  const out: CliStartResult = { slipway: [], compiled: [], temporal: [] };
  const started: string[] = [];
  const slipwayArgs = (app: string) => ['deploy', app, 'staging', tag, '--actor', 'alice', '--no-wait', '--task-queue', taskQueue, '--config', configPath];
  const env = { ...process.env, TEMPORAL_ADDRESS: stack.temporal.address, NODE_NO_WARNINGS: '1' };
  for (let i = 0; i <= runs; i++) {
    const s = expectOk(await run(SLIPWAY_BIN, slipwayArgs(`start-${i}`), { cwd: REPO_ROOT, env }), 'slipway deploy --no-wait');
    started.push(deployWorkflowId(`start-${i}`, 'staging'));
    const c = expectOk(
      await run(process.execPath, [compiledCli, ...slipwayArgs(`startc-${i}`)], { cwd: REPO_ROOT, env: { ...env, NODE_PATH: join(REPO_ROOT, 'node_modules') } }),
      'compiled slipway deploy --no-wait',
    );
    started.push(deployWorkflowId(`startc-${i}`, 'staging'));
    const input: DeployInput = { app: `tstart-${i}`, env: 'staging', tag, actor: 'alice' };
    const id = deployWorkflowId(input.app, input.env);
    const t = expectOk(await run(temporal, temporalStartArgs(stack.temporal.address, taskQueue, input, id)), 'temporal workflow start');
    started.push(id);
    const ms = (r: { startedAt: number; endedAt: number }) => r.endedAt - r.startedAt;
    if (i > 0) {
      out.slipway.push(ms(s));
      out.compiled.push(ms(c));
      out.temporal.push(ms(t));
    }
    log(`cli start ${i === 0 ? 'warm-up' : `${i}/${runs}`}: bin/slipway ${fmtMs(ms(s))}, compiled ${fmtMs(ms(c))}, temporal ${fmtMs(ms(t))}`);
  }
  // Nothing will run them: end them.
  await Promise.all(started.map((id) => stack.client.workflow.getHandle(id).terminate('benchmark done').catch(() => undefined)));
  return out;
}

export function cliStartTable(r: CliStartResult): Table {
  return {
    title: '4. CLI start: spawn → deploy workflow started, process exited',
    peerName: 'temporal workflow start',
    rows: [
      row('wall time, median (bin/slipway: node + tsx)', median(r.slipway), median(r.temporal), fmtMs),
      row('wall time, p90 (bin/slipway: node + tsx)', p90(r.slipway), p90(r.temporal), fmtMs),
      row('wall time, median (compiled: node dist/client/cli.js, as in the Docker image)', median(r.compiled), median(r.temporal), fmtMs),
      row('wall time, p90 (compiled)', p90(r.compiled), p90(r.temporal), fmtMs),
    ],
    notes: [
      `Median of ${r.slipway.length} runs per side (after one warm-up each), alternating sides, distinct workflow IDs, a task queue no worker polls.`,
      'Both start workflow type `deploy` with the same input, the same six search attributes, summary and details. `bin/slipway` also loads and validates the config and checks the tag and the app/environment before starting; `bin/slipway` runs the TypeScript through tsx; the compiled rows run the same sources transpiled to CommonJS (one file per module, like `tsc -p tsconfig.build.json`) with plain node.',
    ],
  };
}
