/**
 * Local Slipway: a real Temporal dev server (Web UI on :8233, SQLite file), the ECS
 * sandbox seeded with the Openverse services (publishing ECS's EventBridge events to an SQS
 * queue on moto), a worker reading that queue, and two demo deploys — one that succeeds and one that ECS rolls
 * back — printed as they happen and visible in the UI.
 *
 *   ./scripts/start.sh            # keeps running; Ctrl-C (or SIGTERM) stops everything
 *   ./scripts/start.sh --once     # runs the demo, stops everything and exits
 *
 * Ports: SLIPWAY_DEV_TEMPORAL_PORT (7233), SLIPWAY_DEV_UI_PORT (8233), SLIPWAY_DEV_ECS_PORT (4566).
 * State: SLIPWAY_DEV_STATE_DIR (.slipway): the Temporal database and the written config.
 *
 * Whatever stops it (the end of --once, Ctrl-C, SIGTERM, a failure while starting), every
 * process it started is stopped before it exits, and a signal is not an error.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { stringify as stringifyYaml } from 'yaml';
import { followProgress } from '../client/follow';
import { deployOutcome, startDeploy } from '../client/operations';
import { executionUrl } from '../domain/temporal-ui';
import { parseConfig } from '../domain/config';
import { startEventQueue } from '../sandbox/moto';
import { startDevServer } from '../sandbox/temporal';
import { REPO_ROOT } from '../sandbox/tools';
import { startWorld } from '../sandbox/world';
import { workflowBundlePath } from '../worker/bundle';
import { createWorker, startEcsEvents } from '../worker/create';
import { DEFAULT_TASK_QUEUE } from '../contract';

const once = process.argv.includes('--once');
const port = Number(process.env.SLIPWAY_DEV_TEMPORAL_PORT ?? 7233);
const uiPort = Number(process.env.SLIPWAY_DEV_UI_PORT ?? 8233);
const ecsPort = Number(process.env.SLIPWAY_DEV_ECS_PORT ?? 4566);
const say = (s: string) => process.stdout.write(`${s}\n`);

/** What was started, newest last; `shutdown` stops it in reverse order. */
const started: Array<() => Promise<unknown>> = [];
let stopping: Promise<never> | undefined;

/** Stops everything this process started, then exits with `code`. Idempotent. */
function shutdown(code: number): Promise<never> {
  stopping ??= (async () => {
    while (started.length) await started.pop()!().catch(() => undefined);
    // A child whose start was under way when the signal came has no stop function yet.
    for (const pid of childPids()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    process.exit(code);
  })();
  return stopping;
}

/** The direct children of this process (Linux /proc; elsewhere none are found). */
function childPids(): number[] {
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return pids;
  }
  for (const e of entries) {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === process.pid) pids.push(Number(e));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** Resolves when `port` on 127.0.0.1 can be listened on; otherwise names the variable that moves it. */
function portFree(port: number, variable: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        new Error(err.code === 'EADDRINUSE' ? `port ${port} is already in use: set ${variable} to a free port (e.g. ${variable}=${port + 1000})` : `port ${port}: ${err.message}`),
      ),
    );
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve()));
  });
}

function randomSha(): string {
  let s = '';
  for (let i = 0; i < 40; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
  return s;
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') }); // the demo prints outcomes itself
  const onSignal = () => void shutdown(0);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const state = process.env.SLIPWAY_DEV_STATE_DIR || join(REPO_ROOT, '.slipway');
  mkdirSync(state, { recursive: true });

  await portFree(port, 'SLIPWAY_DEV_TEMPORAL_PORT');
  await portFree(uiPort, 'SLIPWAY_DEV_UI_PORT');
  await portFree(ecsPort, 'SLIPWAY_DEV_ECS_PORT');

  say('starting the Temporal dev server and moto (the SQS queue of ECS events) …');
  const [temporal, events] = await Promise.all([
    startDevServer({ port, uiPort, dbFile: join(state, 'temporal.db') }).then((t) => {
      started.push(() => t.stop());
      return t;
    }),
    startEventQueue().then((q) => {
      started.push(() => q.moto.close());
      return q;
    }),
  ]);
  say('starting the sandboxes (ECS, image registry, GitHub, sites) …');
  const world = await startWorld({ ports: { ecs: ecsPort }, timing: { taskStartMs: 2500, healthyMs: 3000, drainMs: 2500 }, initialTag: randomSha() });
  started.push(() => world.close());
  world.ecs.publishEvents({ sqs: { endpoint: events.endpoint, region: events.region, queueUrl: events.queueUrl } });
  const raw = world.configRaw();
  raw.aws.events = { queueUrl: events.queueUrl, endpoint: events.endpoint };
  const configPath = join(state, 'dev-config.yaml');
  writeFileSync(configPath, `# Written by scripts/dev.ts: the Openverse example pointed at the local ECS sandbox and its events queue.\n${stringifyYaml(raw)}`);
  const config = parseConfig(readFileSync(configPath, 'utf8'), configPath);

  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  started.push(() => nativeConnection.close());
  const connection = await Connection.connect({ address: temporal.address });
  started.push(() => connection.close());
  const client = new Client({ connection });
  // The worker reads ECS's events from the queue; stopped after the worker (pushed before it).
  const consumer = startEcsEvents({ client, config: () => config });
  if (consumer) started.push(() => consumer.stop());
  const worker = await createWorker({
    connection: nativeConnection,
    client,
    env: { ...process.env, ...world.workerEnv },
    taskQueue: DEFAULT_TASK_QUEUE,
    config: () => config,
    workflowBundle: { codePath: await workflowBundlePath() },
  });
  const workerRun = worker.run();
  started.push(async () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await workerRun.catch(() => undefined);
  });
  const ui = { uiUrl: temporal.uiUrl!, namespace: 'default' };

  say('');
  say(`Temporal Web UI:  ${temporal.uiUrl}/namespaces/default/workflows`);
  say(`ECS sandbox:      ${world.ecs.url}`);
  say(`ECS events (SQS): ${events.queueUrl}`);
  say(`sites:            ${world.site.url}/api-staging/version (and api-production, frontend-staging, frontend-production)`);
  say(`config:           ${configPath}`);
  say('');

  const demo = async (app: string, env: string, tag: string, note: string) => {
    const handle = await startDeploy(client, { app, env, tag, actor: 'octocat', reason: note }, { taskQueue: DEFAULT_TASK_QUEUE });
    say(`▶ ${note}\n  ${executionUrl(ui, handle.workflowId, handle.firstExecutionRunId)}`);
    const outcome = deployOutcome(handle);
    await followProgress(handle, (l) => say(`  ${l}`), outcome);
    const o = await outcome;
    say(o.ok ? `  ✔ succeeded\n` : `  ✘ ${o.type}: ${o.message}\n`);
  };

  const good = randomSha();
  const bad = randomSha();
  await world.pushTags(good, bad);
  await demo('api', 'staging', good, 'demo: deploy a new api image to staging');
  world.ecs.failImage(`openverse-frontend:${bad}`, { reason: 'Essential container in task exited' });
  await demo('frontend', 'staging', bad, 'demo: deploy a frontend image that fails its health check');

  if (once) {
    say('Done: everything is stopped (the Temporal state stays in ' + join(state, 'temporal.db') + ').');
    say('Run ./scripts/start.sh without --once to keep Temporal, the sandboxes and the worker up and try Slipway yourself.');
    await shutdown(0);
  }
  say('Try it yourself:');
  say(`  export TEMPORAL_ADDRESS=${temporal.address} SLIPWAY_CONFIG=${configPath} TEMPORAL_UI_URL=${temporal.uiUrl}`);
  say(`  ./bin/slipway deploy api production ${good} --actor octocat`);
  say('In the UI, filter with: App = "api" AND Env = "staging"');
  say(`\nRunning. Ctrl-C stops everything (the Temporal state stays in ${join(state, 'temporal.db')}).`);
  await new Promise<never>(() => undefined); // until a signal calls shutdown
}

main().catch(async (err) => {
  // A demo cut short by Ctrl-C is not an error: the shutdown under way ends the process.
  if (stopping) return stopping;
  process.stderr.write(`start: ${err instanceof Error ? err.message : String(err)}\n`);
  await shutdown(1);
});
