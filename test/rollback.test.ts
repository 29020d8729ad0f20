/**
 * Rollback, redeploy, verification and who may do them: a real Temporal dev server, the
 * ECS sandbox, the CNCF registry, the GitHub sandbox and the sites whose version endpoints
 * report what ECS runs.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEcsActivities, type StartedServiceDeployment } from '../activities/ecs';
import { resolveTarget } from '../domain/config';
import { deployOutcome, startDeploy, startRedeploy, startRollback } from '../client/operations';
import { OUTSIDER } from '../sandbox/world';
import { deployWorkflowId, FailureType, progressQuery, recordWorkflowId, type RedeployResult, type RollbackResult, type RollbackUnneeded } from '../contract';
import { eventually, freshTaskQueue, startStack, startWorker, type RunningWorker, type Stack } from './harness';
import { localActivityType, saveHistory } from './histories';
import { callerClient } from './web-sandbox';
import type { temporal } from '@temporalio/proto';

const A = '1'.repeat(40);
const B = '2'.repeat(40);
const C = '3'.repeat(40);
const D = '4'.repeat(40);
const MISSING = '9'.repeat(40);
/** Container name → image of the revision the service runs. */
const imagesOf = (stack: Stack, cluster: string, service: string): Record<string, string> => {
  const td = stack.ecs.service(cluster, service).taskDefinition;
  const def = stack.ecs.taskDefinitions().find((t) => t.arn === td);
  assert.ok(def, `no task definition ${td}`);
  return def.images;
};

describe('rollback, redeploy and verification', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let tq: string;
  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 200, healthyMs: 200, drainMs: 150 },
      configure: (raw) => (raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.05 }),
    });
    await stack.world.pushTags(A, B, C, D);
    tq = freshTaskQueue('rollback');
    worker = await startWorker(stack, tq);
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const deploy = async (tag: string, env = 'staging', actor = 'alice') =>
    deployOutcome(await startDeploy(stack.client, { app: 'api', env, tag, actor, reason: 'test' }, { taskQueue: tq }));

  it('verification fails when the endpoint keeps reporting the old release', async () => {
    stack.world.site.override('api-staging', { release: 'f'.repeat(40) });
    try {
      const outcome = await deploy(B);
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.type, FailureType.verificationFailed);
      assert.match(outcome.message, /not serving the new version: .*api-staging\/version still reports 'f{40}'.*expected '2{40}'/);
      assert.equal(outcome.details?.outcome, 'verification_failed');
    } finally {
      stack.world.site.clearOverrides();
    }
  });

  it('rollback without a tag goes to the last validated release, not the previous revision', async () => {
    // A validated; B deployed but never verified (above, or here again); C validated and running.
    const a = await deploy(A);
    assert.ok(a.ok);
    stack.world.site.override('api-staging', { release: 'f'.repeat(40) });
    assert.equal((await deploy(B)).ok, false);
    stack.world.site.clearOverrides();
    assert.equal((await deploy(C)).ok, true);

    stack.ecs.resetCalls();
    const handle = await startRollback(stack.client, { app: 'api', env: 'staging', actor: 'bob', reason: 'C misbehaves' }, { taskQueue: tq });
    const outcome = await deployOutcome<RollbackResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.chosen, 'last-validated');
    assert.equal(outcome.result.tag, A, 'the last validated release before C is A; B (the previous revision) was never validated');
    assert.equal(stack.world.site.release('api-staging'), A);
    assert.match(imagesOf(stack, 'staging-default', 'staging-api').django, new RegExp(`:${A}$`));
    // Exact: the service runs the very revision that was validated with A; nothing rendered or registered.
    assert.equal(outcome.result.taskDefinitionArn, a.result.taskDefinitionArn);
    assert.equal(stack.ecs.service('staging-default', 'staging-api').taskDefinition, a.result.taskDefinitionArn);
    assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 0);
    assert.equal(stack.ecs.mutations('UpdateService').length, 1);
    // Its checks, and then the deploy's, each run within one workflow task (local activities):
    // under load every trip through the server costs, and a rollback is what must not wait.
    const own = (await handle.fetchHistory()).events ?? [];
    assert.deepEqual(own.flatMap((e) => localActivityType(e) ?? []).sort(), [
      'authorize',
      'checkImageTags',
      'lastValidated',
      'lastValidated',
      'latestDeploy',
      'readDeploymentSettings',
      'readVersion',
      'resolveTarget',
    ]);
    assert.equal(tasksBefore(own, 'preemptDeploy'), 1, 'workflow tasks of the rollback before its first activity');
    const child = (await stack.client.workflow.getHandle(deployWorkflowId('api', 'staging')).fetchHistory()).events ?? [];
    assert.deepEqual(child.flatMap((e) => localActivityType(e) ?? []).sort(), ['authorize', 'checkImageTags', 'readDeploymentSettings', 'resolveTarget']);
    assert.equal(tasksBefore(child, 'updateService'), 1, "workflow tasks of the rollback's deploy before its UpdateService");
    await saveHistory(handle, 'rollback-last-validated');
    await saveHistory(stack.client.workflow.getHandle(recordWorkflowId('api', 'staging')), 'release-record-running');
  });

  it("rollback --rerender renders and registers today's template for the last validated release", async () => {
    assert.equal((await deploy(C)).ok, true);
    stack.ecs.resetCalls();
    const handle = await startRollback(stack.client, { app: 'api', env: 'staging', actor: 'bob', rerender: true }, { taskQueue: tq });
    const outcome = await deployOutcome<RollbackResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.tag, A);
    assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 1);
    assert.equal(stack.ecs.service('staging-default', 'staging-api').taskDefinition, outcome.result.taskDefinitionArn);
  });

  it('a rollback right after ECS rolled a deploy back answers that the last validated release runs already, and changes nothing', async () => {
    const a = await deployOutcome(await startDeploy(stack.client, { app: 'frontend', env: 'staging', tag: A, actor: 'alice' }, { taskQueue: tq }));
    assert.ok(a.ok, JSON.stringify(a));
    stack.ecs.failImage(`openverse-frontend:${D}`, { reason: 'CannotStartContainerError: nuxt exited' });
    try {
      const d = await deployOutcome(await startDeploy(stack.client, { app: 'frontend', env: 'staging', tag: D, actor: 'alice' }, { taskQueue: tq }));
      assert.equal(d.ok, false);
      if (!d.ok) assert.equal(d.type, FailureType.rolledBack);
    } finally {
      stack.ecs.clearFailures();
    }
    assert.equal(stack.world.site.release('frontend-staging'), A, 'ECS rolled back to A');

    stack.ecs.resetCalls();
    const handle = await startRollback(stack.client, { app: 'frontend', env: 'staging', actor: 'bob', reason: 'D broke the site' }, { taskQueue: tq });
    const outcome = await deployOutcome<RollbackUnneeded>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    const r = outcome.result;
    assert.equal(r.outcome, 'already_running');
    assert.equal(r.tag, A);
    assert.equal(r.taskDefinitionArn, a.ok ? a.result.taskDefinitionArn : '');
    assert.match(
      r.message,
      new RegExp(`^staging already runs the last validated release ${A} \\(since \\d{4}-\\d\\d-\\d\\dT[^)]+\\): the deploy of 4444444 after it ended rolled back by ecs`),
    );
    assert.equal(r.after?.tag, D);
    assert.deepEqual(stack.ecs.mutations(), [], 'nothing registered or updated');
    const deploys = await stack.client.workflow.getHandle(deployWorkflowId('frontend', 'staging')).describe();
    assert.equal(deploys.runId, r.after?.runId, 'no deploy was started');
    await saveHistory(handle, 'rollback-already-running');
  });

  it('rollback to an explicit tag', async () => {
    const handle = await startRollback(stack.client, { app: 'api', env: 'staging', tag: C, actor: 'alice' }, { taskQueue: tq });
    const outcome = await deployOutcome<RollbackResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.chosen, 'explicit');
    assert.equal(stack.world.site.release('api-staging'), C);
  });

  it('rollback preempts a deploy in flight, which records why', async () => {
    stack.ecs.setSpeed(0.05);
    const inflight = await startDeploy(stack.client, { app: 'api', env: 'production', tag: D, actor: 'alice' }, { taskQueue: tq });
    await eventually('the deploy to wait on ECS', async () => (await inflight.query(progressQuery).catch(() => undefined))?.phase === 'waiting');
    stack.ecs.setSpeed(1);
    const handle = await startRollback(stack.client, { app: 'api', env: 'production', tag: A, actor: 'bob', reason: 'bad release' }, { taskQueue: tq });
    const outcome = await deployOutcome<RollbackResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.preempted?.runId, inflight.firstExecutionRunId);
    assert.equal(outcome.result.how, 'rendered', 'an explicit tag is rendered and registered, not left to ECS');
    const cancelled = await stack.client.workflow.getHandle(deployWorkflowId('api', 'production'), inflight.firstExecutionRunId).describe();
    assert.equal(cancelled.status.name, 'CANCELLED');
    const progress = await stack.client.workflow.getHandle(deployWorkflowId('api', 'production'), inflight.firstExecutionRunId).query(progressQuery);
    assert.equal(progress.phase, 'cancelled');
    assert.ok(
      progress.log.some((l) => /preempted by rollback\/api\/production \(@bob: bad release\)/.test(l)),
      progress.log.join('\n'),
    );
    assert.equal(stack.world.site.release('api-production'), A);
  });

  it('a rollback while a deploy is in flight lets ECS roll it back when that returns the service to the last validated release', async () => {
    // production runs A, validated by the rollback above.
    const validated = stack.ecs.service('production-default', 'production-api').taskDefinition;
    stack.ecs.setSpeed(0.05);
    const inflight = await startDeploy(stack.client, { app: 'api', env: 'production', tag: B, actor: 'alice' }, { taskQueue: tq });
    await eventually('the deploy to wait on ECS', async () => (await inflight.query(progressQuery).catch(() => undefined))?.phase === 'waiting');
    stack.ecs.setSpeed(1);
    stack.ecs.resetCalls();
    const handle = await startRollback(stack.client, { app: 'api', env: 'production', actor: 'bob', reason: 'B is wrong' }, { taskQueue: tq });
    const outcome = await deployOutcome<RollbackResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    const r = outcome.result;
    assert.equal(r.how, 'stopped-and-rolled-back');
    assert.equal(r.tag, A);
    assert.equal(r.taskDefinitionArn, validated);
    assert.equal(r.preempted?.runId, inflight.firstExecutionRunId);
    assert.equal(r.preempted?.stoppedEcsDeployment, 'ROLLBACK');
    assert.equal(r.verified?.release, A);
    assert.deepEqual(
      stack.ecs.mutations().map((m) => m.op),
      ['StopServiceDeployment'],
      'ECS rolled back: nothing registered, no UpdateService',
    );
    assert.equal(stack.ecs.service('production-default', 'production-api').taskDefinition, validated);
    assert.equal(stack.world.site.release('api-production'), A);
    const desc = await handle.describe();
    assert.equal(desc.typedSearchAttributes.get({ name: 'Outcome', type: 'KEYWORD' } as any), 'succeeded');
    await saveHistory(handle, 'rollback-stopped-in-flight');
  });

  it('a non-maintainer is refused, and nothing is changed', async () => {
    stack.ecs.resetCalls();
    stack.world.github.resetRequests();
    const handle = await startRollback(stack.client, { app: 'api', env: 'staging', tag: A, actor: OUTSIDER }, { taskQueue: tq });
    const outcome = await deployOutcome(handle);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.type, FailureType.unauthorized);
    assert.match(outcome.message, /@mallory may not rollback api staging: only members of WordPress\/openverse-maintainers/);
    assert.deepEqual(stack.ecs.mutations(), []);
    assert.deepEqual(stack.world.github.mutations(), []);
    // A production deploy by a non-maintainer is refused the same way; staging is open to all.
    const prod = await deploy(A, 'production', OUTSIDER);
    assert.equal(prod.ok, false);
    if (!prod.ok) assert.equal(prod.type, FailureType.unauthorized);
    assert.deepEqual(stack.ecs.mutations(), []);
    await saveHistory(handle, 'rollback-unauthorized');
  });

  it('a nonexistent tag is refused before any ECS call', async () => {
    stack.ecs.resetCalls();
    const outcome = await deployOutcome(await startRollback(stack.client, { app: 'api', env: 'staging', tag: MISSING, actor: 'alice' }, { taskQueue: tq }));
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.type, FailureType.notFound);
    assert.match(outcome.message, /'9{40}' does not appear to be a valid tag for the openverse-api image\./);
    assert.match(outcome.message, /openverse-api_nginx image\./);
    // No call about staging. (A production watch of an earlier test may still be polling
    // until its next heartbeat tells it that its deploy ended.)
    assert.deepEqual(
      stack.ecs.calls.filter((c) => JSON.stringify(c.input).includes('staging-default')).map((c) => c.op),
      [],
    );
  });

  it('redeploy deploys what the environment reports as a fresh revision from the current template', async () => {
    const running = stack.world.site.release('api-staging');
    const before = stack.ecs.service('staging-default', 'staging-api').taskDefinition;
    stack.ecs.resetCalls();
    const handle = await startRedeploy(stack.client, { app: 'api', env: 'staging', actor: 'alice', reason: 'new env var' }, { taskQueue: tq });
    const outcome = await deployOutcome<RedeployResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.tag, running);
    assert.notEqual(outcome.result.taskDefinitionArn, before, 'a new revision');
    assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 1);
    assert.equal(stack.world.site.release('api-staging'), running);
    await saveHistory(handle, 'redeploy');
  });

  it('a retried UpdateService back to a revision that ran before starts its own deployment, and a later retry finds that one', async () => {
    // api staging runs B after A: ECS lists A's service deployment from before.
    const a = await deploy(A);
    const b = await deploy(B);
    assert.ok(a.ok && b.ok, JSON.stringify([a, b]));
    if (!a.ok || !b.ok) return;
    const target = resolveTarget(stack.config(), 'api', 'staging');
    const ecs = callerClient(stack.ecs, 'AKIATEST', 3);
    const acts = createEcsActivities({ ecs: () => ecs });
    const scheduledTimestampMs = Date.now();
    stack.ecs.resetCalls();
    try {
      // The first attempt failed before reaching ECS; the second must point the service at A again.
      const started: StartedServiceDeployment = await new MockActivityEnvironment({ attempt: 2, scheduledTimestampMs }).run(acts.updateService, {
        target,
        taskDefinitionArn: a.result.taskDefinitionArn,
      });
      assert.equal(started.reused, false, "A's deployment from before was taken for this attempt's");
      assert.notEqual(started.serviceDeploymentArn, a.result.serviceDeploymentArn);
      assert.equal(stack.ecs.mutations('UpdateService').length, 1);
      assert.equal(stack.ecs.service(target.cluster, target.service).taskDefinition, a.result.taskDefinitionArn);
      // Its answer lost, the third attempt finds that deployment: no second UpdateService.
      const again: StartedServiceDeployment = await new MockActivityEnvironment({ attempt: 3, scheduledTimestampMs }).run(acts.updateService, {
        target,
        taskDefinitionArn: a.result.taskDefinitionArn,
      });
      assert.equal(again.reused, true);
      assert.equal(again.serviceDeploymentArn, started.serviceDeploymentArn);
      assert.equal(stack.ecs.mutations('UpdateService').length, 1);
    } finally {
      ecs.destroy();
    }
  });
});

/** Workflow tasks completed in `events` before the activity `type` was first scheduled. */
function tasksBefore(events: temporal.api.history.v1.IHistoryEvent[], type: string): number {
  const at = events.findIndex((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === type);
  assert.ok(at > 0, `${type} was scheduled`);
  return events.slice(0, at).filter((e) => e.workflowTaskCompletedEventAttributes).length;
}
