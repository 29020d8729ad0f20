/**
 * Worker wiring: real clients in, a Temporal worker out. Used by worker/main.ts and by the
 * tests (which pass sandbox endpoints through the config).
 */
import { existsSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type State, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { ecsBudgets, ecsClients, githubClient, registryClient } from '../activities/clients';
import type { GitHubLog } from '../activities/github';
import type { OidcVerifierOptions } from '../activities/identity';
import { createGateActivities } from '../activities/gates';
import { localActivityPriority } from '../activities/ecs-budget';
import { EcsEventConsumer } from '../activities/ecs-events';
import type { SlipwayConfig } from '../domain/config';
import { ECS_QUEUE_KINDS, ecsQueueRate, ecsTaskQueue } from '../domain/ecs-queues';
import { WORKFLOW_INTERCEPTOR_MODULES } from './bundle';

export interface CreateWorkerOptions {
  connection: NativeConnection;
  /** A client on the same cluster and namespace, for activities that signal or cancel workflows. */
  client: Client;
  namespace?: string;
  taskQueue: string;
  config: () => SlipwayConfig;
  /** A prebuilt workflow bundle; without it the worker bundles workflows/ at start. */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Extra worker options (tests shorten shutdown, for instance). */
  workerOptions?: Partial<WorkerOptions>;
  /** Rollout watch poll bounds in ms. */
  pollMinMs?: number;
  pollMaxMs?: number;
  /** Where secrets come from (tokens, webhook URLs): the worker's environment by default. */
  env?: NodeJS.ProcessEnv;
  /** GitHub client tuning (tests shorten waits). */
  githubSecondMs?: number;
  log?: GitHubLog;
  /** Version endpoint request timeout in ms (default 5000). */
  versionTimeoutMs?: number;
  /** ECS budget refill speed-up, for sandboxes that scale time (default 1). */
  ecsBudgetTimeScale?: number;
  /** How ID-token signing keys are fetched and cached (tests shorten the refetch cooldown). */
  oidc?: OidcVerifierOptions;
  /** false: ECS calls go out unbudgeted (only for comparisons: `SLIPWAY_ECS_BUDGET=off`). */
  ecsBudget?: boolean;
}

/**
 * The clients' log (GitHub retries and rate limits): the running activity's logger, with its
 * context, else the worker's. worker/main.ts makes those JSON lines on stdout.
 */
export function workerLog(): GitHubLog {
  const logger = () => {
    try {
      return Context.current().log;
    } catch {
      return Runtime.instance().logger;
    }
  };
  return {
    debug: (m, meta) => logger().debug(m, meta),
    info: (m, meta) => logger().info(m, meta),
    warn: (m, meta) => logger().warn(m, meta),
    error: (m, meta) => logger().error(m, meta),
  };
}

/** The browser the Playwright gate drives: $PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH, else Debian's Chromium if installed. */
export function chromiumPath(env: NodeJS.ProcessEnv): string | undefined {
  const p = env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH || '/usr/bin/chromium';
  return existsSync(p) ? p : undefined;
}

/** Problems that would make every protected operation fail: reported at worker start. */
export function wiringProblems(config: SlipwayConfig, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (config.authorization && config.github && !env[config.github.tokenEnv]) {
    problems.push(`authorization is configured but $${config.github.tokenEnv} is not set: team membership cannot be checked`);
  }
  return problems;
}

/**
 * A Slipway worker: the workflow and activity worker of the task queue, and one
 * activity-only worker per ECS task queue beside it (`<taskQueue>-ecs-register`, `-update`,
 * `-read`), which asks Temporal to dispatch that queue's activities at most at its rate,
 * for all workers together (domain/ecs-queues.ts). They run and stop together.
 */
export class SlipwayWorker {
  constructor(
    readonly main: Worker,
    readonly ecs: Worker[],
  ) {}

  get workers(): Worker[] {
    return [this.main, ...this.ecs];
  }

  getState(): State {
    return this.main.getState();
  }

  shutdown(): void {
    for (const w of this.workers) if (w.getState() === 'RUNNING') w.shutdown();
  }

  /** Runs every worker until all have stopped; one that fails stops the others, and its error is thrown. */
  async run(): Promise<void> {
    const results = await Promise.allSettled(
      this.workers.map((w) =>
        w.run().catch((err: unknown) => {
          this.shutdown();
          throw err;
        }),
      ),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Runs the workers while `fn` runs, then stops them. */
  async runUntil<R>(fn: () => Promise<R>): Promise<R> {
    const running = this.run();
    try {
      return await Promise.race([fn(), running.then(() => Promise.reject(new Error('the workers stopped first')))]);
    } finally {
      this.shutdown();
      await running.catch(() => undefined);
    }
  }
}

/** The worker options that apply to the ECS task queues' workers too. */
const SHARED_OPTIONS = ['shutdownGraceTime', 'shutdownForceTime', 'maxConcurrentActivityTaskExecutions', 'identity'] as const;

export async function createWorker(opts: CreateWorkerOptions): Promise<SlipwayWorker> {
  const env = opts.env ?? process.env;
  const config = opts.config();
  const budgets = ecsBudgets(opts.config, { timeScale: opts.ecsBudgetTimeScale });
  const activities = createActivities({
    config: opts.config,
    ecs: ecsClients(opts.config, opts.ecsBudget === false ? undefined : budgets, Runtime.instance().metricMeter),
    ecsPace: opts.ecsBudget === false ? undefined : budgets,
    registry: registryClient(config, env),
    github: githubClient(config, env, { secondMs: opts.githubSecondMs, log: opts.log ?? workerLog() }),
    pollMinMs: opts.pollMinMs,
    pollMaxMs: opts.pollMaxMs,
    client: opts.client,
    versionTimeoutMs: opts.versionTimeoutMs,
    env,
    chromiumPath: chromiumPath(env),
    oidc: opts.oidc,
  });
  const main = await Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    activities,
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle, interceptors: { activity: [localActivityPriority] } }
      : { workflowsPath: require.resolve('../workflows'), interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES, activity: [localActivityPriority] } }),
    ...opts.workerOptions,
  });
  const shared = Object.fromEntries(SHARED_OPTIONS.flatMap((k) => (opts.workerOptions?.[k] !== undefined ? [[k, opts.workerOptions[k]]] : [])));
  const ecs = await Promise.all(
    ECS_QUEUE_KINDS.map((kind) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.namespace ?? 'default',
        taskQueue: ecsTaskQueue(opts.taskQueue, kind),
        activities,
        ...shared,
        // Without the budget (comparisons only), the queues are not rate-limited either.
        ...(opts.ecsBudget !== false && {
          maxTaskQueueActivitiesPerSecond: ecsQueueRate(kind, config.aws.ecsApiShare, config.aws.ecsApiLimits, opts.ecsBudgetTimeScale),
        }),
      }),
    ),
  );
  return new SlipwayWorker(main, ecs);
}

/**
 * The worker's ECS event consumer, when the config has `aws.events`: it reads ECS's events
 * from SQS and signals each to the deploy watching its service. Stop it after the worker.
 */
export function startEcsEvents(opts: { client: Client; config: () => SlipwayConfig; waitSeconds?: number }): EcsEventConsumer | undefined {
  if (!opts.config().aws.events) return undefined;
  const log = workerLog();
  return new EcsEventConsumer({
    client: opts.client,
    config: opts.config,
    log: { info: (m, meta) => log.info(m, meta), warn: (m, meta) => log.warn(m, meta) },
    waitSeconds: opts.waitSeconds,
  }).start();
}

/**
 * A worker for the pipeline's Playwright gate alone (no workflows): run it on machines that
 * have a browser, on the task queue named by `apps.<app>.pipeline.gate.playwright.taskQueue`.
 */
export async function createGateWorker(opts: {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  config: () => SlipwayConfig;
  env?: NodeJS.ProcessEnv;
}): Promise<Worker> {
  const env = opts.env ?? process.env;
  const browser = chromiumPath(env);
  if (!browser) throw new Error('a gate worker needs Chromium: install it or set PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH');
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    activities: createGateActivities({ github: githubClient(opts.config(), env, { log: workerLog() }), chromiumPath: browser }),
  });
}
