/**
 * The deploy workflow end to end: a real Temporal dev server, the ECS sandbox spoken to
 * through the real AWS SDK, the shipped Openverse config.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deployOutcome, startDeploy } from '../client/operations';
import { FailureType, type DeployProgress, progressQuery } from '../contract';
import { progressText } from '../domain/progress-text';
import { INITIAL_TAG, NEW_TAG, eventually, freshTaskQueue, spawnWorkerProcess, startStack, startWorker, type Stack } from './harness';
import { saveHistory } from './histories';

const ACTOR = 'alice';

describe('deploy', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ timing: { taskStartMs: 300, healthyMs: 300, drainMs: 200 } });
    await stack.world.pushTags(NEW_TAG, 'b'.repeat(40), 'c'.repeat(40));
  });
  after(async () => {
    await stack?.close();
  });

  async function runDeploy(taskQueue: string, input: { app?: string; env?: string; tag?: string; budgetSeconds?: number }) {
    const handle = await startDeploy(
      stack.client,
      { app: input.app ?? 'api', env: input.env ?? 'staging', tag: input.tag ?? NEW_TAG, actor: ACTOR, reason: 'test', budgetSeconds: input.budgetSeconds },
      { taskQueue },
    );
    return { handle, outcome: await deployOutcome(handle) };
  }

  it('succeeds end to end: the service runs the new revision, registered exactly once', async () => {
    const tq = freshTaskQueue('deploy-ok');
    const w = await startWorker(stack, tq);
    try {
      stack.ecs.resetCalls();
      const { handle, outcome } = await runDeploy(tq, {});
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      if (!outcome.ok) return;
      const svc = stack.ecs.service('staging-default', 'staging-api');
      assert.equal(svc.taskDefinition, outcome.result.taskDefinitionArn);
      assert.match(outcome.result.taskDefinitionArn, /task-definition\/staging-api:2$/);
      assert.ok(outcome.result.counts.running >= outcome.result.counts.desired && outcome.result.counts.desired > 0);
      assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 1);
      assert.equal(stack.ecs.mutations('UpdateService').length, 1);
      const registered = stack.ecs.mutations('RegisterTaskDefinition')[0].input as any;
      const images = registered.containerDefinitions.map((c: any) => `${c.name}=${c.image}`).sort();
      const host = stack.world.registry.host;
      assert.deepEqual(images, [`django=${host}/wordpress/openverse-api:${NEW_TAG}`, `nginx=${host}/wordpress/openverse-api_nginx:${NEW_TAG}`]);
      assert.deepEqual(outcome.result.verified, { url: stack.config().apps.api.environments.staging.versionEndpoint, release: NEW_TAG });
      assert.equal(registered.family, 'staging-api');

      const progress = await handle.query(progressQuery);
      assert.equal(progress.phase, 'succeeded');
      assert.ok(
        progress.events.some((e) => /steady state|deployment completed/.test(e)),
        progress.events.join('\n'),
      );
      // Progress reports changes, not ticks: no line repeats its predecessor.
      for (let i = 1; i < progress.log.length; i++) assert.notEqual(progress.log[i], progress.log[i - 1]);
      // Typed events in order, each with its data; the words are those events rendered.
      const codes = progress.entries.map((e) => e.code);
      const order = [
        'operation.requested',
        'images.found',
        'revision.rendering',
        'revision.registered',
        'service.updating',
        'ecs.waiting',
        'ecs.status',
        'verify.checking',
        'verify.reported',
        'deploy.succeeded',
      ];
      assert.deepEqual(
        codes.filter((c) => order.includes(c) && c !== 'ecs.status'),
        order.filter((c) => c !== 'ecs.status'),
        codes.join(' '),
      );
      assert.equal(progress.entryCount, progress.entries.length);
      const registeredEvent = progress.entries.find((e) => e.code === 'revision.registered');
      assert.ok(registeredEvent?.code === 'revision.registered', codes.join(' '));
      assert.deepEqual(
        { ...registeredEvent.data, images: [...registeredEvent.data.images].sort() },
        { revision: 'staging-api:2', reused: false, images: [`${host}/wordpress/openverse-api:${NEW_TAG}`, `${host}/wordpress/openverse-api_nginx:${NEW_TAG}`] },
      );
      assert.deepEqual(progress.log, progress.entries.map(progressText));
      assert.ok(
        progress.entries.every((e) => e.level === 'info' && !Number.isNaN(Date.parse(e.at))),
        JSON.stringify(progress.entries),
      );

      const desc = await handle.describe();
      assert.equal(desc.typedSearchAttributes.get({ name: 'Outcome', type: 'KEYWORD' } as any), 'succeeded');
      await saveHistory(handle, 'deploy-succeeded');
    } finally {
      await w.stop();
    }
  });

  it('an image failing its health check ends "rolled back by ECS", naming the stopped-task reason', async () => {
    const tq = freshTaskQueue('deploy-rollback');
    const w = await startWorker(stack, tq);
    const badTag = 'b'.repeat(40);
    try {
      const before = stack.ecs.service('staging-default', 'staging-nuxt').taskDefinition;
      stack.ecs.failImage(`openverse-frontend:${badTag}`, { reason: 'CannotStartContainerError: nuxt exited' });
      stack.ecs.resetCalls();
      const { handle, outcome } = await runDeploy(tq, { app: 'frontend', tag: badTag });
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.type, FailureType.rolledBack);
      assert.match(outcome.message, /rolled back by ECS/);
      assert.match(outcome.message, /nuxt exited|health check/i);
      assert.equal(outcome.details?.outcome, 'rolled_back_by_ecs');
      assert.ok(outcome.details && outcome.details.reasons.length > 0);
      const svc = stack.ecs.service('staging-default', 'staging-nuxt');
      assert.equal(svc.taskDefinition, before, 'service is back on the previous revision');
      assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 1, 'the rollback registered nothing');
      const desc = await handle.describe();
      assert.equal(desc.status.name, 'FAILED');
      assert.equal(desc.typedSearchAttributes.get({ name: 'Outcome', type: 'KEYWORD' } as any), 'rolled_back_by_ecs');
      // The ending and the stopped tasks are typed events a machine can branch on.
      const { entries } = await handle.query(progressQuery);
      const ended = entries.at(-1);
      assert.equal(ended?.code, 'operation.ended');
      assert.equal(ended?.level, 'error');
      assert.deepEqual(ended?.code === 'operation.ended' && ended.data, { outcome: 'rolled_back_by_ecs', message: outcome.message });
      const stopped = entries.filter((e) => e.code === 'ecs.task-stopped');
      assert.ok(stopped.length > 0 && stopped.every((e) => e.level === 'warn' && /nuxt exited|health check/i.test(e.data.reason)), JSON.stringify(stopped));
      await saveHistory(handle, 'deploy-rolled-back');
    } finally {
      stack.ecs.clearFailures();
      await w.stop();
    }
  });

  it('a rollout slower than the budget ends in a typed timeout', async () => {
    const tq = freshTaskQueue('deploy-timeout');
    const w = await startWorker(stack, tq);
    try {
      stack.ecs.setSpeed(0.01);
      stack.ecs.resetCalls();
      const { outcome } = await runDeploy(tq, { env: 'production', budgetSeconds: 3 });
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.type, FailureType.timedOut);
      assert.match(outcome.message, /timed out.*3 s/);
      assert.equal(outcome.details?.outcome, 'timed_out');
      // When Slipway stops, ECS stops: the deployment it started is rolled back, not left running.
      assert.match(outcome.message, /Slipway stopped the ECS deployment \(ROLLBACK/);
      assert.equal(outcome.details?.stoppedEcsDeployment, 'ROLLBACK');
      const stops = stack.ecs.mutations('StopServiceDeployment');
      assert.equal(stops.length, 1);
      assert.equal(stops[0].input.serviceDeploymentArn, outcome.details?.serviceDeploymentArn);
      assert.equal(stops[0].input.stopType, 'ROLLBACK');
      const sd = stack.ecs.service('production-default', 'production-api').serviceDeployments.find((d) => d.arn === outcome.details?.serviceDeploymentArn);
      assert.match(sd?.status ?? '', /^ROLLBACK_/);
    } finally {
      stack.ecs.setSpeed(1);
      await w.stop();
    }
  });

  describe('refuses bad input with a clear error and no mutating call', () => {
    const cases: { name: string; input?: { app?: string; env?: string; tag?: string }; config?: (raw: any) => void; type: string; message: RegExp }[] = [
      { name: 'unknown app', input: { app: 'catalog' }, type: 'BadInput', message: /unknown app "catalog".*api, frontend/ },
      { name: 'unknown env', input: { env: 'prod' }, type: 'BadInput', message: /prod.*staging.*production/is },
      { name: 'malformed tag', input: { tag: 'v1 && rm -rf /' }, type: 'BadInput', message: /not a valid image tag/ },
      { name: 'tag with a path segment', input: { tag: '../latest' }, type: 'BadInput', message: /not a valid image tag/ },
      { name: 'release-only app', input: { app: 'ingestion_server' }, type: 'BadInput', message: /release-only/i },
      {
        name: 'missing template',
        config: (raw) => (raw.apps.api.environments.staging.templateFamily = 'staging-api-v2-template'),
        type: 'NotFound',
        message: /staging-api-v2-template.*not found/,
      },
      {
        name: 'template without a configured container',
        config: (raw) => (raw.apps.api.environments.staging.containers.celery = 'api'),
        type: 'BadInput',
        message: /staging-api-template has no container "celery".*nginx, django/,
      },
    ];
    for (const c of cases) {
      it(c.name, async () => {
        const tq = freshTaskQueue(`refuse-${c.name}`);
        if (c.config) stack.setConfig(c.config);
        const w = await startWorker(stack, tq);
        try {
          stack.ecs.resetCalls();
          const { handle, outcome } = await runDeploy(tq, c.input ?? {});
          assert.equal(outcome.ok, false);
          if (outcome.ok) return;
          assert.equal(outcome.type, c.type, outcome.message);
          assert.match(outcome.message, c.message);
          assert.deepEqual(
            stack.ecs.mutations().map((m: { op: string }) => m.op),
            [],
          );
          const desc = await handle.describe();
          assert.equal(desc.typedSearchAttributes.get({ name: 'Outcome', type: 'KEYWORD' } as any), 'refused');
          if (c.name === 'unknown app') await saveHistory(handle, 'deploy-refused');
        } finally {
          stack.resetConfig();
          await w.stop();
        }
      });
    }
  });

  it('a second deploy of the same service is refused, naming what runs', async () => {
    const tq = freshTaskQueue('deploy-lock');
    const w = await startWorker(stack, tq);
    try {
      stack.ecs.setSpeed(0.2);
      const first = await startDeploy(stack.client, { app: 'api', env: 'production', tag: NEW_TAG, actor: 'bob' }, { taskQueue: tq });
      await assert.rejects(
        startDeploy(stack.client, { app: 'api', env: 'production', tag: INITIAL_TAG, actor: ACTOR }, { taskQueue: tq }),
        (err: Error) => err.name === 'AlreadyRunning' && /already running.*3f2c1a9d.*@bob/.test(err.message),
      );
      stack.ecs.setSpeed(1);
      const outcome = await deployOutcome(first);
      assert.equal(outcome.ok, true);
    } finally {
      stack.ecs.setSpeed(1);
      await w.stop();
    }
  });

  it('survives a SIGKILLed worker after registration: exactly one revision, one UpdateService', async () => {
    const tq = freshTaskQueue('deploy-kill');
    const tag = 'c'.repeat(40);
    // The sandbox applies the registration, then holds its answer: the worker dies in between.
    stack.ecs.holdResponse('RegisterTaskDefinition', 5_000);
    stack.ecs.resetCalls();
    let child = await spawnWorkerProcess(stack, tq);
    try {
      const handle = await startDeploy(stack.client, { app: 'frontend', env: 'production', tag, actor: ACTOR }, { taskQueue: tq });
      await eventually('the registration to be applied', () => stack.ecs.mutations('RegisterTaskDefinition').length === 1, 60_000);
      child.kill('SIGKILL');
      stack.ecs.holdResponse('RegisterTaskDefinition', 0);
      child = await spawnWorkerProcess(stack, tq);
      const outcome = await deployOutcome(handle);
      assert.equal(outcome.ok, true, JSON.stringify(outcome));
      if (!outcome.ok) return;
      assert.equal(stack.ecs.mutations('RegisterTaskDefinition').length, 1, 'one revision registered');
      assert.equal(stack.ecs.mutations('UpdateService').length, 1, 'one UpdateService');
      assert.equal(stack.ecs.service('production-default', 'production-nuxt').taskDefinition, outcome.result.taskDefinitionArn);
      const progress: DeployProgress = await handle.query(progressQuery);
      assert.ok(
        progress.log.some((l) => /found from an earlier attempt/.test(l)),
        progress.log.join('\n'),
      );
      await saveHistory(handle, 'deploy-worker-killed');
    } finally {
      stack.ecs.holdResponse('RegisterTaskDefinition', 0);
      child.kill('SIGKILL');
    }
  });
});
