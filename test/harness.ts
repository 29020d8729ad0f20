/**
 * Test harness: a real Temporal dev server, the ECS sandbox seeded with the Openverse
 * services, the shipped example config pointed at the sandbox, and workers (in-process or
 * as a separate process that can be killed).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { stringify as stringifyYaml } from 'yaml';
import { parseConfig, type SlipwayConfig } from '../domain/config';
import type { EcsSandbox } from '../sandbox/ecs';
import { startEventQueue, type EventQueue } from '../sandbox/moto';
import { startDevServer, type DevServer } from '../sandbox/temporal';
import { REPO_ROOT } from '../sandbox/tools';
import { startWorld, type World } from '../sandbox/world';
import { workflowBundlePath } from '../worker/bundle';
import { createWorker, startEcsEvents, type CreateWorkerOptions, type SlipwayWorker } from '../worker/create';
import type { EcsEventConsumer } from '../activities/ecs-events';
import { pipelineStateQuery, pipelineWorkflowId, type PipelineState } from '../contract';

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
}

export const INITIAL_TAG = 'a'.repeat(40);
export const NEW_TAG = '3f2c1a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a';

export interface Stack {
  temporal: DevServer;
  client: Client;
  connection: Connection;
  ecs: EcsSandbox;
  world: World;
  /** With `events`: moto's SQS queue `slipway-ecs-events`, where the ECS sandbox publishes its EventBridge events. */
  events?: EventQueue;
  dir: string;
  /** The config the workers use; `setConfig` swaps it (in-process workers see it at once). */
  config(): SlipwayConfig;
  configPath: string;
  setConfig(mutate: (raw: any) => void): void;
  resetConfig(): void;
  close(): Promise<void>;
}

export interface StackOptions {
  timing?: Record<string, number>;
  dbFile?: string;
  temporal?: DevServer;
  /** Applied to the config of every test of the stack (setConfig adds to it). */
  configure?: (raw: any) => void;
  /** Starts moto, creates the SQS queue `slipway-ecs-events` and has the ECS sandbox publish its events there. */
  events?: boolean;
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  quietRuntime();
  const [temporal, world, events] = await Promise.all([
    opts.temporal ? Promise.resolve(opts.temporal) : startDevServer({ dbFile: opts.dbFile }),
    startWorld({ timing: opts.timing, initialTag: INITIAL_TAG }),
    opts.events ? startEventQueue() : Promise.resolve(undefined),
  ]);
  const ecs = world.ecs;
  if (events) ecs.publishEvents({ sqs: { endpoint: events.endpoint, region: events.region, queueUrl: events.queueUrl } });
  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-test-'));
  const configPath = join(dir, 'slipway.yaml');
  let current: SlipwayConfig;
  const write = (raw: any) => {
    const text = stringifyYaml(raw);
    current = parseConfig(text, configPath);
    writeFileSync(configPath, text);
  };
  const base = () => {
    const raw = world.configRaw();
    opts.configure?.(raw);
    return raw;
  };
  write(base());
  return {
    temporal,
    client,
    connection,
    ecs,
    world,
    ...(events ? { events } : {}),
    dir,
    configPath,
    config: () => current,
    setConfig(mutate) {
      const raw = base();
      mutate(raw);
      write(raw);
    },
    resetConfig() {
      write(base());
    },
    async close() {
      await connection.close();
      await world.close();
      await events?.moto.close();
      if (!opts.temporal) await temporal.stop();
    },
  };
}

let queueCounter = 0;
/** A fresh task queue per test, so no test's worker serves another's workflows. */
export function freshTaskQueue(name: string): string {
  return `test-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}-${process.pid}-${++queueCounter}`;
}

export interface RunningWorker {
  /** The task queue's worker and its ECS task queues' workers. */
  worker: SlipwayWorker;
  /** The worker's ECS event consumer, when the stack's config has `aws.events`. */
  events?: EcsEventConsumer;
  stop(): Promise<void>;
}

/** An in-process worker on `taskQueue` using the stack's config. */
export async function startWorker(stack: Stack, taskQueue: string, extraEnv: Record<string, string> = {}, opts: Pick<CreateWorkerOptions, 'oidc'> = {}): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({ address: stack.temporal.address });
  const worker = await createWorker({
    connection,
    client: stack.client,
    env: { ...stack.world.workerEnv, ...extraEnv },
    githubSecondMs: 5,
    versionTimeoutMs: 1000,
    taskQueue,
    config: stack.config,
    workflowBundle: { codePath: await workflowBundlePath() },
    pollMinMs: 100,
    pollMaxMs: 400,
    // An activity that ignores its cancellation cannot keep a test's worker from stopping.
    workerOptions: { shutdownGraceTime: '1s', shutdownForceTime: '10s' },
    ...opts,
  });
  const running = worker.run();
  const events = startEcsEvents({ client: stack.client, config: stack.config, waitSeconds: 2 });
  return {
    worker,
    events,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
      await events?.stop();
      await connection.close();
    },
  };
}

/** The worker as a separate process (worker/main.ts), so a test can SIGKILL it. */
export async function spawnWorkerProcess(stack: Stack, taskQueue: string, extraEnv: Record<string, string> = {}): Promise<ChildProcess> {
  const bundle = await workflowBundlePath();
  const child = spawn(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'worker', 'main.ts')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...stack.world.workerEnv,
      TEMPORAL_ADDRESS: stack.temporal.address,
      SLIPWAY_CONFIG: stack.configPath,
      SLIPWAY_TASK_QUEUE: taskQueue,
      SLIPWAY_WORKFLOW_BUNDLE: bundle,
      SLIPWAY_LOG_LEVEL: 'WARN',
      SLIPWAY_POLL_MIN_MS: '100',
      SLIPWAY_POLL_MAX_MS: '400',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout?.on('data', (d) => (log += d));
  child.stderr?.on('data', (d) => (log += d));
  child.on('exit', (code, signal) => {
    if (code && code !== 0 && signal !== 'SIGKILL') process.stderr.write(`worker process exited ${code}:\n${log}\n`);
  });
  return child;
}

/** Polls `fn` until it returns a truthy value; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000, everyMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ProcessRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end (killed after `timeoutMs`), collecting its output. */
export function runProcess(file: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Waits until the pipeline of `app` is in a state that satisfies `pred`, and returns it; a timeout shows the last state. */
export function pipelineUntil(stack: Stack, app: string, what: string, pred: (s: PipelineState) => boolean, timeoutMs = 60_000): Promise<PipelineState> {
  const query = () =>
    stack.client.workflow
      .getHandle(pipelineWorkflowId(app))
      .query(pipelineStateQuery)
      .catch(() => undefined);
  return eventually(
    what,
    async () => {
      const s = await query();
      return s && pred(s) ? s : undefined;
    },
    timeoutMs,
    100,
  ).catch(async (err) => {
    throw new Error(`${(err as Error).message}: ${JSON.stringify(await query(), null, 1)}`);
  });
}

/** Runs `bin/slipway` in `cwd` with exactly `env`. */
export function runSlipway(args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<ProcessRun> {
  return runProcess(join(REPO_ROOT, 'bin', 'slipway'), args, opts);
}
