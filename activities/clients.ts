/**
 * The outside-world clients built from the config and the environment: ECS per region, the
 * registry, GitHub. The worker hands them to the activities; CLI commands that read
 * (`diff`, `tags`) use them directly.
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import type { Octokit } from '@octokit/rest';
import type { MetricMeter } from '@temporalio/common';
import type { SlipwayConfig } from '../domain/config';
import { ecsCallCategory, isThrottling, METRICS } from '../domain/metrics';
import { EcsBudget, attachBudget } from './ecs-budget';
import { createGitHubClient, type GitHubLog } from './github';
import { createRegistryClient, type RegistryClient } from './registry';

/** The worker's ECS budgets: one per account and Region (the worker's credentials name the account). */
export function ecsBudgets(config: () => SlipwayConfig, opts: { timeScale?: number } = {}): (region: string) => EcsBudget {
  const budgets = new Map<string, EcsBudget>();
  return (region) => {
    const aws = config().aws;
    const key = `${region} ${aws.endpoint || process.env.AWS_ENDPOINT_URL_ECS || ''}`;
    let b = budgets.get(key);
    if (!b) {
      b = new EcsBudget({ share: aws.ecsApiWorkerShare ?? aws.ecsApiShare, limits: aws.ecsApiLimits, timeScale: opts.timeScale });
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
  /** With a metric meter, every request (each attempt) is counted by throttling category, and so is every throttling answer. */
  meter?: MetricMeter,
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
