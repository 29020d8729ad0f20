/**
 * The ECS sandbox's EventBridge events, read with the real @aws-sdk/client-sqs from moto's
 * SQS: a rolling deploy, a circuit-breaker rollback and an alarm rollback started through
 * the real @aws-sdk/client-ecs yield ECS's "ECS Deployment State Change" and "ECS Service
 * Action" events with the deployment IDs DescribeServices shows; dropped, duplicated and late
 * events happen as configured and repeat with the seed; an unreachable queue never holds up
 * an ECS call.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DescribeServicesCommand, ECSClient, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionRequest, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type DeploymentStateChangeDetail, type EcsEvent, type EcsEventsOptions, type EcsSandbox, type ServiceActionDetail, startEcsSandbox } from '../sandbox/ecs';
import { EVENT_QUEUE_NAME, type EventQueue, type Moto, startEventQueue, startMoto } from '../sandbox/moto';
import { eventually, startStack } from './harness';

const TIMING = { taskStartMs: 60, healthyMs: 100, drainMs: 30 };
const CLUSTER = 'events-cluster';
const CREDENTIALS = { accessKeyId: 'x', secretAccessKey: 'x' };

/** A task definition of `family` running `tag` (the smallest RegisterTaskDefinition takes). */
function taskDefinition(family: string, tag: string): RegisterTaskDefinitionRequest {
  return { family, containerDefinitions: [{ name: 'app', image: `registry.example/${family}:${tag}` }] };
}

/** Reads a queue with the real SQS client, deleting what it received. */
class QueueReader {
  readonly received: EcsEvent[] = [];
  private readonly sqs: SQSClient;
  constructor(private readonly queue: EventQueue) {
    this.sqs = new SQSClient({ endpoint: queue.endpoint, region: queue.region, credentials: CREDENTIALS });
  }

  /** Receives until the queue answers empty once. */
  async drain(): Promise<EcsEvent[]> {
    for (;;) {
      const out = await this.sqs.send(new ReceiveMessageCommand({ QueueUrl: this.queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      const messages = out.Messages ?? [];
      if (!messages.length) return this.received;
      for (const m of messages) this.received.push(JSON.parse(m.Body!) as EcsEvent);
      await this.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.queue.queueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }));
    }
  }

  /** Receives until `pred` holds for what arrived. */
  async until(what: string, pred: (events: EcsEvent[]) => boolean, timeoutMs = 15_000): Promise<EcsEvent[]> {
    return eventually(what, async () => (pred(await this.drain()) ? this.received : undefined), timeoutMs, 50).catch((err: Error) => {
      throw new Error(`${err.message}; received: ${JSON.stringify(this.received.map(brief))}`);
    });
  }

  close(): void {
    this.sqs.destroy();
  }
}

const brief = (e: EcsEvent) => `${e['detail-type']} ${e.detail.eventName} ${'deploymentId' in e.detail ? e.detail.deploymentId : ''}`;
/** The detail of a deployment event / of a service action event. */
const dep = (e: EcsEvent) => e.detail as DeploymentStateChangeDetail;
const action = (e: EcsEvent) => e.detail as ServiceActionDetail;
const named = (events: EcsEvent[], name: string) => events.filter((e) => e.detail.eventName === name);

describe('ECS events to SQS', () => {
  let moto: Moto;
  let sandbox: EcsSandbox;
  let ecs: ECSClient;
  let queue: EventQueue;
  let reader: QueueReader;
  let queues = 0;

  before(async () => {
    moto = await startMoto();
  });
  after(async () => {
    await moto?.close();
  });
  beforeEach(async () => {
    sandbox = await startEcsSandbox({ timing: TIMING });
    ecs = new ECSClient({ endpoint: sandbox.url, region: 'us-east-1', credentials: CREDENTIALS });
    queue = await startEventQueue(moto, `events-${process.pid}-${++queues}`);
    reader = new QueueReader(queue);
  });
  afterEach(async () => {
    reader.close();
    ecs.destroy();
    await sandbox.close();
  });

  const sqs = (extra: Omit<EcsEventsOptions, 'sqs'> = {}): EcsEventsOptions => ({ sqs: { endpoint: queue.endpoint, region: queue.region, queueUrl: queue.queueUrl }, ...extra });

  function seed(service: string, extra: Partial<Parameters<EcsSandbox['seedService']>[0]> = {}) {
    return sandbox.seedService({
      cluster: CLUSTER,
      service,
      desiredCount: 2,
      taskDefinition: taskDefinition(service, 'v1'),
      circuitBreaker: { enable: true, rollback: true },
      ...extra,
    });
  }

  /** Registers `tag` and points `service` at it through the SDK; returns the new deployment's id as UpdateService shows it. */
  async function deploy(service: string, tag: string): Promise<{ deploymentId: string; taskDefinitionArn: string }> {
    const registered = await ecs.send(new RegisterTaskDefinitionCommand(taskDefinition(service, tag)));
    const taskDefinitionArn = registered.taskDefinition!.taskDefinitionArn!;
    const out = await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service, taskDefinition: taskDefinitionArn }));
    const primary = out.service?.deployments?.find((d) => d.status === 'PRIMARY');
    assert.equal(primary?.taskDefinition, taskDefinitionArn);
    return { deploymentId: primary.id!, taskDefinitionArn };
  }

  async function deployments(service: string) {
    const out = await ecs.send(new DescribeServicesCommand({ cluster: CLUSTER, services: [service] }));
    return out.services![0].deployments ?? [];
  }

  it('a rolling deploy yields IN_PROGRESS, then COMPLETED with the id DescribeServices shows, then steady state, in EventBridge envelopes', async () => {
    const seeded = seed('web');
    sandbox.publishEvents(sqs());
    const { deploymentId, taskDefinitionArn } = await deploy('web', 'v2');
    const described = await deployments('web');
    assert.equal(described.find((d) => d.taskDefinition === taskDefinitionArn)?.id, deploymentId);

    const events = await reader.until('COMPLETED and steady state', (es) => named(es, 'SERVICE_STEADY_STATE').length > 0);
    assert.deepEqual(events.map(brief), [
      `ECS Deployment State Change SERVICE_DEPLOYMENT_IN_PROGRESS ${deploymentId}`,
      `ECS Deployment State Change SERVICE_DEPLOYMENT_COMPLETED ${deploymentId}`,
      'ECS Service Action SERVICE_STEADY_STATE ',
    ]);
    const [progress, completed, steady] = events;
    assert.deepEqual(dep(progress), {
      eventType: 'INFO',
      eventName: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
      deploymentId,
      updatedAt: dep(progress).updatedAt,
      reason: `ECS deployment ${deploymentId} in progress.`,
    });
    assert.deepEqual(dep(completed), {
      eventType: 'INFO',
      eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
      deploymentId,
      updatedAt: dep(completed).updatedAt,
      reason: `ECS deployment ${deploymentId} completed.`,
    });
    assert.deepEqual(action(steady), { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: seeded.clusterArn, createdAt: action(steady).createdAt });
    assert.ok(Date.parse(dep(progress).updatedAt) <= Date.parse(dep(completed).updatedAt));
    assert.ok(Date.parse(dep(completed).updatedAt) <= Date.parse(action(steady).createdAt));
    for (const e of events) {
      assert.equal(e.version, '0');
      assert.match(e.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(e.source, 'aws.ecs');
      assert.equal(e.account, '123456789012');
      assert.equal(e.region, 'us-east-1');
      assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(e.resources, [seeded.serviceArn]);
    }
    const after = await deployments('web');
    assert.deepEqual(
      after.map((d) => [d.id, d.rolloutState]),
      [[deploymentId, 'COMPLETED']],
    );
    assert.deepEqual(sandbox.eventStats(), { published: 3, dropped: 0, duplicated: 0, delayed: 0, failed: 0 });
  });

  it('a circuit-breaker failure yields FAILED with the reason DescribeServices shows for that deployment', async () => {
    // Without rollback the failed deployment stays listed (ECS keeps replacing its tasks), so it can be read at leisure.
    seed('api', { circuitBreaker: { enable: true, rollback: false } });
    sandbox.publishEvents(sqs());
    sandbox.failImage(':v2');
    const { deploymentId: failing } = await deploy('api', 'v2');
    const events = await reader.until('FAILED', (es) => named(es, 'SERVICE_DEPLOYMENT_FAILED').length > 0);
    const described = (await deployments('api')).find((d) => d.id === failing);
    assert.equal(described?.rolloutState, 'FAILED');
    assert.deepEqual(events.map(brief), [
      `ECS Deployment State Change SERVICE_DEPLOYMENT_IN_PROGRESS ${failing}`,
      'ECS Service Action SERVICE_TASK_START_IMPAIRED ',
      `ECS Deployment State Change SERVICE_DEPLOYMENT_FAILED ${failing}`,
    ]);
    assert.deepEqual(dep(events[2]), {
      eventType: 'ERROR',
      eventName: 'SERVICE_DEPLOYMENT_FAILED',
      deploymentId: failing,
      updatedAt: dep(events[2]).updatedAt,
      reason: described.rolloutStateReason,
    });
    assert.equal(dep(events[2]).reason, 'ECS deployment circuit breaker: tasks failed to start.');
    assert.equal(events[1].detail.eventType, 'WARN');
  });

  it('a circuit-breaker rollback yields FAILED, then IN_PROGRESS and COMPLETED of the deployment rolled back to', async () => {
    seed('api');
    sandbox.publishEvents(sqs());
    sandbox.failImage(':v2');
    const { deploymentId: failing } = await deploy('api', 'v2');
    const events = await reader.until('the rollback completed and steady', (es) => named(es, 'SERVICE_STEADY_STATE').length > 0);
    const rollback = (await deployments('api')).find((d) => d.status === 'PRIMARY')!;
    assert.notEqual(rollback.id, failing);
    assert.deepEqual(events.map(brief), [
      `ECS Deployment State Change SERVICE_DEPLOYMENT_IN_PROGRESS ${failing}`,
      'ECS Service Action SERVICE_TASK_START_IMPAIRED ',
      `ECS Deployment State Change SERVICE_DEPLOYMENT_FAILED ${failing}`,
      `ECS Deployment State Change SERVICE_DEPLOYMENT_IN_PROGRESS ${rollback.id}`,
      `ECS Deployment State Change SERVICE_DEPLOYMENT_COMPLETED ${rollback.id}`,
      'ECS Service Action SERVICE_STEADY_STATE ',
    ]);
    assert.equal(dep(events[2]).reason, 'ECS deployment circuit breaker: tasks failed to start.');
    assert.equal(dep(events[3]).reason, `ECS deployment circuit breaker: rolling back to deploymentId ${rollback.id}.`);
  });

  it('an alarm rollback yields FAILED naming the alarm', async () => {
    seed('site', { deploymentConfiguration: { alarms: { alarmNames: ['site-5xx'], enable: true, rollback: true } } });
    sandbox.publishEvents(sqs());
    sandbox.setAlarm('site-5xx', true);
    const { deploymentId } = await deploy('site', 'v2');
    const events = await reader.until('the rollback completed', (es) => named(es, 'SERVICE_DEPLOYMENT_COMPLETED').length > 0);
    const [failed] = named(events, 'SERVICE_DEPLOYMENT_FAILED');
    assert.equal(failed?.detail.eventType, 'ERROR');
    assert.equal(dep(failed).deploymentId, deploymentId);
    assert.equal(dep(failed).reason, `ECS deployment ${deploymentId} rolled back: alarms in ALARM state: site-5xx.`);
    const rollbackId = (await deployments('site')).find((d) => d.status === 'PRIMARY')!.id;
    assert.deepEqual(
      named(events, 'SERVICE_DEPLOYMENT_COMPLETED').map((e) => dep(e).deploymentId),
      [rollbackId],
    );
    assert.equal(dep(named(events, 'SERVICE_DEPLOYMENT_IN_PROGRESS')[1]).reason, `ECS deployment alarms: rolling back to deploymentId ${rollbackId}.`);
  });

  it('drops, duplicates and delays events as configured, the same with the same seed, and eventStats counts what arrives', async () => {
    const services = Array.from({ length: 8 }, (_, i) => `svc-${i}`);
    const run = async (): Promise<{ stats: ReturnType<EcsSandbox['eventStats']>; received: EcsEvent[] }> => {
      for (const s of services) seed(s);
      sandbox.publishEvents(sqs({ dropFraction: 0.25, duplicateFraction: 0.25, delayMs: [20, 150], seed: 7 }));
      await Promise.all(services.map((s) => deploy(s, 'v2')));
      // Every deploy makes 3 events (IN_PROGRESS, COMPLETED, steady state); wait until each was sent, dropped or failed.
      const total = services.length * 3;
      await eventually('every event accounted for', async () => {
        const st = sandbox.eventStats();
        const rolledOut = (await Promise.all(services.map(deployments))).every((ds) => ds.length === 1 && ds[0].rolloutState === 'COMPLETED');
        return rolledOut && st.dropped + (st.published - st.duplicated) + st.failed === total;
      });
      const stats = sandbox.eventStats();
      const received = await reader.until('every published message', (es) => es.length >= stats.published);
      return { stats, received: [...received] };
    };

    const first = await run();
    const { stats } = first;
    assert.equal(stats.failed, 0);
    assert.ok(stats.dropped > 0 && stats.duplicated > 0, JSON.stringify(stats));
    assert.equal(first.received.length, stats.published, 'every published message arrives, no other');
    const ids = new Set(first.received.map((e) => e.id));
    assert.equal(first.received.length - ids.size, stats.duplicated, 'a duplicate is the same event (same id) twice');
    assert.equal(ids.size, services.length * 3 - stats.dropped);
    assert.equal(stats.delayed, ids.size, 'with a delay of at least 20 ms every event sent is late');

    // The same seed on a fresh sandbox and queue: the same faults.
    reader.close();
    ecs.destroy();
    await sandbox.close();
    sandbox = await startEcsSandbox({ timing: TIMING });
    ecs = new ECSClient({ endpoint: sandbox.url, region: 'us-east-1', credentials: CREDENTIALS });
    queue = await startEventQueue(moto, `events-${process.pid}-${++queues}`);
    reader = new QueueReader(queue);
    const second = await run();
    assert.deepEqual(second.stats, stats);
  });

  it('an ECS call never waits on SQS: with a queue that never answers deploys complete, with an unreachable one `failed` counts', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket)); // accepts connections, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as net.AddressInfo).port;
      seed('web');
      sandbox.publishEvents({ sqs: { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', queueUrl: `http://127.0.0.1:${port}/123456789012/q` } });
      const started = Date.now();
      const { deploymentId } = await deploy('web', 'v2');
      assert.ok(Date.now() - started < 4000, 'RegisterTaskDefinition and UpdateService answer before a send could time out (5 s)');
      await eventually('the rollout completed', async () => (await deployments('web')).find((d) => d.id === deploymentId)?.rolloutState === 'COMPLETED');
      assert.equal(sandbox.eventStats().published, 0, 'nothing reached the queue that never answers');
    } finally {
      sandbox.publishEvents(false);
      for (const socket of sockets) socket.destroy();
      silent.close();
    }

    // A port nobody listens on: every send fails, and is counted.
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    sandbox.publishEvents({ sqs: { endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', queueUrl: `http://127.0.0.1:${port}/123456789012/q` } });
    const { deploymentId } = await deploy('web', 'v3');
    await eventually('the rollout completed', async () => (await deployments('web')).find((d) => d.id === deploymentId)?.rolloutState === 'COMPLETED');
    await eventually('the 3 failed sends counted', () => sandbox.eventStats().failed === 3);
    assert.equal(sandbox.eventStats().published, 0);
  });

  it('rejects bad publishing options with a message naming the option, and keeps publishing as it was', async () => {
    seed('web');
    sandbox.publishEvents(sqs());
    assert.throws(() => sandbox.publishEvents(sqs({ dropFraction: 1.5 })), /dropFraction must be a fraction between 0 and 1, got 1.5/);
    assert.throws(() => sandbox.publishEvents(sqs({ delayMs: [100, 10] })), /delayMs must be \[min, max\] with 0 <= min <= max/);
    assert.throws(() => sandbox.publishEvents({ sqs: { endpoint: queue.endpoint, region: 'us-east-1', queueUrl: '' } }), /sqs needs endpoint, region and queueUrl/);
    await deploy('web', 'v2');
    await reader.until('steady state', (es) => named(es, 'SERVICE_STEADY_STATE').length > 0);
    assert.equal(sandbox.eventStats().published, 3);
  });
});

describe('startStack({ events: true })', () => {
  it('starts moto, creates the queue slipway-ecs-events and has the ECS sandbox publish to it', async () => {
    const stack = await startStack({ events: true, timing: TIMING });
    try {
      assert.ok(stack.events);
      assert.match(stack.events.queueUrl, new RegExp(`/${EVENT_QUEUE_NAME}$`));
      const reader = new QueueReader(stack.events);
      const ecs = new ECSClient({ endpoint: stack.ecs.url, region: 'us-east-1', credentials: CREDENTIALS });
      try {
        const out = await ecs.send(new UpdateServiceCommand({ cluster: 'staging-default', service: 'staging-api', forceNewDeployment: true }));
        const id = out.service?.deployments?.find((d) => d.status === 'PRIMARY')?.id;
        const events = await reader.until('COMPLETED', (es) => named(es, 'SERVICE_DEPLOYMENT_COMPLETED').length > 0);
        assert.deepEqual(
          named(events, 'SERVICE_DEPLOYMENT_COMPLETED').map((e) => dep(e).deploymentId),
          [id],
        );
      } finally {
        reader.close();
        ecs.destroy();
      }
    } finally {
      await stack.close();
    }
  });
});
