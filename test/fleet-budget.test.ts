/**
 * The ECS budget across many workers: three worker processes on one task queue share one
 * budget, because the activities that register and update run on task queues Temporal's
 * server rate-limits for all their pollers together (domain/ecs-queues.ts); and when those
 * queues are contended, a production deploy or a rollback goes before staging deploys.
 * The ECS sandbox enforces small buckets for the whole account, and a second client (the
 * rest of the account) uses the other half of them meanwhile.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RegisterTaskDefinitionCommand, UpdateServiceCommand, type ECSClient } from '@aws-sdk/client-ecs';
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { waitingOrder } from '../activities/ecs-budget';
import { deployOutcome, startDeploy, startRollback } from '../client/operations';
import { ecsQueueRate, ecsTaskQueue, deployPriority, PRIORITY } from '../domain/ecs-queues';
import type { BucketLimit, ThrottlingCategory } from '../domain/ecs-throttling';
import type { EcsCall } from '../sandbox/ecs';
import { REPO_ROOT } from '../sandbox/tools';
import { INITIAL_TAG, NEW_TAG, eventually, freshTaskQueue, spawnWorkerProcess, startStack, startWorker, type Stack } from './harness';
import { callerClient } from './web-sandbox';

const SHARE = 0.5;
/**
 * The account's buckets, in the sandbox and in the config: RegisterTaskDefinition and
 * UpdateService at 2 per second (burst 8), so half of them is 1 per second (burst 4).
 * Task definition reads are roomy, so that registrations are limited by registering alone.
 */
const LIMITS: Partial<Record<ThrottlingCategory, BucketLimit>> = {
  'task-definition-register': { burst: 8, perSecond: 2 },
  'service-update': { burst: 8, perSecond: 2 },
  'task-definition-read': { burst: 100, perSecond: 40 },
};
const LIMITED = ['task-definition-register', 'service-update'] as const;
const FLEET = 12;
/**
 * Staging deploys queued ahead of the production deploy and the rollback, with the register
 * and update buckets at 4 per second (half of it: 2 per second). Temporal orders by priority
 * within each partition of a queue (4 by default, each dispatching a quarter of the rate), so
 * a task that goes first still waits for its partition's next turn, up to 2 s on each of the
 * two queues: up to about 8 staging updates happen meanwhile, besides those during its
 * preflight. Half of 30 leaves room for that.
 */
const PRIORITY_STAGING = 30;
const PRIORITY_LIMITS: Partial<Record<ThrottlingCategory, BucketLimit>> = {
  ...LIMITS,
  'task-definition-register': { burst: 8, perSecond: 4 },
  'service-update': { burst: 8, perSecond: 4 },
  'task-definition-read': { burst: 100, perSecond: 60 },
};

/**
 * Staging deploys whose checks wait for DescribeServices in the worker's own budget when a
 * rollback starts: service reads at 1 per second (half of it: one call every 2 s, burst 1),
 * so their checks' reads take 20 s to drain, while a rollback's checks take a second or two.
 */
const CHECKED_STAGING = 10;
const CHECKED_LIMITS: Partial<Record<ThrottlingCategory, BucketLimit>> = { ...LIMITS, 'service-read': { burst: 2, perSecond: 1 } };
const CHECKED_TAG = 'e'.repeat(40);

/** Calls leave a worker when they get going but are logged when they arrive: on a busy machine their trips differ by up to this much. */
const TRANSIT_MS = 200;

/**
 * The most calls in any window of `windowMs` among `times`, and what a bucket of `limit`
 * lets through in such a window: its burst, plus its refill over the window (and the
 * transit slack).
 */
function mostInWindow(times: number[], windowMs: number, limit: BucketLimit): { most: number; allowed: number } {
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + windowMs) j++;
    most = Math.max(most, j - i);
  }
  return { most, allowed: Math.floor(limit.burst + (limit.perSecond * (windowMs + TRANSIT_MS)) / 1000) };
}

const repository = (stack: Stack) => `${stack.world.registry.host}/wordpress/openverse-frontend`;

/** Adds `name` as an app with one environment, seeding it in the sandbox first (its own cluster, template and service). */
function addService(stack: Stack, raw: any, name: string, env: 'staging' | 'production', seed: boolean): void {
  raw.apps[name] = {
    images: { web: repository(stack) },
    environments: { [env]: { cluster: `${name}-cluster`, service: name, templateFamily: `${name}-template`, containers: { nuxt: 'web' } } },
  };
  if (!seed) return;
  const template = JSON.parse(readFileSync(join(REPO_ROOT, 'sandbox', 'fixtures', 'templates', 'staging-nuxt-template.json'), 'utf8'));
  stack.ecs.registerTemplate({ ...template, family: `${name}-template` });
  const initial = { ...template, family: name, containerDefinitions: template.containerDefinitions.map((c: any) => ({ ...c, image: `${repository(stack)}:${INITIAL_TAG}` })) };
  stack.ecs.seedService({ cluster: `${name}-cluster`, service: name, desiredCount: 1, taskDefinition: initial });
}

/**
 * The rest of the account: a RegisterTaskDefinition and an UpdateService every second
 * (the other half of each bucket's sustained rate), counting the answers it gets.
 */
function restOfAccount(client: ECSClient) {
  const answers = { ok: 0, throttled: 0, other: 0 };
  let running = true;
  const call = async (send: () => Promise<unknown>) => {
    try {
      await send();
      answers.ok++;
    } catch (err) {
      if ((err as Error).name === 'ThrottlingException') answers.throttled++;
      else answers.other++;
    }
  };
  const loop = (async () => {
    while (running) {
      const next = new Promise((r) => setTimeout(r, 1000));
      await Promise.all([
        call(() => client.send(new RegisterTaskDefinitionCommand({ family: 'other-tool', containerDefinitions: [{ name: 'app', image: 'registry.example/app:1' }] }))),
        call(() => client.send(new UpdateServiceCommand({ cluster: 'other-cluster', service: 'other', desiredCount: 1 }))),
      ]);
      await next;
    }
  })();
  return {
    answers,
    async stop() {
      running = false;
      await loop;
    },
  };
}

/** Waits until `count` distinct workers poll the ECS task queue `taskQueue`, and returns the rate they asked Temporal for. */
async function pollers(stack: Stack, taskQueue: string, count: number): Promise<number[]> {
  return eventually(
    `${count} workers polling ${taskQueue}`,
    async () => {
      const d = await stack.client.workflowService.describeTaskQueue({
        namespace: 'default',
        taskQueue: { name: taskQueue },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY,
      });
      const ps = d.pollers ?? [];
      return new Set(ps.map((p) => p.identity)).size >= count ? ps.map((p) => p.ratePerSecond ?? 0) : undefined;
    },
    90_000,
    250,
  );
}

describe('the ECS queues', () => {
  it('run at share × the sustained rate ÷ the most calls of the category one activity makes', () => {
    // The documented buckets: RegisterTaskDefinition 1/s, UpdateService 5/s, service and deployment reads 20/s.
    assert.equal(ecsQueueRate('register', 0.5), 0.5);
    assert.equal(ecsQueueRate('update', 0.5), 2.5);
    assert.equal(ecsQueueRate('read', 0.5), 5);
    // A category the activity reads a lot from can be what limits it (12 task definition reads per registration).
    assert.equal(ecsQueueRate('register', 0.5, { 'task-definition-register': { burst: 20, perSecond: 10 } }), (0.5 * 20) / 12);
    assert.equal(ecsQueueRate('register', SHARE, LIMITS), 1);
    assert.equal(ecsQueueRate('update', SHARE, LIMITS), 1);
    // A sandbox that runs time 5× faster refills 5× faster.
    assert.equal(ecsQueueRate('update', 0.5, undefined, 5), 12.5);
    assert.equal(ecsTaskQueue('slipway', 'register'), 'slipway-ecs-register');
  });

  it('order rollbacks, then production, then the rest', () => {
    assert.equal(deployPriority('rollback', undefined), PRIORITY.rollback);
    assert.equal(deployPriority('rollback', true), 1);
    assert.equal(deployPriority('deploy', true), 2);
    assert.equal(deployPriority('redeploy', true), 2);
    assert.equal(deployPriority('deploy', undefined), 3);
    assert.equal(deployPriority(undefined, undefined), 3);
    // The worker's own budget serves waiting calls in the same order, then retries before first attempts.
    assert.ok(waitingOrder(1, 1) > waitingOrder(2, 30));
    assert.ok(waitingOrder(2, 1) > waitingOrder(3, 30));
    assert.ok(waitingOrder(3, 2) > waitingOrder(3, 1));
    assert.equal(waitingOrder(undefined, 1), waitingOrder(3, 1), "Temporal's default key is 3");
  });
});

describe('one ECS budget across worker processes', () => {
  let stack: Stack;
  const fleet = Array.from({ length: FLEET }, (_, i) => `fleet-${String(i + 1).padStart(2, '0')}`);
  const staging = Array.from({ length: PRIORITY_STAGING }, (_, i) => `queued-${String(i + 1).padStart(2, '0')}`);
  const checked = Array.from({ length: CHECKED_STAGING }, (_, i) => `checked-${String(i + 1).padStart(2, '0')}`);
  const extra: [string, 'staging' | 'production'][] = [
    ...[...fleet, ...staging, 'rolled-back', ...checked, 'checked-rollback'].map((n): [string, 'staging'] => [n, 'staging']),
    ['urgent', 'production'],
  ];
  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 300, healthyMs: 300, drainMs: 200 },
      configure: (raw) => {
        raw.aws.ecsApiShare = SHARE;
        raw.aws.ecsApiLimits = LIMITS;
      },
    });
    stack.setConfig((raw) => {
      for (const [name, env] of extra) addService(stack, raw, name, env, true);
    });
    stack.ecs.seedService({
      cluster: 'other-cluster',
      service: 'other',
      desiredCount: 1,
      taskDefinition: { family: 'other', containerDefinitions: [{ name: 'app', image: 'registry.example/app:1' }] },
    });
    await stack.world.pushTags(NEW_TAG);
  });
  after(async () => {
    stack.ecs.setThrottling(false);
    await stack?.close();
  });

  it('three workers together stay inside the configured share of each bucket, and every deploy succeeds', async () => {
    const tq = freshTaskQueue('fleet-budget');
    const workers: ChildProcess[] = [];
    const rest = restOfAccount(callerClient(stack.ecs, 'AKIAOTHER', 1));
    try {
      // Each worker signs with its own access key, so the sandbox tells them apart; the account's buckets are shared.
      for (let i = 1; i <= 3; i++) workers.push(await spawnWorkerProcess(stack, tq, { AWS_ACCESS_KEY_ID: `AKIASLIPWAY${i}`, AWS_SECRET_ACCESS_KEY: 'x' }));
      const rates = await pollers(stack, ecsTaskQueue(tq, 'register'), 3);
      assert.deepEqual(rates, [1, 1, 1], 'each worker asks Temporal for half of 2 registrations per second');
      await pollers(stack, ecsTaskQueue(tq, 'update'), 3);
      stack.ecs.setThrottling({ limits: LIMITS });
      stack.ecs.resetCalls();

      const outcomes = await Promise.all(
        fleet.map(async (app) => deployOutcome(await startDeploy(stack.client, { app, env: 'staging', tag: NEW_TAG, actor: 'alice', reason: 'fleet' }, { taskQueue: tq }))),
      );
      for (const o of outcomes) assert.equal(o.ok, true, JSON.stringify(o));
    } finally {
      await rest.stop();
      for (const w of workers) w.kill('SIGTERM');
    }

    const calls = stack.ecs.calls;
    const slipway = calls.filter((c) => c.caller.startsWith('AKIASLIPWAY'));
    // The work was shared: every worker called ECS, and more than one registered (which worker gets a task is Temporal's choice).
    assert.equal(new Set(slipway.map((c) => c.caller)).size, 3);
    const registering = new Set(slipway.filter((c) => c.op === 'RegisterTaskDefinition').map((c) => c.caller));
    assert.ok(registering.size >= 2, `only ${[...registering].join(', ')} registered`);
    assert.equal(stack.ecs.mutations('RegisterTaskDefinition').filter((c) => c.caller.startsWith('AKIASLIPWAY')).length, FLEET);
    assert.equal(stack.ecs.mutations('UpdateService').filter((c) => c.caller.startsWith('AKIASLIPWAY')).length, FLEET);
    for (const category of LIMITED) {
      const limit = LIMITS[category]!;
      const share = { burst: Math.floor(limit.burst * SHARE), perSecond: limit.perSecond * SHARE };
      const times = slipway.filter((c) => c.category === category).map((c) => c.at);
      for (const windowMs of [1000, 2000, 5000, 10_000]) {
        const { most, allowed } = mostInWindow(times, windowMs, share);
        assert.ok(most <= allowed, `${category}: ${most} calls of three workers in ${windowMs} ms, half the bucket allows ${allowed}`);
      }
    }
    // Nobody was throttled: not Slipway, and not the rest of the account, which kept getting answers.
    const throttled = (c: EcsCall) => c.error === 'ThrottlingException';
    assert.deepEqual(
      slipway.filter(throttled).map((c) => `${c.op} ${c.caller}`),
      [],
    );
    assert.equal(rest.answers.throttled, 0, JSON.stringify(rest.answers));
    assert.ok(rest.answers.ok >= 10, `the rest of the account got ${rest.answers.ok} answers`);
    assert.equal(rest.answers.other, 0, JSON.stringify(rest.answers));
  });

  it('a production deploy and a rollback started last reach UpdateService before most queued staging deploys', async () => {
    const tq = freshTaskQueue('fleet-priority');
    stack.setConfig((raw) => {
      for (const [name, env] of extra) addService(stack, raw, name, env, false);
      raw.aws.ecsApiLimits = PRIORITY_LIMITS;
    });
    assert.equal(ecsQueueRate('register', SHARE, PRIORITY_LIMITS), 2);
    const w = await startWorker(stack, tq);
    try {
      stack.ecs.setThrottling({ limits: PRIORITY_LIMITS });
      stack.ecs.resetCalls();
      const queued = staging.map(async (app) => startDeploy(stack.client, { app, env: 'staging', tag: NEW_TAG, actor: 'alice', reason: 'batch' }, { taskQueue: tq }));
      const handles = await Promise.all(queued);
      // The register queue is contended: registrations have begun, most staging deploys wait for theirs.
      await eventually('the first registration', () => stack.ecs.mutations('RegisterTaskDefinition').length > 0);
      const urgent = await startDeploy(stack.client, { app: 'urgent', env: 'production', tag: NEW_TAG, actor: 'bob', reason: 'hotfix' }, { taskQueue: tq });
      const rollback = await startRollback(
        stack.client,
        { app: 'rolled-back', env: 'staging', tag: INITIAL_TAG, rerender: true, actor: 'bob', reason: 'bad release' },
        { taskQueue: tq },
      );
      const outcomes = await Promise.all([...handles, urgent, rollback].map((h) => deployOutcome(h)));
      for (const o of outcomes) assert.equal(o.ok, true, JSON.stringify(o));
    } finally {
      await w.stop();
    }
    const order = stack.ecs.mutations('UpdateService').map((c) => String(c.input.service));
    const before = (service: string) => order.slice(0, order.indexOf(service)).filter((s) => staging.includes(s)).length;
    assert.equal(order.filter((s) => staging.includes(s)).length, PRIORITY_STAGING, order.join(' '));
    for (const service of ['urgent', 'rolled-back']) {
      assert.ok(order.includes(service), `${service} never updated: ${order.join(' ')}`);
      assert.ok(
        before(service) < PRIORITY_STAGING / 2,
        `${service} reached UpdateService after ${before(service)} of ${PRIORITY_STAGING} staging deploys started before it: ${order.join(' ')}`,
      );
    }
  });

  it("a rollback's checks read ECS before the checks of staging deploys waiting in the worker's budget", async () => {
    const tq = freshTaskQueue('fleet-checks');
    await stack.world.pushTags(CHECKED_TAG);
    stack.setConfig((raw) => {
      for (const [name, env] of extra) addService(stack, raw, name, env, false);
      raw.aws.ecsApiLimits = CHECKED_LIMITS;
    });
    /** Services in the order of their first DescribeServices at ECS. */
    const firstReads = () => [...new Set(stack.ecs.calls.filter((c) => c.op === 'DescribeServices').flatMap((c) => c.input.services as string[]))];
    const w = await startWorker(stack, tq);
    const handles: WorkflowHandle[] = [];
    try {
      stack.ecs.setThrottling({ limits: CHECKED_LIMITS });
      stack.ecs.resetCalls();
      // Each staging deploy's checks read its service (its deployment settings): they queue in the worker's budget.
      for (const h of await Promise.all(
        checked.map((app) => startDeploy(stack.client, { app, env: 'staging', tag: CHECKED_TAG, actor: 'alice', reason: 'batch' }, { taskQueue: tq })),
      ))
        handles.push(h);
      await eventually('the first staging check read', () => firstReads().some((s) => checked.includes(s)) || undefined);
      const rollback = await startRollback(
        stack.client,
        { app: 'checked-rollback', env: 'staging', tag: INITIAL_TAG, rerender: true, actor: 'bob', reason: 'bad release' },
        { taskQueue: tq },
      );
      const outcome = await deployOutcome(rollback);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
    } finally {
      await Promise.all(handles.map((h) => h.terminate('test over').catch(() => undefined)));
      stack.ecs.setThrottling(false);
      await w.stop();
    }
    const order = firstReads();
    const before = order.slice(0, order.indexOf('checked-rollback')).filter((s) => checked.includes(s)).length;
    assert.ok(order.includes('checked-rollback'), `the rollback never read its service: ${order.join(' ')}`);
    assert.ok(
      before < CHECKED_STAGING / 2,
      `the rollback's checks read ECS after the checks of ${before} of ${CHECKED_STAGING} staging deploys started before it: ${order.join(' ')}`,
    );
  });
});
