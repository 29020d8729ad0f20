/**
 * Rollouts watched by ECS's events: the ECS sandbox publishes EventBridge-shaped events to
 * moto's SQS, the worker's consumer reads them with the real SQS client and signals the
 * deploy, which confirms each ending with one read. Events that are lost, duplicated or late
 * still give the true outcome, through reconciling reads; a worker killed mid-stream loses
 * no event that matters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DescribeServiceDeploymentsCommand } from '@aws-sdk/client-ecs';
import { deployOutcome, startDeploy } from '../client/operations';
import type { WorkflowHandle } from '@temporalio/client';
import { FailureType, progressQuery, type EcsEventNotice } from '../contract';
import { parseEcsEvent } from '../domain/ecs-events';
import type { EcsCall } from '../sandbox/ecs';
import { startEventQueue } from '../sandbox/moto';
import { localActivityType, saveHistory } from './histories';
import { callerClient } from './web-sandbox';
import { NEW_TAG, eventually, freshTaskQueue, spawnWorkerProcess, startStack, startWorker, type Stack } from './harness';

const BAD_TAG = 'b'.repeat(40);

/** The ECS events the deploy received (its `ecsEvent` signals), redeliveries included. */
async function signalledEvents(handle: WorkflowHandle): Promise<EcsEventNotice[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? []).flatMap((e) => {
    const a = e.workflowExecutionSignaledEventAttributes;
    if (a?.signalName !== 'ecsEvent') return [];
    return (a.input?.payloads ?? []).map((p) => JSON.parse(Buffer.from(p.data!).toString('utf8')) as EcsEventNotice);
  });
}

describe('watching rollouts by ECS events', () => {
  let stack: Stack;
  /** Events only: reconciling reads so rare that a deploy ending in time was ended by its events. */
  const eventsOnly = (reconcileSeconds = 300) =>
    stack.setConfig((raw) => {
      raw.aws.events = { queueUrl: stack.events!.queueUrl, endpoint: stack.events!.endpoint, reconcileSeconds };
    });

  before(async () => {
    stack = await startStack({ timing: { taskStartMs: 300, healthyMs: 300, drainMs: 200 }, events: true });
    await stack.world.pushTags(NEW_TAG, BAD_TAG, 'c'.repeat(40));
  });
  after(async () => {
    await stack?.close();
  });

  const reads = (calls: EcsCall[], service: string, sdArn: string | undefined) => ({
    services: calls.filter((c) => c.op === 'DescribeServices' && (c.input.services as string[]).includes(service)),
    deployments: calls.filter((c) => c.op === 'DescribeServiceDeployments' && (c.input.serviceDeploymentArns as string[]).includes(sdArn ?? '')),
  });

  it('ends a deploy on its COMPLETED event with one confirming read, and reads a rollout at most five times', async () => {
    eventsOnly();
    stack.ecs.publishEvents({ sqs: stack.events!, seed: 1 });
    const tq = freshTaskQueue('events-ok');
    const w = await startWorker(stack, tq);
    try {
      stack.ecs.resetCalls();
      const handle = await startDeploy(stack.client, { app: 'api', env: 'staging', tag: NEW_TAG, actor: 'alice', reason: 'events' }, { taskQueue: tq });
      const outcome = await deployOutcome(handle);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const progress = await handle.query(progressQuery);
      const notified = progress.entries.filter((e) => e.code === 'ecs.notified').map((e) => (e.code === 'ecs.notified' ? e.data.name : ''));
      assert.ok(notified.includes('SERVICE_DEPLOYMENT_COMPLETED'), `events seen: ${notified.join(', ')}`);
      const r = reads(stack.ecs.calls, 'staging-api', progress.serviceDeploymentArn);
      const sd = (await callerClient(stack.ecs, 'AKIATEST', 1).send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [progress.serviceDeploymentArn!] })))
        .serviceDeployments?.[0];
      const endedAt = new Date(sd?.finishedAt ?? 0).getTime();
      assert.ok(endedAt > 0, 'ECS says when the deployment finished');
      const after = r.deployments.filter((c) => c.at >= endedAt);
      assert.equal(after.length, 1, `DescribeServiceDeployments after the deployment completed: ${after.length}`);
      assert.ok(r.services.length + r.deployments.length <= 5, `${r.services.length} DescribeServices + ${r.deployments.length} DescribeServiceDeployments`);
      assert.ok(w.events!.stats.delivered >= 1);
      // Every look confirmed an event (reconciling is 300 s away): each ran on the deploy's
      // own worker, none waited on the rate-limited read queue.
      const history = await handle.fetchHistory();
      const queued = (history.events ?? []).filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'observeDeployment');
      assert.equal(queued.length, 0, `looks sent through the read queue: ${queued.length}`);
      const local = (history.events ?? []).filter((e) => localActivityType(e) === 'observeDeployment');
      assert.ok(local.length >= 1, "no look ran on the deploy's worker");
      await saveHistory(handle, 'deploy-confirmed-locally');
    } finally {
      await w.stop();
      stack.resetConfig();
    }
  });

  it('reconciles a rollout whose IN_PROGRESS event arrived with service reads only: its status came with the event', async () => {
    // A queue of its own: a stopped worker's long poll, still open at the queue, may take the
    // next message there and hide it for the visibility timeout (as SQS does); reconciling
    // covers that, but this test needs the IN_PROGRESS event on time.
    const queue = await startEventQueue(stack.events!.moto, 'slipway-ecs-events-heard');
    stack.setConfig((raw) => {
      raw.aws.events = { queueUrl: queue.queueUrl, endpoint: queue.endpoint, reconcileSeconds: 1 };
    });
    stack.ecs.publishEvents({ sqs: queue, seed: 4 });
    stack.ecs.setSpeed(0.2); // a rollout of several seconds: reconciling looks after its IN_PROGRESS event arrived
    const tq = freshTaskQueue('events-heard');
    const w = await startWorker(stack, tq);
    try {
      stack.ecs.resetCalls();
      const handle = await startDeploy(stack.client, { app: 'api', env: 'staging', tag: 'c'.repeat(40), actor: 'alice', reason: 'heard' }, { taskQueue: tq });
      const outcome = await deployOutcome(handle);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const progress = await handle.query(progressQuery);
      const statuses = progress.entries.flatMap((e) => (e.code === 'ecs.status' ? [e.data.status] : []));
      assert.deepEqual(statuses.slice(0, 1), ['IN_PROGRESS'], `statuses reported: ${statuses.join(', ')}`);
      const sd = (await callerClient(stack.ecs, 'AKIATEST', 1).send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [progress.serviceDeploymentArn!] })))
        .serviceDeployments?.[0];
      const endedAt = new Date(sd?.finishedAt ?? 0).getTime();
      assert.ok(endedAt > 0, 'ECS says when the deployment finished');
      // When the IN_PROGRESS event reached the deploy (its signal in the history).
      const heard = (await handle.fetchHistory()).events?.find((e) =>
        (e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? []).some(
          (p) => (JSON.parse(Buffer.from(p.data!).toString('utf8')) as EcsEventNotice).name === 'SERVICE_DEPLOYMENT_IN_PROGRESS',
        ),
      );
      const heardAt = Number(heard?.eventTime?.seconds ?? 0) * 1000 + Math.floor((heard?.eventTime?.nanos ?? 0) / 1e6);
      assert.ok(heard && heardAt < endedAt, 'the IN_PROGRESS event reached the deploy while it rolled out');
      const r = reads(stack.ecs.calls, 'staging-api', progress.serviceDeploymentArn);
      const between = (c: EcsCall) => c.at > heardAt && c.at < endedAt;
      assert.ok(r.services.filter(between).length >= 2, `reconciling looks after the event, during the rollout: ${r.services.filter(between).length}`);
      assert.equal(r.deployments.filter(between).length, 0, 'the service deployment is described after its IN_PROGRESS event arrived, while it rolled out');
      // Its end is confirmed by reading it (a reconciling look may land just after the end too;
      // the first test holds a deploy to one confirming read).
      assert.ok(
        r.deployments.some((c) => c.at >= endedAt),
        'its end was confirmed by reading the service deployment',
      );
    } finally {
      stack.ecs.setSpeed(1);
      stack.ecs.publishEvents({ sqs: stack.events!, seed: 1 });
      await w.stop();
      stack.resetConfig();
    }
  });

  it('gives the true outcome when every event is lost (reconciling reads) or each comes twice and late', async () => {
    const tq = freshTaskQueue('events-faults');
    eventsOnly(1);
    const w = await startWorker(stack, tq);
    try {
      stack.ecs.publishEvents({ sqs: stack.events!, dropFraction: 1, seed: 2 });
      const lost = await deployOutcome(await startDeploy(stack.client, { app: 'api', env: 'staging', tag: BAD_TAG, actor: 'alice', reason: 'lost' }, { taskQueue: tq }));
      stack.ecs.failImage(`openverse-frontend:${BAD_TAG}`, { reason: 'CannotStartContainerError: nuxt exited' });
      stack.ecs.publishEvents({ sqs: stack.events!, duplicateFraction: 1, delayMs: [0, 800], seed: 3 });
      const twice = await startDeploy(stack.client, { app: 'frontend', env: 'staging', tag: BAD_TAG, actor: 'alice', reason: 'twice' }, { taskQueue: tq });
      const failed = await deployOutcome(twice);
      assert.equal(lost.ok, true, JSON.stringify(lost));
      assert.equal(failed.ok, false);
      assert.equal(!failed.ok && failed.type, FailureType.rolledBack, JSON.stringify(failed));
      // Every event reached the deploy twice; the deploy took each once.
      const names = (await twice.query(progressQuery)).entries.flatMap((e) => (e.code === 'ecs.notified' ? [e.data.name] : []));
      const signalled = await signalledEvents(twice);
      const ids = new Map<string, Set<string>>();
      for (const e of signalled) ids.set(e.name, (ids.get(e.name) ?? new Set()).add(e.id));
      assert.ok(signalled.length > new Set(signalled.map((e) => e.id)).size, `no event was delivered twice: ${JSON.stringify(signalled)}`);
      for (const [name, set] of ids) {
        const taken = names.filter((n) => n === name).length;
        assert.ok(taken <= set.size, `${name}: ${set.size} distinct events, shown ${taken} times`);
      }
      assert.ok(stack.ecs.eventStats().duplicated > 0);
    } finally {
      stack.ecs.clearFailures();
      await w.stop();
      stack.resetConfig();
    }
  });

  it('loses no event when the worker is killed mid-stream: the next worker reads on, and SQS hands out again what the dead one held', async () => {
    eventsOnly();
    stack.ecs.publishEvents({ sqs: stack.events!, seed: 4 });
    const tq = freshTaskQueue('events-kill');
    const child = await spawnWorkerProcess(stack, tq);
    let w: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      stack.ecs.setSpeed(0.2);
      const handle = await startDeploy(stack.client, { app: 'api', env: 'staging', tag: 'c'.repeat(40), actor: 'alice', reason: 'kill' }, { taskQueue: tq });
      await eventually('the update', async () => stack.ecs.mutations('UpdateService').length > 0 && (await handle.query(progressQuery)).phase === 'waiting');
      child.kill('SIGKILL');
      stack.ecs.setSpeed(1);
      w = await startWorker(stack, tq);
      const outcome = await deployOutcome(handle);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const names = (await handle.query(progressQuery)).entries.flatMap((e) => (e.code === 'ecs.notified' ? [e.data.name] : []));
      // Reconciling reads are 300 s apart: the deploy ended on an event the next worker delivered.
      assert.ok(names.includes('SERVICE_DEPLOYMENT_COMPLETED') || names.includes('SERVICE_STEADY_STATE'), names.join(', '));
    } finally {
      stack.ecs.setSpeed(1);
      child.kill('SIGKILL');
      await w?.stop();
      stack.resetConfig();
    }
  });
});

describe('ECS events as EventBridge delivers them', () => {
  it('routes deployment state changes and service actions by the service ARN, and skips the rest', () => {
    const body = {
      version: '0',
      id: 'ddca6449-b258-46c0-8653-e0e3a6d0f7c1',
      'detail-type': 'ECS Deployment State Change',
      source: 'aws.ecs',
      account: '111122223333',
      time: '2026-12-07T12:31:14Z',
      region: 'us-east-1',
      resources: ['arn:aws:ecs:us-east-1:111122223333:service/staging-default/staging-api'],
      detail: {
        eventType: 'INFO',
        eventName: 'SERVICE_DEPLOYMENT_COMPLETED',
        deploymentId: 'ecs-svc/123',
        updatedAt: '2026-12-07T12:31:14.123Z',
        reason: 'ECS deployment ecs-svc/123 completed.',
      },
    };
    assert.deepEqual(parseEcsEvent(JSON.stringify(body)), {
      region: 'us-east-1',
      cluster: 'staging-default',
      service: 'staging-api',
      notice: {
        id: body.id,
        detailType: 'ECS Deployment State Change',
        name: 'SERVICE_DEPLOYMENT_COMPLETED',
        deploymentId: 'ecs-svc/123',
        reason: 'ECS deployment ecs-svc/123 completed.',
        at: '2026-12-07T12:31:14.123Z',
      },
    });
    const action = {
      ...body,
      'detail-type': 'ECS Service Action',
      resources: ['arn:aws:ecs:us-east-1:111122223333:service/staging-api'],
      detail: { eventType: 'INFO', eventName: 'SERVICE_STEADY_STATE', clusterArn: 'arn:aws:ecs:us-east-1:111122223333:cluster/staging-default', createdAt: '2026-12-07T12:32:00Z' },
    };
    const parsed = parseEcsEvent(JSON.stringify(action));
    assert.ok(!('skip' in parsed));
    assert.equal(parsed.cluster, 'staging-default', 'an old-format ARN takes the cluster from the event');
    assert.equal(parsed.notice.at, '2026-12-07T12:32:00Z');
    assert.match(String((parseEcsEvent('nope') as { skip: string }).skip), /not JSON/);
    assert.match(String((parseEcsEvent(JSON.stringify({ ...body, source: 'aws.ec2' })) as { skip: string }).skip), /aws\.ec2/);
    assert.match(String((parseEcsEvent(JSON.stringify({ ...body, 'detail-type': 'ECS Task State Change' })) as { skip: string }).skip), /not watched/);
    assert.match(String((parseEcsEvent(JSON.stringify({ ...body, resources: [] })) as { skip: string }).skip), /names no ECS service/);
  });
});
