/**
 * Local Slipway: a real Temporal dev server (Web UI on :8233, SQLite file), the ECS
 * sandbox seeded with the Openverse services, a worker, and two demo deploys — one that
 * succeeds and one that ECS rolls back — printed as they happen and visible in the UI.
 *
 *   ./scripts/start.sh            # keeps running; Ctrl-C stops everything
 *   ./scripts/start.sh --once     # runs the demo and exits
 *
 * Ports: SLIPWAY_DEV_TEMPORAL_PORT (7233), SLIPWAY_DEV_UI_PORT (8233), SLIPWAY_DEV_ECS_PORT (4566).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { stringify as stringifyYaml } from 'yaml';
import { followProgress } from '../client/follow';
import { deployOutcome, startDeploy } from '../client/operations';
import { executionUrl } from '../domain/temporal-ui';
import { parseConfig } from '../domain/config';
import { startDevServer } from '../sandbox/temporal';
import { REPO_ROOT } from '../sandbox/tools';
import { startWorld } from '../sandbox/world';
import { workflowBundlePath } from '../worker/bundle';
import { createWorker } from '../worker/create';
import { DEFAULT_TASK_QUEUE } from '../contract';

const once = process.argv.includes('--once');
const port = Number(process.env.SLIPWAY_DEV_TEMPORAL_PORT ?? 7233);
const uiPort = Number(process.env.SLIPWAY_DEV_UI_PORT ?? 8233);
const ecsPort = Number(process.env.SLIPWAY_DEV_ECS_PORT ?? 4566);
const say = (s: string) => process.stdout.write(`${s}\n`);

function randomSha(): string {
  let s = '';
  for (let i = 0; i < 40; i++) s += '0123456789abcdef'[Math.floor(Math.random() * 16)];
  return s;
}

async function main() {
  Runtime.install({ logger: new DefaultLogger('ERROR') }); // the demo prints outcomes itself
  const state = join(REPO_ROOT, '.slipway');
  mkdirSync(state, { recursive: true });

  say('starting the Temporal dev server …');
  const temporal = await startDevServer({ port, uiPort, dbFile: join(state, 'temporal.db') });
  say('starting the sandboxes (ECS, image registry, GitHub, sites) …');
  const world = await startWorld({ ports: { ecs: ecsPort }, timing: { taskStartMs: 2500, healthyMs: 3000, drainMs: 2500 }, initialTag: randomSha() });
  const raw = world.configRaw();
  const configPath = join(state, 'dev-config.yaml');
  writeFileSync(configPath, `# Written by scripts/dev.ts: the Openverse example pointed at the local ECS sandbox.\n${stringifyYaml(raw)}`);
  const config = parseConfig(readFileSync(configPath, 'utf8'), configPath);

  const nativeConnection = await NativeConnection.connect({ address: temporal.address });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const worker = await createWorker({
    connection: nativeConnection,
    client,
    env: { ...process.env, ...world.workerEnv },
    taskQueue: DEFAULT_TASK_QUEUE,
    config: () => config,
    workflowBundle: { codePath: await workflowBundlePath() },
  });
  const workerRun = worker.run();
  const ui = { uiUrl: temporal.uiUrl!, namespace: 'default' };

  say('');
  say(`Temporal Web UI:  ${temporal.uiUrl}/namespaces/default/workflows`);
  say(`ECS sandbox:      ${world.ecs.url}`);
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

  say('Try it yourself:');
  say(`  export TEMPORAL_ADDRESS=${temporal.address} SLIPWAY_CONFIG=${configPath} TEMPORAL_UI_URL=${temporal.uiUrl}`);
  say(`  ./bin/slipway deploy api production ${good} --actor octocat`);
  say('In the UI, filter with: App = "api" AND Env = "staging"');

  const stop = async () => {
    worker.shutdown();
    await workerRun.catch(() => undefined);
    await connection.close();
    await nativeConnection.close();
    await world.close();
    await temporal.stop();
  };
  if (once) {
    await stop();
    return;
  }
  say('\nRunning. Ctrl-C stops everything (the Temporal state stays in .slipway/temporal.db).');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await stop();
}

main().catch((err) => {
  process.stderr.write(`start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
