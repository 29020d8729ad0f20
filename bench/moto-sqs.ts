/**
 * How moto's SQS copes with the ECS sandbox's event traffic on this machine: events are
 * published through the sandbox's publisher (sandbox/ecs/events.ts: real SQS client, at most
 * 4 sends in flight) at `MOTO_SQS_RATE` events per minute (default 1000) for
 * `MOTO_SQS_SECONDS` (default 60) across 200 services, while one consumer long-polls the
 * queue (ReceiveMessage, 10 at a time, 1 s wait) and deletes what it got (DeleteMessageBatch),
 * as a worker does. Reports the time from publish to receipt (median/p90/max), the send
 * backlog, and moto's CPU.
 *
 *   npx tsx bench/moto-sqs.ts
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { EcsEventPublisher, type DeploymentStateChangeDetail, type EcsEvent } from '../sandbox/ecs/events';
import { startEventQueue } from '../sandbox/moto';
import { procStats } from './proc';
import { fmtMs, max, median, p90 } from './stats';

const rate = Number(process.env.MOTO_SQS_RATE ?? 1000);
const seconds = Number(process.env.MOTO_SQS_SECONDS ?? 60);
const SERVICES = 200;

async function main(): Promise<void> {
  const queue = await startEventQueue();
  const publisher = new EcsEventPublisher({ sqs: { endpoint: queue.endpoint, region: queue.region, queueUrl: queue.queueUrl } });
  const sqs = new SQSClient({ endpoint: queue.endpoint, region: queue.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const latencies: number[] = [];
  const total = Math.round((rate * seconds) / 60);
  const cpu0 = procStats(queue.moto.pid)?.cpuSeconds ?? NaN;
  const t0 = Date.now();

  let consuming = true;
  const consumer = (async () => {
    while (consuming || latencies.length < total) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      const now = Date.now();
      const messages = out.Messages ?? [];
      for (const m of messages) latencies.push(now - Date.parse((JSON.parse(m.Body!) as EcsEvent & { detail: DeploymentStateChangeDetail }).detail.updatedAt));
      if (messages.length) {
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queue.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
      }
      if (!consuming && Date.now() - t0 > (seconds + 60) * 1000) break; // gave up on stragglers
    }
  })();

  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 60_000) / rate;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
    const service = `svc-${i % SERVICES}`;
    publisher.publish({
      detailType: 'ECS Deployment State Change',
      serviceArn: `arn:aws:ecs:us-east-1:123456789012:service/bench-${i % 20}/${service}`,
      detail: { eventType: 'INFO', eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS', deploymentId: `ecs-svc/${i}`, updatedAt: new Date().toISOString(), reason: 'bench' },
    });
  }
  const publishedAllAt = Date.now();
  consuming = false;
  await consumer;
  const wall = Date.now() - t0;
  const cpu = (procStats(queue.moto.pid)?.cpuSeconds ?? NaN) - cpu0;
  const stats = publisher.stats();
  publisher.stop();
  sqs.destroy();
  await queue.moto.close();
  process.stdout.write(
    [
      `moto SQS, ${total} events at ${rate}/min over ${seconds} s (${SERVICES} services), one consumer:`,
      `  publish → receipt: median ${fmtMs(median(latencies))}, p90 ${fmtMs(p90(latencies))}, max ${fmtMs(max(latencies))} (${latencies.length} received)`,
      `  last event received ${fmtMs(wall - (publishedAllAt - t0))} after the last publish; sent ${stats.published}, failed ${stats.failed}`,
      `  moto CPU: ${cpu.toFixed(1)} s over ${(wall / 1000).toFixed(1)} s wall (${((100 * cpu * 1000) / wall).toFixed(0)} % of one core)`,
    ].join('\n') + '\n',
  );
}

void main();
