/**
 * Worker wiring: real clients in, a Temporal worker out. Used by worker/main.ts and by the
 * tests (which pass sandbox endpoints through the config).
 */
import { existsSync } from 'node:fs';
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type { Octokit } from '@octokit/rest';
import { createActivities } from '../activities';
import { EcsBudget, attachBudget } from '../activities/ecs-budget';
import { createGitHubClient, type GitHubLog } from '../activities/github';
import { createPlaywrightActivities } from '../activities/playwright';
import { createRegistryClient, type RegistryClient } from '../activities/registry';
import type { SlipwayConfig } from '../domain/config';

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
}

/** The worker's ECS budgets: one per account and Region (the worker's credentials name the account). */
export function ecsBudgets(config: () => SlipwayConfig, opts: { timeScale?: number } = {}): (region: string) => EcsBudget {
  const budgets = new Map<string, EcsBudget>();
  return (region) => {
    const endpoint = config().aws.endpoint || process.env.AWS_ENDPOINT_URL_ECS || '';
    const key = `${region} ${endpoint}`;
    let b = budgets.get(key);
    if (!b) {
      const aws = config().aws;
      b = new EcsBudget({ share: aws.ecsApiShare, limits: aws.ecsApiLimits, timeScale: opts.timeScale });
      budgets.set(key, b);
    }
    return b;
  };
}

/**
 * One ECS client per region, pointed at `aws.endpoint` when the config sets one (sandboxes,
 * LocalStack). With `budget`, every attempt of every call draws from the region's ECS budget.
 */
export function ecsClients(
  config: () => SlipwayConfig,
  budget?: (region: string) => EcsBudget,
): (region: string, opts?: { mutating?: boolean }) => ECSClient {
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
      if (budget) attachBudget(c, budget(region));
      clients.set(key, c);
    }
    return c;
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
  const budgets = ecsBudgets(opts.config, { timeScale: opts.ecsBudgetTimeScale });
  const activities = createActivities({
    config: opts.config,
    ecs: ecsClients(opts.config, budgets),
    ecsPace: budgets,
    registry: registryClient(config, env),
    github: githubClient(config, env, { secondMs: opts.githubSecondMs, log: opts.log }),
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
    ...(opts.workflowBundle ? { workflowBundle: opts.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
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
    activities: createPlaywrightActivities({ github: githubClient(opts.config(), env), chromiumPath: browser }),
  });
}
