/**
 * The worker's ECS budget (activities/ecs-budget.ts) against the throttling ECS sandbox:
 * calls stay inside the configured share of each bucket, throttling answers shrink the
 * share and are retried with jitter, registrations queue instead of failing, and deploys
 * on a real Temporal server finish through a throttling storm.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { DescribeServicesCommand, type ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { EcsBudget, attachBudget } from '../activities/ecs-budget';
import { deployOutcome, startDeploy } from '../client/operations';
import type { BucketLimit, ThrottlingCategory } from '../domain/ecs-throttling';
import type { EcsCall, EcsSandbox } from '../sandbox/ecs';
import { NEW_TAG, freshTaskQueue, startStack, startWorker, type Stack } from './harness';
import { callerClient as client, startWebSandbox } from './web-sandbox';

/**
 * Calls leave the worker when they get their token but are counted when they arrive: on a
 * busy machine their trips differ by up to this much.
 */
const TRANSIT_MS = 200;

/**
 * The most calls of `caller` in `category` the sandbox received (throttled ones included)
 * in any one-second window, and what a bucket of `limit` allows in a second (burst plus
 * one second of refill, give or take TRANSIT_MS).
 */
function perSecond(calls: EcsCall[], caller: string, category: ThrottlingCategory, limit: BucketLimit): { most: number; allowed: number } {
  const times = calls.filter((c) => c.caller === caller && c.category === category).map((c) => c.at);
  let most = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while (j < times.length && times[j] < times[i] + 1000) j++;
    most = Math.max(most, j - i);
  }
  return { most, allowed: Math.floor(limit.burst + (limit.perSecond * (1000 + TRANSIT_MS)) / 1000) };
}

const describeWeb = (c: ECSClient) => c.send(new DescribeServicesCommand({ cluster: 'c1', services: ['web'] }));

describe('ECS budget', () => {
  let ecs: EcsSandbox;
  beforeEach(async () => {
    ecs = await startWebSandbox();
  });
  afterEach(async () => {
    await ecs.close();
  });

  it('keeps a burst of calls inside the configured share of the bucket, serving every call', async () => {
    const limits = { 'service-read': { burst: 10, perSecond: 20 } };
    ecs.setThrottling({ limits });
    const budget = new EcsBudget({ share: 0.5, limits });
    // The SDK's first call resolves its configuration, slowly: warm it up before counting.
    const c = client(ecs, 'AKIASLIPWAY', 3);
    await describeWeb(c);
    ecs.setThrottling({ limits });
    ecs.resetCalls();
    attachBudget(c, budget);
    const out = await Promise.all(Array.from({ length: 40 }, () => describeWeb(c)));
    assert.equal(out.length, 40);
    assert.equal(ecs.throttlingStats().byCaller.AKIASLIPWAY['service-read']?.throttled, 0);
    const { most, allowed } = perSecond(ecs.calls, 'AKIASLIPWAY', 'service-read', { burst: 5, perSecond: 10 });
    assert.ok(most <= allowed, `${most} calls in one second, half the bucket allows ${allowed}`);
    assert.equal(budget.stats()['service-read']?.sent, 40);
    budget.close();
  });

  it('shrinks its share when ECS throttles (someone else uses more), retries with jitter, and recovers slowly', async () => {
    ecs.setThrottling({ limits: { 'service-read': { burst: 4, perSecond: 8 } } });
    // Configured as if the account had ten times the quota: ECS's answers must correct it.
    const budget = new EcsBudget({ share: 1, limits: { 'service-read': { burst: 40, perSecond: 80 } }, backoffBaseMs: 50 });
    const c = attachBudget(client(ecs, 'AKIASLIPWAY', 1), budget);
    const out = await Promise.all(Array.from({ length: 40 }, () => describeWeb(c)));
    assert.equal(out.length, 40, 'every call is served in the end');
    const stats = budget.stats()['service-read']!;
    assert.ok(stats.throttled > 0);
    assert.ok(stats.factor < 1, `share factor ${stats.factor}`);
    assert.ok(stats.perSecond < 80);
    // Throttled callers came back spread out, not together: no two retries in the same millisecond burst.
    const retries = ecs.calls.filter((x) => x.caller === 'AKIASLIPWAY').map((x) => x.at);
    const perMs = new Map<number, number>();
    for (const t of retries) perMs.set(t, (perMs.get(t) ?? 0) + 1);
    assert.ok(Math.max(...perMs.values()) < 20, 'a herd of retries in one millisecond');
    budget.close();
  });

  it('queues registrations at the sustained rate instead of failing them', async () => {
    const limits = { 'task-definition-register': { burst: 2, perSecond: 4 } };
    ecs.setThrottling({ limits });
    const budget = new EcsBudget({ share: 0.5, limits });
    const c = attachBudget(client(ecs, 'AKIASLIPWAY', 1), budget);
    const started = Date.now();
    const out = await Promise.all(
      Array.from({ length: 5 }, (_, i) => c.send(new RegisterTaskDefinitionCommand({ family: `f${i}`, containerDefinitions: [{ name: 'app', image: 'registry.example/app:1' }] }))),
    );
    assert.equal(out.length, 5);
    assert.equal(ecs.mutations('RegisterTaskDefinition').length, 5);
    assert.equal(ecs.throttlingStats().byCategory['task-definition-register']?.throttled, 0);
    // One at once, then one every 500 ms (half of 4/s, refill 2/s).
    assert.ok(Date.now() - started >= 1900, `took ${Date.now() - started} ms`);
    budget.close();
  });

  it('serves a retried attempt before first attempts, and drops a cancelled waiter', async () => {
    const budget = new EcsBudget({ share: 1, limits: { 'service-update': { burst: 1, perSecond: 20 } } });
    const order: string[] = [];
    await budget.acquire('service-update');
    const abort = new AbortController();
    const cancelled = budget.acquire('service-update', { signal: abort.signal }).then(
      () => 'served',
      () => 'cancelled',
    );
    const first = budget.acquire('service-update', { priority: 1 }).then(() => order.push('first attempt'));
    const retry = budget.acquire('service-update', { priority: 3 }).then(() => order.push('retry'));
    abort.abort();
    assert.equal(await cancelled, 'cancelled');
    await Promise.all([first, retry]);
    assert.deepEqual(order, ['retry', 'first attempt']);
    assert.equal(budget.stats()['service-update']?.sent, 3);
    budget.close();
  });

  it('spreads rollout watches over half the DescribeServices budget: the more watches, the slower each polls', () => {
    const budget = new EcsBudget({ share: 0.5, now: () => 0 }); // 10 DescribeServices per second; the budget's clock stands still
    assert.equal(budget.pollIntervalMs(1000, 'sd-1'), 1000, 'one watch polls at its own pace');
    for (let i = 2; i <= 10; i++) budget.pollIntervalMs(1000, `sd-${i}`);
    assert.equal(budget.pollIntervalMs(1000, 'sd-1'), 2000, '10 watches share 5 looks per second');
    for (let i = 11; i <= 200; i++) budget.pollIntervalMs(1000, `sd-${i}`);
    assert.equal(budget.pollIntervalMs(1000, 'sd-1'), 40_000, '200 watches: one look each every 40 s');
    budget.throttled('service-read'); // the account is busier than assumed: half the share
    assert.equal(budget.pollIntervalMs(1000, 'sd-1'), 80_000);
    budget.close();
  });

  it('refuses a share outside (0, 1]', () => {
    assert.throws(() => new EcsBudget({ share: 0 }), /share must be in \(0, 1\], got 0/);
    assert.throws(() => new EcsBudget({ share: 1.5 }), /got 1.5/);
  });
});

describe('deploys through a throttling storm', () => {
  // Tiny buckets, so that a second client (the rest of the account) and Slipway contend.
  const LIMITS: Partial<Record<ThrottlingCategory, BucketLimit>> = {
    'service-read': { burst: 4, perSecond: 4 },
    'service-deployment-read': { burst: 4, perSecond: 4 },
    'task-definition-read': { burst: 4, perSecond: 4 },
    'task-definition-register': { burst: 2, perSecond: 1 },
    'service-update': { burst: 2, perSecond: 1 },
    'task-read': { burst: 4, perSecond: 4 },
  };
  const SHARE = 0.5;
  let stack: Stack;
  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 300, healthyMs: 300, drainMs: 200 },
      configure: (raw) => {
        raw.aws.ecsApiShare = SHARE;
        raw.aws.ecsApiLimits = LIMITS;
      },
    });
    await stack.world.pushTags(NEW_TAG);
  });
  after(async () => {
    stack.ecs.setThrottling(false);
    await stack?.close();
  });

  it('never fails a deploy and never uses more than the configured share of any bucket', async () => {
    const tq = freshTaskQueue('budget-storm');
    stack.ecs.setThrottling({ limits: LIMITS });
    stack.ecs.resetCalls();
    const w = await startWorker(stack, tq);
    // The rest of the account: DescribeServices as fast as ECS answers, throttled or not.
    const other = client(stack.ecs, 'AKIAOTHER', 1);
    let storming = true;
    const storm = (async () => {
      while (storming) {
        await describeWebOf(other).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    try {
      const deploys = ['api', 'frontend'].map(async (app) => {
        const handle = await startDeploy(stack.client, { app, env: 'staging', tag: NEW_TAG, actor: 'alice', reason: 'storm' }, { taskQueue: tq });
        return deployOutcome(handle);
      });
      const outcomes = await Promise.all(deploys);
      for (const o of outcomes) assert.equal(o.ok, true, JSON.stringify(o));
    } finally {
      storming = false;
      await storm;
      await w.stop();
    }
    const stats = stack.ecs.throttlingStats();
    const slipway = stats.byCaller.sandbox ?? {};
    assert.ok((stats.byCaller.AKIAOTHER?.['service-read']?.throttled ?? 0) + (slipway['service-read']?.throttled ?? 0) > 0, 'the storm throttled no one');
    for (const [category, limit] of Object.entries(LIMITS) as [ThrottlingCategory, BucketLimit][]) {
      const share = { burst: Math.max(1, Math.floor(limit.burst * SHARE)), perSecond: limit.perSecond * SHARE };
      const { most, allowed } = perSecond(stack.ecs.calls, 'sandbox', category, share);
      assert.ok(most <= allowed, `${category}: ${most} calls in one second, the share allows ${allowed}`);
    }
    assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 2);
    assert.equal(stack.ecs.mutations('UpdateService').length, 2);
  });

  function describeWebOf(c: ECSClient) {
    return c.send(new DescribeServicesCommand({ cluster: 'staging-default', services: ['staging-api'] }));
  }
});
