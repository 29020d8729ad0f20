/**
 * Approval deadlines, on the time-skipping test server: a candidate nobody approves
 * expires after the configured deadline (72 h here) without the test waiting 72 hours.
 * The activities are stubs (the real ones are exercised in pipeline.test.ts); the
 * workflows are the real ones.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import type { Activities } from '../activities';
import type { PipelinePlan } from '../activities/config';
import type { Target } from '../domain/config';
import { NotFound } from '../domain/errors';
import { toolPath } from '../sandbox/tools';
import { workflowBundlePath } from '../worker/bundle';
import { SlipwayWorker } from '../worker/create';
import { ecsTaskQueues } from '../domain/ecs-queues';
import { temporal } from '@temporalio/proto';
import { mergedSignal, pipelineStateQuery, pipelineWorkflowId, SA, type PipelineState } from '../contract';

const SHA = 'a1'.repeat(20);

const target = (env: string): Target => ({
  app: 'api',
  env,
  region: 'us-east-1',
  cluster: `${env}-default`,
  service: `${env}-api`,
  templateFamily: `${env}-api-template`,
  family: `${env}-api`,
  containers: [{ name: 'django', imageKey: 'api', repository: 'ghcr.io/wordpress/openverse-api' }],
  images: [{ key: 'api', repository: 'ghcr.io/wordpress/openverse-api' }],
  versionEndpoint: `https://${env}.example/version`,
  budgetSeconds: 900,
  verifyBudgetSeconds: 300,
});

/** Activities that answer as a healthy world would. */
function stubs(opts: { autoApprove?: boolean; imagesNeverAppear?: () => void } = {}): Partial<Activities> {
  const plan: PipelinePlan = {
    app: 'api',
    settings: { policy: 'latest', approvals: 1, allowSelfApproval: false, approvalDeadlineHours: 72, autoApprove: opts.autoApprove ?? false, imageWaitMinutes: 60 },
    staging: target('staging'),
    production: target('production'),
  };
  return {
    resolvePipeline: async () => plan,
    resolveTarget: async (i) => target(i.env),
    // One merge on main, nothing released yet: it is its own base.
    relateCommits: async (i) => ({ branch: 'main', base: i.shas[0], baseIsEntry: true, commits: [], older: [], offBranch: [] }),
    mergerOf: async () => ({}),
    authorize: async () => ({ checked: false }),
    checkImageTags: async () => {
      if (!opts.imagesNeverAppear) return undefined;
      opts.imagesNeverAppear();
      throw new NotFound(`'${SHA}' does not appear to be a valid tag for the openverse-api image.`);
    },
    // A plain rolling service with the circuit breaker on, as most are.
    readDeploymentSettings: async () => ({ desiredCount: 1, strategy: 'ROLLING', bakeTimeInMinutes: 0, hooks: [], circuitBreaker: { enable: true, rollback: true } }),
    registerRevision: async () => ({ taskDefinitionArn: 'arn:aws:ecs:us-east-1:1:task-definition/staging-api:2', revision: 2, images: [], reused: false }),
    updateService: async () => ({ serviceDeploymentArn: 'arn:sd', startedAt: 0, reused: false }),
    watchDeployment: async (i) => ({
      verdict: { state: 'succeeded' },
      status: 'SUCCESSFUL',
      counts: { desired: 1, running: 1, pending: 0, failed: 0 },
      newEvents: [],
      newStoppedReasons: [],
      cursor: i.cursor,
    }),
    awaitVersion: async (i) => ({ release: i.expected, attempts: 1, url: i.url }),
    readVersion: async (i) => ({ release: SHA, url: i.url }),
    recordValidated: async () => undefined,
    notifySlack: async () => ({ sent: false, skipped: 'stub' }),
    recordGitHubDeployment: async () => ({ skipped: 'stub' }),
    resolveRelease: async () => ({ app: 'api', releaseOnly: false, images: target('production').images, production: target('production') }),
    findReleaseForCommit: async () => undefined,
    previousRelease: async () => undefined,
    mergedPullsSince: async () => [],
    createRelease: async (i) => ({
      id: 1,
      name: i.name,
      app: 'api',
      date: i.name.slice(4),
      releasedAt: '2026-01-01T00:00:00Z',
      sha: i.sha,
      url: 'https://github.example/r/1',
      failed: false,
      created: true,
    }),
    aliasImageTags: async () => [],
    openChangelogPr: async (i) => ({ number: 7, url: 'https://github.example/pull/7', state: 'open', branch: `changelog/${i.app}-${i.date}`, path: 'x.md', created: true }),
  };
}

describe('pipeline approval deadline and auto-approve (time-skipping)', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    env = await TestWorkflowEnvironment.createTimeSkipping({
      server: { executable: { type: 'existing-path', path: toolPath('TEMPORAL_TEST_SERVER_PATH') } },
    });
    // The test server knows no custom search attributes until told, like any cluster.
    await env.connection.operatorService.addSearchAttributes({
      namespace: env.namespace ?? 'default',
      searchAttributes: Object.fromEntries(Object.values(SA).map((k) => [k.name, temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD])),
    });
  });
  after(async () => {
    await env?.teardown();
  });

  /** The stubs on the task queue and on its ECS task queues, as a Slipway worker serves them. */
  async function stubWorker(taskQueue: string, activities: Partial<Activities>): Promise<SlipwayWorker> {
    const connection = env.nativeConnection;
    const main = await Worker.create({ connection, taskQueue, workflowBundle: { codePath: await workflowBundlePath() }, activities });
    return new SlipwayWorker(main, await Promise.all(ecsTaskQueues(taskQueue).map((tq) => Worker.create({ connection, taskQueue: tq, activities }))));
  }

  it('a candidate nobody approves expires after the deadline, and the pipeline moves on', async () => {
    const taskQueue = 'expiry';
    const worker = await stubWorker(taskQueue, stubs());
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart('pipeline', {
        workflowId: pipelineWorkflowId('api'),
        taskQueue,
        args: [{ app: 'api' }],
        signal: mergedSignal,
        signalArgs: [{ sha: SHA, actor: 'dhruv', title: 'Add audio search' }],
      });
      const state = () => handle.query(pipelineStateQuery);
      let s: PipelineState;
      for (;;) {
        s = await state();
        if (s.phase === 'awaiting_approval') break;
        await env.sleep('1s');
      }
      // Just before the deadline it still waits; after it, the candidate has expired.
      await env.sleep('71h');
      assert.equal((await state()).phase, 'awaiting_approval');
      await env.sleep('2h');
      s = await state();
      assert.equal(s.phase, 'idle');
      const entry = s.queue.find((e) => e.sha === SHA);
      assert.equal(entry?.status, 'expired');
      assert.match(entry?.note ?? '', /no approval within 72 h/);
      await handle.terminate('test done');
    });
  });

  it('a merge whose images never appear expires with that reason after imageWaitMinutes, and staging is never touched', async () => {
    const taskQueue = 'images-never';
    let checks = 0;
    let updates = 0;
    const acts = stubs({ imagesNeverAppear: () => void checks++ });
    const worker = await stubWorker(taskQueue, { ...acts, updateService: async (i: Parameters<Activities['updateService']>[0]) => (updates++, acts.updateService!(i)) });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart('pipeline', {
        workflowId: pipelineWorkflowId('api'),
        taskQueue,
        args: [{ app: 'api' }],
        signal: mergedSignal,
        signalArgs: [{ sha: SHA, actor: 'dhruv', title: 'Reported before CI published its images' }],
      });
      let s: PipelineState;
      for (;;) {
        s = await handle.query(pipelineStateQuery);
        if (s.queue.some((e) => e.sha === SHA && e.status === 'expired')) break;
        assert.ok(s.phase === 'idle' || s.phase === 'waiting_for_images', s.phase);
        await env.sleep('5m');
      }
      const entry = s.queue.find((e) => e.sha === SHA);
      assert.match(entry?.note ?? '', /the images never appeared within 60 min: '.*' does not appear to be a valid tag for the openverse-api image/);
      assert.ok(s.history.some((h) => h.sha === SHA && h.outcome === 'images_missing'));
      assert.equal(updates, 0, 'staging never deployed');
      assert.ok(checks >= 5 && checks <= 200, `the registry was checked with backoff (${checks} checks in an hour)`);
      await handle.terminate('test done');
    });
  });

  it('with autoApprove, a candidate that passes is promoted without anyone approving', async () => {
    const taskQueue = 'auto-approve';
    const worker = await stubWorker(taskQueue, stubs({ autoApprove: true }));
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart('pipeline', {
        workflowId: pipelineWorkflowId('api'),
        taskQueue,
        args: [{ app: 'api' }],
        signal: mergedSignal,
        signalArgs: [{ sha: SHA, actor: 'dhruv', title: 'Add audio search' }],
      });
      let s: PipelineState;
      for (;;) {
        s = await handle.query(pipelineStateQuery);
        if (s.lastValidated === SHA) break;
        await env.sleep('1s');
      }
      assert.equal(s.queue.find((e) => e.sha === SHA)?.status, 'released');
      assert.ok(s.approvals.some((a) => a.approver === 'slipway' && a.reason === 'autoApprove' && a.tag === SHA));
      await handle.terminate('test done');
    });
  });
});
