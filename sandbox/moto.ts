/**
 * Starts moto's server (PyPI `moto[server]`, installed by scripts/setup.sh) on loopback:
 * an independent implementation of the AWS APIs, used to check that Slipway's ECS
 * requests are well formed for the calls moto implements, and as the SQS queue the ECS
 * sandbox sends its EventBridge events to.
 */
import { spawn } from 'node:child_process';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { freePort } from './temporal';
import { toolPath } from './tools';

export interface Moto {
  url: string;
  /** moto_server's process ID. */
  pid: number;
  close(): Promise<void>;
}

export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child = spawn(toolPath('MOTO_SERVER_PATH'), ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  let exited: number | null | undefined;
  child.on('exit', (c) => (exited = c));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited !== undefined) throw new Error(`moto_server exited with code ${exited}`);
    try {
      const r = await fetch(`${url}/moto-api/`);
      if (r.status < 500) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto_server on ${url} did not answer within 60 s`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    pid: child.pid!,
    async close() {
      if (exited !== undefined) return;
      const done = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      await done;
    },
  };
}

/** An SQS queue on moto's server, where the ECS sandbox can publish its EventBridge events. */
export interface EventQueue {
  endpoint: string;
  region: string;
  queueUrl: string;
  moto: Moto;
}

/** The queue name of ECS's events in the tests, the benchmarks and the local start. */
export const EVENT_QUEUE_NAME = 'slipway-ecs-events';

/** Starts moto (unless given one) and creates the events queue through the real SQS client. */
export async function startEventQueue(moto?: Moto, name = EVENT_QUEUE_NAME): Promise<EventQueue> {
  const server = moto ?? (await startMoto());
  const region = 'us-east-1';
  const sqs = new SQSClient({ endpoint: server.url, region, credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } });
  try {
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
    if (!QueueUrl) throw new Error(`moto answered CreateQueue ${name} without a QueueUrl`);
    return { endpoint: server.url, region, queueUrl: QueueUrl, moto: server };
  } catch (err) {
    if (!moto) await server.close();
    throw err;
  } finally {
    sqs.destroy();
  }
}
