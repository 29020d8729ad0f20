/**
 * Worker wiring: real clients in, a Temporal worker out. Used by worker/main.ts and by the
 * tests (which pass sandbox endpoints through the config).
 */
import { existsSync } from 'node:fs';
import { ECSClient } from '@aws-sdk/client-ecs';
import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { MetricMeter } from '@temporalio/common';
import { NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Octokit } from '@octokit/rest';
import { createActivities } from '../activities';
import { createGitHubClient, type GitHubLog } from '../activities/github';
import { createPlaywrightActivities } from '../activities/playwright';
import { createRegistryClient, type RegistryClient } from '../activities/registry';
import type { SlipwayConfig } from '../domain/config';
import { ecsCallCategory, isThrottling, METRICS } from '../domain/metrics';
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
}

/**
 * One ECS client per region, pointed at `aws.endpoint` when the config sets one (sandboxes, LocalStack).
 * With a metric meter, every request (each attempt) is counted by throttling category, and so is every throttling answer.
 */
export function ecsClients(config: () => SlipwayConfig, meter?: MetricMeter): (region: string, opts?: { mutating?: boolean }) => ECSClient {
  const clients = new Map<string, ECSClient>();
  return (region, opts = {}) => {
    const endpoint = config().aws.endpoint || process.env.AWS_ENDPOINT_URL_ECS || undefined;
    const key = `${region} ${endpoint ?? ''} ${opts.mutating ? 'once' : 'retrying'}`;
    let c = clients.get(key);
    if (!c) {
      c = new ECSClient({
        region,
        endpoint,
        // Reads retry in the SDK; effects are sent once per activity attempt (see EcsDeps.ecs).
        maxAttempts: opts.mutating ? 1 : 3,
        // A sandbox endpoint takes any credentials; real AWS uses the default provider chain.
        ...(endpoint && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } } : {}),
      });
      if (meter) countEcsCalls(c, meter);
      clients.set(key, c);
    }
    return c;
  };
}

function countEcsCalls(client: ECSClient, meter: MetricMeter): void {
  const calls = meter.createCounter(METRICS.ecsCalls, undefined, 'ECS API requests, each attempt');
  const throttles = meter.createCounter(METRICS.ecsThrottles, undefined, 'ECS API requests answered with a throttling error');
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const api = (context.commandName ?? 'unknown').replace(/Command$/, '');
      const labels = { category: ecsCallCategory(api), api };
      calls.add(1, labels);
      try {
        return await next(args);
      } catch (err) {
        if (isThrottling(err)) throttles.add(1, labels);
        throw err;
      }
    },
    // Below the SDK's retry middleware: each attempt passes here.
    { step: 'finalizeRequest', name: 'slipwayEcsMetrics', priority: 'low' },
  );
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

/** A registry client with credentials read from the environment variables the config names. */
export function registryClient(config: SlipwayConfig, env: NodeJS.ProcessEnv): RegistryClient {
  return createRegistryClient({
    insecureHosts: Object.entries(config.registries)
      .filter(([, r]) => r.insecure)
      .map(([host]) => host),
    auth: (host) => {
      const r = config.registries[host];
      if (!r) return undefined;
      const username = r.usernameEnv ? env[r.usernameEnv] : undefined;
      const password = r.passwordEnv ? env[r.passwordEnv] : undefined;
      return username || password ? { username, password } : undefined;
    },
    credentialHint: (host) => {
      const r = config.registries[host];
      return r ? `set ${[r.usernameEnv, r.passwordEnv].filter(Boolean).join(' and ')} for the worker` : `add registries.${host} to the config`;
    },
  });
}

/** The GitHub client, when the config names a repository and the worker has its token. */
export function githubClient(config: SlipwayConfig, env: NodeJS.ProcessEnv, opts: { secondMs?: number; log?: GitHubLog } = {}): Octokit | undefined {
  if (!config.github) return undefined;
  const token = env[config.github.tokenEnv];
  if (!token) return undefined;
  return createGitHubClient({ token, baseUrl: config.github.apiUrl, secondMs: opts.secondMs, log: opts.log });
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
  const activities = createActivities({
    config: opts.config,
    ecs: ecsClients(opts.config, Runtime.instance().metricMeter),
    registry: registryClient(config, env),
    github: githubClient(config, env, { secondMs: opts.githubSecondMs, log: opts.log ?? workerLog() }),
    pollMinMs: opts.pollMinMs,
    pollMaxMs: opts.pollMaxMs,
    client: opts.client,
    versionTimeoutMs: opts.versionTimeoutMs,
    env,
    chromiumPath: chromiumPath(env),
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
 * A worker for the pipeline's Playwright gate alone (no workflows): run it on machines that
 * have a browser, on the task queue named by `apps.<app>.pipeline.gate.playwright.taskQueue`.
 */
export async function createGateWorker(opts: { connection: NativeConnection; namespace?: string; taskQueue: string; config: () => SlipwayConfig; env?: NodeJS.ProcessEnv }): Promise<Worker> {
  const env = opts.env ?? process.env;
  const browser = chromiumPath(env);
  if (!browser) throw new Error('a gate worker needs Chromium: install it or set PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH');
  return Worker.create({
    connection: opts.connection,
    namespace: opts.namespace ?? 'default',
    taskQueue: opts.taskQueue,
    activities: createPlaywrightActivities({ github: githubClient(opts.config(), env, { log: workerLog() }), chromiumPath: browser }),
  });
}
