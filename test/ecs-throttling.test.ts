/**
 * ECS's request throttling in the sandbox: token buckets per throttling category, shared by
 * every caller of the account, answered as ECS answers them; spoken to through the real
 * @aws-sdk/client-ecs and over plain HTTP.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ListServiceDeploymentsCommand, DescribeServicesCommand, type ECSClient, RegisterTaskDefinitionCommand } from '@aws-sdk/client-ecs';
import { categoryOf, DOCUMENTED_LIMITS } from '../domain/ecs-throttling';
import type { EcsSandbox } from '../sandbox/ecs';
import { eventually } from './harness';
import { callerClient as client, startWebSandbox } from './web-sandbox';

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as Error).name;
  }
}

describe('ECS sandbox throttling', () => {
  let ecs: EcsSandbox;
  beforeEach(async () => {
    ecs = await startWebSandbox();
  });
  afterEach(async () => {
    await ecs.close();
  });

  it('maps ECS actions to their throttling categories, with the documented buckets', () => {
    assert.equal(categoryOf('DescribeServices'), 'service-read');
    assert.equal(categoryOf('ListServices'), 'service-read');
    assert.equal(categoryOf('DescribeServiceDeployments'), 'service-deployment-read');
    assert.equal(categoryOf('ListServiceDeployments'), 'service-deployment-read');
    assert.equal(categoryOf('RegisterTaskDefinition'), 'task-definition-register');
    assert.equal(categoryOf('UpdateService'), 'service-update');
    assert.equal(categoryOf('DescribeClusters'), 'cluster-read');
    assert.deepEqual(DOCUMENTED_LIMITS['service-read'], { burst: 100, perSecond: 20 });
    assert.deepEqual(DOCUMENTED_LIMITS['service-deployment-read'], { burst: 50, perSecond: 20 });
    assert.deepEqual(DOCUMENTED_LIMITS['task-definition-register'], { burst: 20, perSecond: 1 });
    assert.deepEqual(DOCUMENTED_LIMITS['service-update'], { burst: 50, perSecond: 5 });
  });

  it('is off unless enabled: a burst far above any bucket is served', async () => {
    const c = client(ecs, 'AKIAONE');
    const results = await Promise.all(Array.from({ length: 150 }, () => outcome(c.send(new DescribeServicesCommand({ cluster: 'c1', services: ['web'] })))));
    assert.deepEqual(new Set(results), new Set(['ok']));
    assert.equal(ecs.throttlingStats().enabled, false);
  });

  it('with the documented buckets, the 101st DescribeServices in a burst is throttled; other categories are not', async () => {
    ecs.setThrottling({ timeScale: 0.001 }); // refill nearly stopped: the burst alone decides
    const c = client(ecs, 'AKIAONE');
    const results = await Promise.all(Array.from({ length: 101 }, () => outcome(c.send(new DescribeServicesCommand({ cluster: 'c1', services: ['web'] })))));
    assert.equal(results.filter((r) => r === 'ok').length, 100);
    assert.equal(results.filter((r) => r === 'ThrottlingException').length, 1);
    // Service deployment reads have a bucket of their own.
    assert.equal(await outcome(c.send(new ListServiceDeploymentsCommand({ cluster: 'c1', service: 'web' }))), 'ok');
    const stats = ecs.throttlingStats();
    assert.deepEqual(stats.byCategory['service-read'], { allowed: 100, throttled: 1 });
    assert.deepEqual(stats.byCategory['service-deployment-read'], { allowed: 1, throttled: 0 });
  });

  it('answers ThrottlingException as ECS does: HTTP 400, JSON __type, "Rate exceeded"', async () => {
    ecs.setThrottling({ limits: { 'service-read': { burst: 1, perSecond: 0.001 } } });
    const c = client(ecs, 'AKIAONE');
    await c.send(new DescribeServicesCommand({ cluster: 'c1', services: ['web'] }));
    const err = await c.send(new DescribeServicesCommand({ cluster: 'c1', services: ['web'] })).then(
      () => assert.fail('expected a throttle'),
      (e: any) => e,
    );
    assert.equal(err.name, 'ThrottlingException');
    assert.equal(err.message, 'Rate exceeded');
    assert.equal(err.$metadata.httpStatusCode, 400);
    const res = await fetch(ecs.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerServiceV20141113.DescribeServices' },
      body: JSON.stringify({ cluster: 'c1', services: ['web'] }),
    });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'application/x-amz-json-1.1');
    assert.deepEqual(await res.json(), { __type: 'ThrottlingException', message: 'Rate exceeded' });
    const last = ecs.calls.at(-1)!;
    assert.equal(last.error, 'ThrottlingException');
    assert.equal(last.category, 'service-read');
  });

  it('is one bucket per account: two callers share it, and the counters say who used what', async () => {
    ecs.setThrottling({ limits: { 'task-definition-register': { burst: 4, perSecond: 0.001 } } });
    const slipway = client(ecs, 'AKIASLIPWAY');
    const other = client(ecs, 'AKIAOTHER');
    const register = (c: ECSClient, i: number) =>
      outcome(c.send(new RegisterTaskDefinitionCommand({ family: `f${i}`, containerDefinitions: [{ name: 'app', image: 'registry.example/app:1' }] })));
    assert.deepEqual(await Promise.all([0, 1, 2].map((i) => register(other, i))), ['ok', 'ok', 'ok']);
    assert.deepEqual(await Promise.all([3, 4].map((i) => register(slipway, i))).then((r) => r.sort()), ['ThrottlingException', 'ok']);
    const stats = ecs.throttlingStats();
    assert.deepEqual(stats.byCaller.AKIAOTHER['task-definition-register'], { allowed: 3, throttled: 0 });
    assert.deepEqual(stats.byCaller.AKIASLIPWAY['task-definition-register'], { allowed: 1, throttled: 1 });
    assert.equal(ecs.mutations('RegisterTaskDefinition').length, 4, 'a throttled registration has no effect');
    assert.deepEqual(new Set(ecs.calls.map((c) => c.caller)), new Set(['AKIAOTHER', 'AKIASLIPWAY']));
  });

  it('refills at the sustained rate, scaled with the simulation speed', async () => {
    ecs.setThrottling({ limits: { 'service-read': { burst: 2, perSecond: 1 } } });
    ecs.setSpeed(20); // one token every 50 ms of wall time
    const c = client(ecs, 'AKIAONE');
    const describe = () => outcome(c.send(new DescribeServicesCommand({ cluster: 'c1', services: ['web'] })));
    const first = await Promise.all([describe(), describe(), describe()]);
    assert.equal(first.filter((r) => r === 'ThrottlingException').length, 1);
    const started = Date.now();
    await eventually('a refilled token', async () => (await describe()) === 'ok', 5000, 10);
    assert.ok(Date.now() - started < 1000, 'at speed 20 a 1/s bucket refills within 50 ms, not a second');
  });

  it('refuses a bucket that could never serve a call, changing nothing', () => {
    assert.throws(() => ecs.setThrottling({ limits: { 'service-read': { burst: 0, perSecond: 1 } } }), /service-read needs burst >= 1 and perSecond > 0/);
    assert.equal(ecs.throttlingStats().enabled, false);
  });
});
