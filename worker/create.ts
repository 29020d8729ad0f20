/**
 * Worker wiring: real clients in, a Temporal worker out. Used by worker/main.ts and by the
 * tests (which pass sandbox endpoints through the config).
 */
import { existsSync } from 'node:fs';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { ecsBudgets, ecsClients, githubClient, registryClient } from '../activities/clients';
import type { GitHubLog } from '../activities/github';
import type { OidcVerifierOptions } from '../activities/identity';
import { createGateActivities } from '../activities/gates';
import { EcsEventConsumer } from '../activities/ecs-events';
import type { SlipwayConfig } from '../domain/config';
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

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
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
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    activities,
    ...(opts.workflowBundle
      ? { workflowBundle: opts.workflowBundle }
      : { workflowsPath: require.resolve('../workflows'), interceptors: { workflowModules: WORKFLOW_INTERCEPTOR_MODULES } }),
    ...opts.workerOptions,
  });
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
