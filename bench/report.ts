/** The machine the figures come from, and docs/benchmarks.md. */
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { renderMarkdown, type Table } from './stats';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
}

export async function machine(): Promise<Machine> {
  const release = existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '';
  const pretty = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(release)?.[1] ?? os.type();
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism(),
    memoryGiB: os.totalmem() / 2 ** 30,
    node: process.version,
    os: `${pretty}, ${os.type()} ${os.release()} ${os.arch()}`,
  };
}

export interface Document {
  tables: Table[];
  machine: Machine;
  tools: { aws: string; temporal: string };
  settings: { runs: number; scale: number; waiters: number };
  durationMs: number;
  /** 1-minute load average when the run started and when it ended (other work on the machine). */
  load: { start: number; end: number };
}

export function renderDocument(d: Document): string {
  const m = d.machine;
  const date = new Date().toISOString().slice(0, 10);
  const sections = d.tables.map((t) => `## ${t.title}\n\n${renderMarkdown(t)}`);
  return [
    '# Benchmarks',
    '',
    `Slipway side by side with the tool one would use without it. Produced by \`npm run bench\``,
    `(\`bench/run.sh\` → \`bench/main.ts\`) on ${date}; the whole run took ${Math.round(d.durationMs / 1000)} s.`,
    'Re-running the command rewrites this file. The benchmarks are not part of `npm test`.',
    '',
    'Everything runs locally: a Temporal dev server, the ECS sandbox (`sandbox/ecs.ts`) spoken to',
    'over HTTP by the AWS SDK, the AWS CLI and Slipway alike, the CNCF registry, the GitHub',
    'sandbox and the version-endpoint sites. Slipway workers run as their own process',
    '(`worker/main.ts`) with default settings (ECS polled every 1–1.5 s). The ECS sandbox scales',
    'task start, health check and connection draining in time with `setSpeed`; every rollout',
    'time below is wall-clock time. In the ratio column, below 1× means Slipway is faster, smaller or cheaper.',
    '',
    '## Machine',
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores`,
    `- Memory: ${m.memoryGiB.toFixed(1)} GiB`,
    `- Node.js: ${m.node}`,
    `- OS: ${m.os}`,
    `- AWS CLI: ${d.tools.aws}; Temporal CLI: ${d.tools.temporal.split('\n')[0]}`,
    `- 1-minute load average: ${d.load.start.toFixed(2)} when the run started, ${d.load.end.toFixed(2)} when it ended`,
    `- Settings: BENCH_RUNS=${d.settings.runs}, BENCH_SCALE=${d.settings.scale}, BENCH_WAITERS=${d.settings.waiters}`,
    '',
    '```sh',
    'npm run bench   # BENCH_RUNS, BENCH_SCALE, BENCH_WAITERS change the sizes',
    '```',
    '',
    ...sections.flatMap((s) => [s, '']),
    '## What bounds these figures',
    '',
    '- Detection: the rollout watch (`activities/ecs.ts`) polls after 1 s, then backs off ×1.5 up to',
    '  3 s while nothing changes (`SLIPWAY_POLL_MIN_MS` / `SLIPWAY_POLL_MAX_MS`), with two calls per',
    '  poll (DescribeServiceDeployments and DescribeServices). Completion lands anywhere in the',
    '  last interval, so the latency is about half of `pollMaxMs` plus the workflow round trip;',
    "  the waiter's is about half of its fixed 15 s delay plus the AWS CLI's start.",
    '- CLI start: `bin/slipway` runs the TypeScript sources through tsx; the Docker image runs',
    '  the compiled `dist/client/cli.js`. Loading `@temporalio/client` and validating the config',
    '  are most of what remains.',
    '- Scale: every step before UpdateService is its own activity and workflow task, so with',
    "  many deploys started at once each step waits behind the others' tasks; the worker, the",
    '  Temporal dev server and the sandboxes share the same cores.',
    '',
  ].join('\n');
}
