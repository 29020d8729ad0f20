/**
 * Worker wiring: real clients in, a Temporal worker out. Used by worker/main.ts and by the
 * tests (which pass sandbox endpoints through the config).
 */
import { ECSClient } from '@aws-sdk/client-ecs';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { SlipwayConfig } from '../domain/config';

export interface CreateWorkerOptions {
  connection: NativeConnection;
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
}

/** One ECS client per region, pointed at `aws.endpoint` when the config sets one (sandboxes, LocalStack). */
export function ecsClients(config: () => SlipwayConfig): (region: string) => ECSClient {
  const clients = new Map<string, ECSClient>();
  return (region) => {
    const endpoint = config().aws.endpoint || process.env.AWS_ENDPOINT_URL_ECS || undefined;
    const key = `${region} ${endpoint ?? ''}`;
    let c = clients.get(key);
    if (!c) {
      c = new ECSClient({
        region,
        endpoint,
        maxAttempts: 3,
        // A sandbox endpoint takes any credentials; real AWS uses the default provider chain.
        ...(endpoint && !process.env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } } : {}),
      });
      clients.set(key, c);
    }
    return c;
  };
}

export async function createWorker(opts: CreateWorkerOptions): Promise<Worker> {
  const activities = createActivities({
    config: opts.config,
    ecs: ecsClients(opts.config),
    pollMinMs: opts.pollMinMs,
    pollMaxMs: opts.pollMaxMs,
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
