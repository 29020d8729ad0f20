/**
 * Deploys to services configured for ECS's own strategies (BLUE_GREEN, LINEAR, alarms), on
 * a real Temporal dev server and the ECS sandbox. Configured minutes are scaled by the
 * sandbox timing (one minute = 300 ms), so a 20-minute bake takes 6 s.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type DeploymentConfiguration, DescribeServiceDeploymentsCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { deployOutcome, startDeploy } from '../client/operations';
import { approveUpdate, FailureType, progressQuery, rejectSignal } from '../contract';
import { saveHistory } from './histories';
import { NEW_TAG, eventually, freshTaskQueue, startStack, startWorker, type Stack } from './harness';

const CLUSTER = 'staging-default';
const SERVICE = 'staging-api';
const ROLLING: DeploymentConfiguration = { strategy: 'ROLLING', lifecycleHooks: [], alarms: { alarmNames: [], enable: false, rollback: false } };
/** Blue/green that holds the new revision on test traffic until ContinueServiceDeployment answers (3 min real at 300 ms a minute). */
const PAUSED: DeploymentConfiguration = {
  strategy: 'BLUE_GREEN',
  bakeTimeInMinutes: 1,
  lifecycleHooks: [{ targetType: 'PAUSE', lifecycleStages: ['POST_TEST_TRAFFIC_SHIFT'], timeoutConfiguration: { timeoutInMinutes: 600, action: 'ROLLBACK' } }],
};

describe('deploy with ECS deployment strategies', () => {
  let stack: Stack;
  let ecs: ECSClient;
  const tags = ['1'.repeat(40), '2'.repeat(40), '3'.repeat(40), '4'.repeat(40), '5'.repeat(40), '6'.repeat(40)];
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

  /** The staging API's test route, and the checks run there; a short verification budget. */
  const gateConfig = (extra: Record<string, unknown> = {}) =>
    stack.setConfig((raw) => {
      raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.05 };
      raw.apps.api.environments.staging.testTraffic = { versionEndpoint: `${stack.world.site.testUrl}/api-staging/version`, deadlineMinutes: 2, ...extra };
    });
  const versionAt = async (base: string) => ((await (await fetch(`${base}/api-staging/version`)).json()) as { release: string }).release;

  it('a PAUSE hook on test traffic is the gate: the test route reports the tag, a person approves the exact tag, then CONTINUE', async () => {
    await configure(PAUSED);
    gateConfig({ approval: true });
    const before = await versionAt(stack.world.site.url);
    const { outcome, progress, handle } = await run('gate-pass', tags[4], async (h) => {
      await eventually('the gate to await approval', async () => (await h.query(progressQuery)).gate?.state === 'awaiting_approval');
      // Held on test traffic: the test listener serves the new revision, production the old one.
      assert.equal(await versionAt(stack.world.site.testUrl), tags[4]);
      assert.equal(await versionAt(stack.world.site.url), before);
      await assert.rejects(h.executeUpdate(approveUpdate, { args: [{ tag: tags[3], approver: 'alice' }] }), (err: unknown) => {
        assert.ok(err instanceof WorkflowUpdateFailedError);
        assert.match(String((err.cause as Error)?.message), /'4{40}' is not on test traffic: the revision awaiting approval runs 5{40}/);
        return true;
      });
      const record = await h.executeUpdate(approveUpdate, { args: [{ tag: tags[4], approver: 'alice', reason: 'looks right' }] });
      assert.equal(record.approver, 'alice');
    });
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    assert.equal(progress.gate?.state, 'passed');
    assert.equal(progress.gate?.answered, 'CONTINUE');
    const log = progress.log.join('\n');
    assert.match(log, /test route http:\/\/127\.0\.0\.1:\d+\/api-staging\/version reports '5555555'/);
    assert.match(log, /approved 5555555 on test traffic: @alice/);
    assert.match(log, /answered the PAUSE hook with CONTINUE/);
    assert.ok(log.indexOf('answered the PAUSE hook') < log.indexOf('production traffic shifted at'), 'production traffic moved only after the gate');
    assert.equal(await versionAt(stack.world.site.url), tags[4]);
    await saveHistory(handle, 'deploy-test-gate');
  });

  it('a revision that fails its checks on test traffic is rolled back by the hook: production traffic never moves to it', async () => {
    await configure(PAUSED);
    gateConfig();
    const before = stack.ecs.service(CLUSTER, SERVICE).taskDefinition;
    // The new revision answers with a stale release behind the test listener.
    stack.world.site.override('api-staging', { release: 'f'.repeat(40), listener: 'test' });
    try {
      const { outcome } = await run('gate-fail', tags[5]);
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.type, FailureType.rolledBack);
      assert.match(
        outcome.message,
        /^rolled back at the test traffic gate: the test route .*api-staging\/version still reports 'f{40}'.*Slipway answered ECS's PAUSE hook with ROLLBACK, so production traffic never moved to 6666666/,
      );
      assert.match(outcome.details?.testGateFailed ?? '', /still reports 'f{40}'/);
      const arn = outcome.details?.serviceDeploymentArn;
      assert.ok(arn);
      // ECS's own account of it, over its API: the hook was answered ROLLBACK and the deployment rolled back.
      const sd = (await ecs.send(new DescribeServiceDeploymentsCommand({ serviceDeploymentArns: [arn] }))).serviceDeployments?.[0];
      assert.equal(sd?.status, 'ROLLBACK_SUCCESSFUL');
      assert.deepEqual(
        sd?.lifecycleHookDetails?.map((h) => [h.targetType, h.status]),
        [['PAUSE', 'FAILED']],
      );
      const state = stack.ecs.service(CLUSTER, SERVICE).serviceDeployments.find((d) => d.arn === arn);
      assert.equal(state?.productionTrafficPeak, 0, 'production traffic never moved to the revision');
      assert.equal(stack.ecs.service(CLUSTER, SERVICE).taskDefinition, before);
    } finally {
      stack.world.site.clearOverrides();
    }
  });

  it('a person who rejects the tag on test traffic (Signal) rolls it back at the hook; an outsider cannot decide', async () => {
    await configure(PAUSED);
    gateConfig({ approval: true });
    const before = stack.ecs.service(CLUSTER, SERVICE).taskDefinition;
    const { outcome, progress } = await run('gate-reject', tags[1], async (h) => {
      await eventually('the gate to await approval', async () => (await h.query(progressQuery)).gate?.state === 'awaiting_approval');
      await h.signal(rejectSignal, { tag: tags[1], approver: 'mallory', reason: 'not mine to judge' });
      await eventually('the outsider refused', async () => (await h.query(progressQuery)).gate?.approvals.some((a) => a.approver === 'mallory' && a.refused));
      await h.signal(rejectSignal, { tag: tags[1], approver: 'bob', reason: 'wrong colours' });
    });
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.type, FailureType.rolledBack);
    assert.match(outcome.message, /^rolled back at the test traffic gate: rejected by @bob: wrong colours; Slipway answered ECS's PAUSE hook with ROLLBACK/);
    assert.equal(progress.gate?.answered, 'ROLLBACK');
    assert.match(progress.gate?.approvals.find((a) => a.approver === 'mallory')?.refused ?? '', /mallory/);
    const state = stack.ecs.service(CLUSTER, SERVICE).serviceDeployments.find((d) => d.arn === outcome.details?.serviceDeploymentArn);
    assert.equal(state?.productionTrafficPeak, 0, 'production traffic never moved to the rejected revision');
    assert.equal(stack.ecs.service(CLUSTER, SERVICE).taskDefinition, before);
  });

  it("with playwright: true the app's Playwright suite runs against the test route, which shows the new release", async () => {
    const nuxt = (c: DeploymentConfiguration) => ecs.send(new UpdateServiceCommand({ cluster: CLUSTER, service: 'staging-nuxt', deploymentConfiguration: c }));
    await nuxt(PAUSED);
    stack.setConfig((raw) => {
      raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.05 };
      raw.apps.frontend.pipeline.gate.playwright.retries = 0;
      raw.apps.frontend.environments.staging.testTraffic = {
        versionEndpoint: `${stack.world.site.testUrl}/frontend-staging/version.json`,
        url: `${stack.world.site.testUrl}/frontend-staging`,
        playwright: true,
      };
    });
    const tq = freshTaskQueue('gate-playwright');
    const w = await startWorker(stack, tq);
    try {
      const handle = await startDeploy(stack.client, { app: 'frontend', env: 'staging', tag: tags[3], actor: 'alice' }, { taskQueue: tq });
      const outcome = await deployOutcome(handle);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      const progress = await handle.query(progressQuery);
      const log = progress.log.join('\n');
      assert.match(log, /running the Playwright suite against the test route http:\/\/127\.0\.0\.1:\d+\/frontend-staging/);
      assert.match(log, /Playwright on the test route: [1-9]\d* passed, 0 failed/);
      assert.ok(log.indexOf('Playwright on the test route') < log.indexOf('production traffic shifted at'), 'the suite ran before production traffic moved');
      assert.equal(progress.gate?.answered, 'CONTINUE');
      // The suite checked the page behind the test listener showed the new release (EXPECTED_RELEASE).
      assert.ok(
        stack.world.site.requests.some((r) => r.listener === 'test' && r.prefix === 'frontend-staging' && /^\/frontend-staging\/?$/.test(r.path)),
        'the home page was read through the test listener',
      );
    } finally {
      await w.stop();
      await nuxt(ROLLING);
    }
  });

  it("ECS's early success criteria are honoured: success once the share ECS waits for is healthy, with ECS's statusReason", async () => {
    const desired = stack.ecs.service(CLUSTER, SERVICE).desiredCount;
    // Two tasks replaced one at a time (no surge, half may be down); success at 50% healthy, old tasks drained after.
    await configure(
      { ...ROLLING, maximumPercent: 100, minimumHealthyPercent: 50, earlySuccessCriteria: { enable: true, healthyPercent: 50, sourceServiceRevisionCleanup: 'DEFERRED' } },
      2,
    );
    await eventually('two tasks running', async () => {
      const svc = stack.ecs.service(CLUSTER, SERVICE);
      return svc.steady && svc.runningCount === 2;
    });
    stack.ecs.setSpeed(0.05);
    try {
      const { outcome, progress } = await run('early', tags[2]);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      if (!outcome.ok) return;
      assert.match(progress.strategy ?? '', /early success at 50% healthy \(deferred cleanup\)/);
      assert.match(progress.log.join('\n'), /ECS deployment successful: Service deployment met its early success criteria: 1 of 2 tasks healthy/);
      assert.equal(outcome.result.counts.desired, 2);
      assert.ok(
        outcome.result.counts.running >= 1 && outcome.result.counts.running < 2,
        `succeeded before the second task ran: ${JSON.stringify(outcome.result.counts)}\n${progress.log.join('\n')}`,
      );
    } finally {
      stack.ecs.setSpeed(1);
      await configure({ ...ROLLING, maximumPercent: 200, minimumHealthyPercent: 100, earlySuccessCriteria: { enable: false } }, desired);
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
