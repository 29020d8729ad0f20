/**
 * Deploys to services configured for ECS's own strategies (BLUE_GREEN, LINEAR, alarms), on
 * a real Temporal dev server and the ECS sandbox. Configured minutes are scaled by the
 * sandbox timing (one minute = 300 ms), so a 20-minute bake takes 6 s.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type DeploymentConfiguration, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { deployOutcome, startDeploy } from '../client/operations';
import { FailureType, progressQuery } from '../contract';
import { NEW_TAG, eventually, freshTaskQueue, startStack, startWorker, type Stack } from './harness';

const CLUSTER = 'staging-default';
const SERVICE = 'staging-api';
const ROLLING: DeploymentConfiguration = { strategy: 'ROLLING', lifecycleHooks: [], alarms: { alarmNames: [], enable: false, rollback: false } };

describe('deploy with ECS deployment strategies', () => {
  let stack: Stack;
  let ecs: ECSClient;
  const tags = ['1'.repeat(40), '2'.repeat(40), '3'.repeat(40), '4'.repeat(40)];
  before(async () => {
    stack = await startStack({ timing: { taskStartMs: 200, healthyMs: 200, drainMs: 100, minuteMs: 300, hookMs: 100 } });
    await stack.world.pushTags(NEW_TAG, ...tags);
    ecs = new ECSClient({ endpoint: stack.ecs.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  afterEach(async () => {
    stack.resetConfig();
    await configure(ROLLING);
  });
  after(async () => {
    ecs?.destroy();
    await stack?.close();
  });

  /** Changes the staging API service's deploymentConfiguration the way an operator would. */
  async function configure(config: DeploymentConfiguration, desiredCount?: number) {
    await ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: SERVICE, deploymentConfiguration: config, ...(desiredCount !== undefined ? { desiredCount } : {}) }));
  }

  async function run(name: string, tag: string, during?: (handle: Awaited<ReturnType<typeof startDeploy>>) => Promise<void>) {
    const tq = freshTaskQueue(name);
    const w = await startWorker(stack, tq);
    try {
      const handle = await startDeploy(stack.client, { app: 'api', env: 'staging', tag, actor: 'alice', reason: 'test' }, { taskQueue: tq });
      await during?.(handle);
      const outcome = await deployOutcome(handle);
      return { handle, outcome, progress: await handle.query(progressQuery) };
    } finally {
      await w.stop();
    }
  }

  it('blue/green with a 20-minute bake succeeds: the bake is part of the budget, stages and milestones are reported', async () => {
    await configure({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 20 });
    // A 3 s rollout allowance: without the bake time in the budget this deploy would time out.
    stack.setConfig((raw) => {
      raw.apps.api.environments.staging.budgetMinutes = 0.05;
    });
    const { outcome, progress } = await run('bg-bake', tags[0]);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.deepEqual(progress.budget, { seconds: 1203, breakdown: '20 min 3 s: rollout 3 s + bake time 20 min' });
    assert.match(progress.strategy ?? '', /^BLUE_GREEN, bake 20 min/);
    // Quick stages can pass between two looks; the long ones are always seen, in order.
    const stages = progress.entries.flatMap((e) => (e.code === 'ecs.stage' ? [e.data.stage] : []));
    assert.ok(stages.indexOf('SCALE_UP') >= 0 && stages.indexOf('SCALE_UP') < stages.indexOf('BAKE_TIME'), stages.join(','));
    const shifted = progress.entries.find((e) => e.code === 'ecs.traffic-shifted');
    assert.ok(shifted?.code === 'ecs.traffic-shifted' && shifted.data.at === progress.trafficShiftedAt, JSON.stringify(shifted));
    assert.ok(progress.log.includes(`production traffic shifted at ${progress.trafficShiftedAt}`), progress.log.join('\n'));
    assert.deepEqual(progress.traffic, { production: 100, test: 100 });
  });

  it('linear reports each production traffic step', async () => {
    await configure({ strategy: 'LINEAR', linearConfiguration: { stepPercent: 25, stepBakeTimeInMinutes: 3 } });
    const { outcome, progress } = await run('linear', tags[1]);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    const steps = progress.entries.flatMap((e) => (e.code === 'ecs.traffic' ? [e.data.production] : []));
    assert.deepEqual(steps, [0, 25, 50, 75, 100]);
    assert.match(progress.budget?.breakdown ?? '', /4 linear steps 12 min/);
  });

  it('an alarm rollback is its own outcome, naming the alarm', async () => {
    await configure({ strategy: 'BLUE_GREEN', bakeTimeInMinutes: 200, alarms: { alarmNames: ['api-5xx', 'api-latency'], enable: true, rollback: true } });
    const before = stack.ecs.service(CLUSTER, SERVICE).taskDefinition;
    try {
      const { outcome } = await run('alarm', tags[2], async (handle) => {
        await eventually('the bake time', async () => (await handle.query(progressQuery)).lifecycleStage === 'BAKE_TIME');
        stack.ecs.setAlarm('api-5xx', true);
      });
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.type, FailureType.alarmRollback);
      assert.match(outcome.message, /rolled back by ECS: CloudWatch alarm api-5xx in ALARM/);
      assert.equal(outcome.details?.outcome, 'rolled_back_by_alarm');
      assert.deepEqual(outcome.details?.triggeredAlarmNames, ['api-5xx']);
      assert.equal(stack.ecs.service(CLUSTER, SERVICE).taskDefinition, before);
    } finally {
      stack.ecs.setAlarm('api-5xx', false);
    }
  });

  it('a service at desiredCount 0 is refused before anything is registered or updated', async () => {
    const desired = stack.ecs.service(CLUSTER, SERVICE).desiredCount;
    await configure(ROLLING, 0);
    try {
      stack.ecs.resetCalls();
      const { outcome } = await run('zero', tags[3]);
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.type, FailureType.badInput);
      assert.match(outcome.message, /desiredCount 0.*scale the service up first/);
      assert.deepEqual(stack.ecs.mutations(), []);
    } finally {
      await configure(ROLLING, desired);
    }
  });
});
