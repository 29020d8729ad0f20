/**
 * The benchmark stack: a Temporal dev server, the sandbox world (ECS, registry, GitHub,
 * sites) with extra services seeded for the benchmarks, generated configs, and Slipway
 * workers run as separate processes (worker/main.ts) with their default poll intervals.
 * With `events`, also moto's SQS, where the ECS sandbox publishes ECS's EventBridge events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand, UpdateServiceCommand, type TaskDefinition } from '@aws-sdk/client-ecs';
import { Client, Connection } from '@temporalio/client';
import { stringify as stringifyYaml } from 'yaml';
import { parseConfig, resolveTarget, type SlipwayConfig, type Target } from '../domain/config';
import { renderTaskDefinition } from '../domain/render';
import type { EcsCall, EcsSandbox } from '../sandbox/ecs';
import { EVENT_QUEUE_NAME, startEventQueue, type EventQueue, type Moto } from '../sandbox/moto';
import { startSite, type SandboxSite, type SiteSpec } from '../sandbox/site';
import { startDevServer, type DevServer } from '../sandbox/temporal';
import { REPO_ROOT } from '../sandbox/tools';
import { startWorld, type World } from '../sandbox/world';
import { workflowBundlePath } from '../worker/bundle';
import { procStats, type ProcStats } from './proc';

export const INITIAL_TAG = 'a'.repeat(40);
export const REGION = 'us-east-1';
/** Task lifecycle at speed 1: a rollout of a 2-task service takes start + healthy + drain = 10 s. */
export const TIMING = { taskStartMs: 2000, healthyMs: 2000, drainMs: 6000 };
export const ROLLOUT_MS_AT_SPEED_1 = TIMING.taskStartMs + TIMING.healthyMs + TIMING.drainMs;

/**
 * How the ECS sandbox delivers its events in a benchmark run: not at all (the worker watches
 * by polling alone), all of them, or with 20 % of them dropped.
 */
export type EventsMode = 'off' | 'on' | 'dropped';
/** The share of events `dropped` mode drops. */
export const DROPPED_EVENTS = 0.2;

/** A service seeded for a benchmark; its app has the same name and one environment. */
export interface BenchService {
  name: string;
  env: 'staging' | 'production';
  /** Serve a version endpoint for it (the deploy then verifies the release). */
  versionEndpoint?: boolean;
  /** Its ECS cluster (default: one of its own, `clusterOf(name)`). */
  cluster?: string;
}

export interface BenchStack {
  temporal: DevServer;
  client: Client;
  world: World;
  ecs: EcsSandbox;
  site: SandboxSite;
  /** SDK client on the ECS sandbox (the peer's register + update). */
  sdk: ECSClient;
  /** The image repository every bench service deploys. */
  repository: string;
  dir: string;
  bundlePath: string;
  /** Writes a config with the Openverse apps plus `services`; returns its path and parsed form. */
  writeConfig(name: string, services: BenchService[], mutate?: (raw: any) => void): { path: string; config: SlipwayConfig };
  target(config: SlipwayConfig, service: string): Target;
  /**
   * With `events`: moto's SQS queue `slipway-ecs-events`, where the ECS sandbox publishes its
   * events from the start (as test/harness.ts's startStack({ events: true })).
   */
  events?: EventQueue;
  /**
   * Sets how the ECS sandbox publishes its events from now on. For `on` and `dropped`, a
   * fresh queue (`slipway-ecs-events-<label>`, so no run reads another's events) is created
   * and returned, for the worker's `aws.events`; `off` stops publishing. Needs `events`.
   */
  useEvents(mode: EventsMode, label: string, seed?: number): Promise<EventQueue | undefined>;
  close(): Promise<void>;
}

export interface BenchStackOptions {
  /** Start moto's SQS and publish ECS events to `slipway-ecs-events` (and let runs pick a mode with useEvents). */
  events?: boolean;
}

/** Cluster of a bench service: one per service, so the simulator's per-cluster work stays small. */
export const clusterOf = (service: string) => `${service}-cluster`;

export async function startBenchStack(services: BenchService[], tags: string[], opts: BenchStackOptions = {}): Promise<BenchStack> {
  const [temporal, world, events] = await Promise.all([
    startDevServer(),
    startWorld({ timing: TIMING, initialTag: INITIAL_TAG }),
    opts.events ? startEventQueue() : Promise.resolve(undefined),
  ]);
  const moto: Moto | undefined = events?.moto;
  if (events) world.ecs.publishEvents({ sqs: { endpoint: events.endpoint, region: events.region, queueUrl: events.queueUrl } });
  const ecs = world.ecs;
  const repository = `${world.registry.host}/wordpress/openverse-frontend`;
  await world.pushTags(...tags);

  const templateText = readFileSync(join(REPO_ROOT, 'sandbox', 'fixtures', 'templates', 'staging-nuxt-template.json'), 'utf8');
  for (const s of services) {
    const template = JSON.parse(templateText);
    template.family = `${s.name}-template`;
    ecs.registerTemplate(template);
    const initial = JSON.parse(templateText);
    initial.family = s.name;
    for (const c of initial.containerDefinitions) if (c.name === 'nuxt') c.image = `${repository}:${INITIAL_TAG}`;
    ecs.seedService({
      cluster: s.cluster ?? clusterOf(s.name),
      service: s.name,
      desiredCount: 2,
      taskDefinition: initial,
      circuitBreaker: { enable: true, rollback: true },
      loadBalancers: [{ targetGroupArn: `arn:aws:elasticloadbalancing:${REGION}:123456789012:targetgroup/${s.name}/0123456789abcdef`, containerName: 'nuxt', containerPort: 8443 }],
    });
  }
  const siteSpecs: SiteSpec[] = services
    .filter((s) => s.versionEndpoint)
    .map((s) => ({ prefix: s.name, app: s.name, cluster: clusterOf(s.name), service: s.name, container: 'nuxt', env: s.env, style: 'frontend' }));
  const site = await startSite({ ecs, sites: siteSpecs, serve: 'completed' });

  const connection = await Connection.connect({ address: temporal.address });
  const client = new Client({ connection });
  const sdk = new ECSClient({ endpoint: ecs.url, region: REGION, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } });
  const dir = mkdtempSync(join(tmpdir(), 'slipway-bench-'));
  const bundlePath = await workflowBundlePath();

  return {
    temporal,
    client,
    world,
    ecs,
    site,
    sdk,
    repository,
    dir,
    bundlePath,
    writeConfig(name, list, mutate) {
      const raw = world.configRaw();
      mutate?.(raw);
      for (const s of list) {
        if (raw.apps[s.name]) throw new Error(`bench app ${s.name} clashes with an app of the config`);
        raw.apps[s.name] = {
          images: { web: repository },
          environments: {
            [s.env]: {
              cluster: s.cluster ?? clusterOf(s.name),
              service: s.name,
              templateFamily: `${s.name}-template`,
              containers: { nuxt: 'web' },
              ...(s.versionEndpoint ? { url: `${site.url}/${s.name}`, versionEndpoint: `${site.url}/${s.name}/version.json` } : {}),
            },
          },
        };
      }
      const text = stringifyYaml(raw);
      const path = join(dir, `${name}.yaml`);
      writeFileSync(path, text);
      return { path, config: parseConfig(text, path) };
    },
    target(config, service) {
      const app = config.apps[service];
      if (!app) throw new Error(`no app ${service} in ${config.source}`);
      return resolveTarget(config, service, Object.keys(app.environments)[0]);
    },
    ...(events ? { events } : {}),
    async useEvents(mode, label, seed = 1) {
      if (mode === 'off') {
        ecs.publishEvents(false);
        return undefined;
      }
      if (!moto) throw new Error('useEvents needs a bench stack started with { events: true }');
      const queue = await startEventQueue(moto, `${EVENT_QUEUE_NAME}-${label}`);
      ecs.publishEvents({
        sqs: { endpoint: queue.endpoint, region: queue.region, queueUrl: queue.queueUrl },
        ...(mode === 'dropped' ? { dropFraction: DROPPED_EVENTS, seed } : {}),
      });
      return queue;
    },
    async close() {
      sdk.destroy();
      await connection.close();
      await site.close();
      await world.close();
      await moto?.close();
      await temporal.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The service an ECS call concerns, read from its input (undefined for cluster-wide calls). */
export function serviceOfCall(call: EcsCall): string | undefined {
  const i = call.input as Record<string, any>;
  const last = (s: unknown) => String(s).split('/').pop()!;
  if (typeof i.service === 'string') return last(i.service);
  if (Array.isArray(i.services) && i.services.length) return last(i.services[0]);
  if (typeof i.serviceName === 'string') return i.serviceName;
  const arn = i.serviceDeploymentArns?.[0] ?? i.serviceRevisionArns?.[0];
  if (typeof arn === 'string') return arn.split('/')[2];
  const family = i.family ?? i.familyPrefix ?? (typeof i.taskDefinition === 'string' ? last(i.taskDefinition).split(':')[0] : undefined);
  if (typeof family === 'string') return family.replace(/-template$/, '');
  return undefined;
}

/** Calls about `service` from index `from` of the log on. */
export function callsFor(ecs: EcsSandbox, service: string, from = 0): EcsCall[] {
  return ecs.calls.slice(from).filter((c) => serviceOfCall(c) === service);
}

/** Waits until the log holds a call matching `pred` (from index `from`); polls every 2 ms. */
export async function waitForCall(ecs: EcsSandbox, pred: (c: EcsCall) => boolean, from: number, timeoutMs = 120_000): Promise<EcsCall> {
  const deadline = Date.now() + timeoutMs;
  let i = from;
  for (;;) {
    for (; i < ecs.calls.length; i++) if (pred(ecs.calls[i])) return ecs.calls[i];
    if (Date.now() > deadline) throw new Error('timed out waiting for an ECS call');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** When the service deployment of `taskDefinitionArn` finished (the sandbox's own record). */
export function finishedAt(ecs: EcsSandbox, service: string, taskDefinitionArn: string): number {
  const sd = ecs.service(clusterOf(service), service).serviceDeployments.find((d) => d.taskDefinition === taskDefinitionArn);
  if (!sd) throw new Error(`no service deployment of ${taskDefinitionArn} on ${service}`);
  if (sd.status !== 'SUCCESSFUL' || !sd.finishedAt) throw new Error(`service deployment of ${taskDefinitionArn} on ${service} is ${sd.status}`);
  return sd.finishedAt.getTime();
}

/**
 * What a deploy script does without Slipway, through the SDK: fetch the template,
 * render it for `tag`, register it, point the service at it. Returns the revision's ARN.
 */
export async function registerAndUpdate(sdk: ECSClient, target: Target, tag: string): Promise<string> {
  const tpl = await sdk.send(new DescribeTaskDefinitionCommand({ taskDefinition: target.templateFamily }));
  const reg = await sdk.send(new RegisterTaskDefinitionCommand(renderTaskDefinition(tpl.taskDefinition as TaskDefinition, target, tag)));
  const arn = reg.taskDefinition!.taskDefinitionArn!;
  await sdk.send(new UpdateServiceCommand({ cluster: target.cluster, service: target.service, taskDefinition: arn }));
  return arn;
}

export interface WorkerProcess {
  pid: number;
  taskQueue: string;
  stats(): ProcStats | undefined;
  stop(): Promise<void>;
}

/** The runtime's memory settings the container image starts the worker with (the Dockerfile's ENV `NODE_OPTIONS` and `MALLOC_ARENA_MAX`). */
export function imageRuntimeEnv(): Record<string, string> {
  const text = readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  const finalStage = text.slice(text.lastIndexOf('\nFROM '));
  const env: Record<string, string> = {};
  for (const line of finalStage.split('\n').filter((l) => /^ENV\s/.test(l))) {
    for (const m of line.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) {
      if (m[1] === 'NODE_OPTIONS' || m[1] === 'MALLOC_ARENA_MAX') env[m[1]] = m[2].replace(/^"|"$/g, '');
    }
  }
  return env;
}

/** Starts the worker as its own process (dist/worker/main.js, with the image's runtime settings, as the container image does) with default poll bounds; resolves once it polls. */
export async function spawnWorker(stack: BenchStack, configPath: string, taskQueue: string, extraEnv: Record<string, string> = {}): Promise<WorkerProcess> {
  // As the container image runs it: the compiled worker (npm run build, which scripts/setup.sh keeps current), its memory settings.
  const child: ChildProcess = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'worker', 'main.js')], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      ...imageRuntimeEnv(),
      ...stack.world.workerEnv,
      TEMPORAL_ADDRESS: stack.temporal.address,
      SLIPWAY_CONFIG: configPath,
      SLIPWAY_TASK_QUEUE: taskQueue,
      SLIPWAY_WORKFLOW_BUNDLE: stack.bundlePath,
      SLIPWAY_LOG_LEVEL: 'INFO',
      NODE_NO_WARNINGS: '1',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (d: Buffer) => {
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const deadline = Date.now() + 60_000;
  while (!log.includes('slipway worker started')) {
    if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}:\n${log}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`worker did not start within 60 s:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    pid: child.pid!,
    taskQueue,
    stats: () => procStats(child.pid!),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}
