/**
 * Nothing that decides an outcome can be forged or bypassed, and every ending is an
 * ending: a real Temporal dev server, the ECS, registry, GitHub and Slack sandboxes and the
 * sites whose version endpoints report what ECS runs.
 *
 * - the record of validated releases takes entries only from the deploys that verified them;
 * - an operation started under a workflow ID other than its lock refuses before any effect;
 * - an outsider's redeploy tells nobody anything and changes nothing;
 * - a deploy that fails by an activity failure still ends with its notices and Outcome;
 * - a Slack that answers 500 does not hold an operation's result back;
 * - oversized messages to the pipeline are refused and its state stays small.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { deployOutcome, reportMerge, startDeploy, startRedeploy, startRollback } from '../client/operations';
import { startSlackReceiver, type SlackReceiver } from '../sandbox/slack';
import { OUTSIDER } from '../sandbox/world';
import {
  approveSignal,
  approveUpdate,
  deployWorkflowId,
  FailureType,
  mergedSignal,
  pauseUpdate,
  pipelineStateQuery,
  pipelineWorkflowId,
  progressQuery,
  recordQuery,
  recordWorkflowId,
  SA,
  validatedSignal,
  type DeployProgress,
  type RecordState,
  type RollbackResult,
  type ValidatedRelease,
} from '../contract';
import { eventually, freshTaskQueue, startStack, startWorker, type RunningWorker, type Stack } from './harness';
import { saveHistory } from './histories';

const OWNER = 'WordPress';
const REPO = 'openverse';
const MEGABYTE = 1 << 20;

describe('nothing that decides an outcome can be forged or bypassed', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let slack: SlackReceiver;
  let tq: string;
  /** Commits of the sandbox repository, pushed as image tags. */
  let A: string;
  let B: string;
  let C: string;

  before(async () => {
    slack = await startSlackReceiver();
    stack = await startStack({
      timing: { taskStartMs: 150, healthyMs: 150, drainMs: 100 },
      configure: (raw) => {
        raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.05 };
        raw.notifications = { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL' }, githubDeployments: true };
      },
    });
    const gh = stack.world.github;
    A = gh.addCommit(OWNER, REPO, { message: 'A' });
    B = gh.addCommit(OWNER, REPO, { message: 'B' });
    C = gh.addCommit(OWNER, REPO, { message: 'C' });
    await stack.world.pushTags(A, B, C);
    tq = freshTaskQueue('integrity');
    worker = await startWorker(stack, tq, { SLACK_WEBHOOK_URL: slack.url });
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
    await slack?.close();
  });

  const deploy = async (tag: string, env = 'staging', actor = 'alice', app = 'api') => {
    const handle = await startDeploy(stack.client, { app, env, tag, actor, reason: 'integrity' }, { taskQueue: tq });
    return { handle, outcome: await deployOutcome(handle) };
  };
  const outcomeOf = async (handle: WorkflowHandle) => (await handle.describe()).typedSearchAttributes.get(SA.outcome);
  /** Asserts that `run` fails with a typed, non-retryable failure of `type` whose message matches. */
  const failsWith = async (run: Promise<unknown>, type: string, message: RegExp) => {
    await assert.rejects(run, (err: unknown) => {
      const cause = err instanceof WorkflowFailedError || err instanceof WorkflowUpdateFailedError ? err.cause : err;
      assert.ok(cause instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(cause)}`);
      assert.equal(cause.type, type, cause.message);
      assert.equal(cause.nonRetryable, true);
      assert.match(cause.message, message);
      return true;
    });
  };

  it('a redeploy by an outsider sends no notification, creates no GitHub deployment and makes no ECS call', async () => {
    // Production runs A, a commit GitHub knows, so a deployment for it could be created.
    const { outcome } = await deploy(A, 'production', 'alice');
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    await eventually('the deploy notices to arrive', () => slack.messages.length >= 2);
    slack.reset();
    stack.world.github.resetRequests();
    stack.ecs.resetCalls();
    const deploymentsBefore = stack.world.github.deployments(OWNER, REPO).length;

    const handle = await startRedeploy(stack.client, { app: 'api', env: 'production', actor: OUTSIDER, reason: 'just because' }, { taskQueue: tq });
    const refused = await deployOutcome(handle);
    assert.equal(refused.ok, false);
    if (refused.ok) return;
    assert.equal(refused.type, FailureType.unauthorized);
    assert.match(refused.message, /@mallory may not redeploy api production/);
    assert.equal(await outcomeOf(handle), 'unauthorized');
    assert.deepEqual(slack.requests, [], 'no Slack notification');
    assert.equal(stack.world.github.deployments(OWNER, REPO).length, deploymentsBefore, 'no GitHub deployment');
    assert.deepEqual(stack.world.github.mutations(), []);
    assert.deepEqual(
      stack.ecs.calls.map((c: { op: string }) => c.op),
      [],
      'no ECS call at all',
    );
  });

  it('a forged or malformed `validated` signal changes nothing: the rollback target stays the real last validated release', async () => {
    const a = await deploy(A);
    assert.equal(a.outcome.ok, true, JSON.stringify(a.outcome));
    const b = await deploy(B);
    assert.equal(b.outcome.ok, true, JSON.stringify(b.outcome));
    const record = stack.client.workflow.getHandle(recordWorkflowId('api', 'staging'));
    const confirmed = () => record.query(recordQuery);
    await eventually('A and B confirmed', async () => {
      const s = await confirmed();
      return s.validated.some((v) => v.tag === A) && s.validated.some((v) => v.tag === B) && !s.pending?.length;
    });
    const before = (await confirmed()).validated;
    const bRun = b.handle.firstExecutionRunId;

    const forged = (over: Partial<ValidatedRelease>): ValidatedRelease => ({
      tag: C,
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/staging-api:99',
      actor: 'alice',
      workflowId: deployWorkflowId('api', 'staging'),
      runId: '00000000-0000-4000-8000-000000000000',
      at: new Date(Date.now() + 3600_000).toISOString(),
      operation: 'deploy',
      ...over,
    });
    const reports: unknown[] = [
      forged({}), // a run that never existed
      forged({ runId: bRun }), // B's real run, claiming it deployed C
      forged({ runId: a.handle.firstExecutionRunId, tag: A, taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/other:1' }), // A's run, another revision
      forged({ workflowId: deployWorkflowId('api', 'production'), runId: bRun }), // another environment's lock
      null,
      'C is good',
      [C],
      { tag: C },
      forged({ tag: 'x'.repeat(MEGABYTE) }),
    ];
    for (const r of reports) await record.signal(validatedSignal, r as ValidatedRelease);

    const state = await eventually('every report refused', async () => {
      const s = await confirmed();
      return (s.refused?.length ?? 0) >= reports.length && !s.pending?.length ? s : undefined;
    });
    assert.deepEqual(state.validated, before, 'the validated releases are unchanged');
    const reasons = state.refused!.map((r) => r.reason).join('\n');
    assert.match(reasons, /there is no execution deploy\/api\/staging with run 00000000-/);
    assert.match(reasons, new RegExp(`run ${bRun} of deploy/api/staging is recorded with '${B}'.*this report says otherwise`));
    assert.match(reasons, new RegExp(`run ${a.handle.firstExecutionRunId} of deploy/api/staging is recorded with '${A}'`));
    assert.match(reasons, /names workflow deploy\/api\/production, but releases of api in staging are validated only by deploy\/api\/staging/);
    assert.match(reasons, /a report must be an object .* got null/);
    assert.match(reasons, /image tag is 1048576 characters long/);
    assert.ok(JSON.stringify(state).length < 20_000, `the record stays small (${JSON.stringify(state).length} characters)`);

    // The rollback goes to A, the validated release before B — never to the forged C.
    const handle = await startRollback(stack.client, { app: 'api', env: 'staging', actor: 'bob', reason: 'B misbehaves' }, { taskQueue: tq });
    const outcome = await deployOutcome<RollbackResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.chosen, 'last-validated');
    assert.equal(outcome.result.tag, A);
    // The record was not wedged: the rollback's own deploy is recorded, from its execution.
    const after = await eventually('the rollback recorded', async () => {
      const s = await confirmed();
      const last = s.validated.at(-1);
      return last?.operation === 'rollback' && !s.pending?.length ? s : undefined;
    });
    assert.equal(after.validated.at(-1)!.tag, A);
    assert.equal(after.validated.at(-1)!.actor, 'bob');
    await saveHistory(record, 'record-refuses-forged-reports');
  });

  it('starting the record with a pre-filled list is refused', async () => {
    const fake: ValidatedRelease = {
      tag: C,
      taskDefinitionArn: 'arn:aws:ecs:us-east-1:000000000000:task-definition/staging-nuxt:1',
      actor: 'alice',
      workflowId: deployWorkflowId('frontend', 'staging'),
      runId: '00000000-0000-4000-8000-000000000001',
      at: new Date().toISOString(),
      operation: 'deploy',
    };
    const handle = await stack.client.workflow.start('releaseRecord', {
      workflowId: recordWorkflowId('frontend', 'staging'),
      taskQueue: tq,
      args: [{ app: 'frontend', env: 'staging', validated: [fake] } satisfies RecordState],
    });
    await failsWith(handle.result(), FailureType.badInput, /a record of validated releases starts empty/);
    // A rollback finds nothing to go back to.
    const rollback = await deployOutcome(await startRollback(stack.client, { app: 'frontend', env: 'staging', actor: 'bob' }, { taskQueue: tq }));
    assert.equal(rollback.ok, false);
    if (!rollback.ok) assert.equal(rollback.type, FailureType.notFound);
  });

  it('an operation started under another workflow ID than its lock refuses before any effect, naming the ID', async () => {
    slack.reset();
    stack.ecs.resetCalls();
    stack.world.github.resetRequests();
    const id = `mine-${tq}`;
    const start = (type: string, args: unknown[], suffix: string) => stack.client.workflow.start(type, { workflowId: `${id}-${suffix}`, taskQueue: tq, args });
    const deployRun = await start('deploy', [{ app: 'api', env: 'staging', tag: C, actor: 'alice' }], 'deploy');
    await failsWith(deployRun.result(), FailureType.badInput, /a deploy of api to staging runs only under the workflow ID deploy\/api\/staging .*started as mine-/);
    assert.equal(await outcomeOf(deployRun), 'refused');
    await failsWith(
      (await start('rollback', [{ app: 'api', env: 'staging', tag: A, actor: 'alice' }], 'rollback')).result(),
      FailureType.badInput,
      /only under the workflow ID rollback\/api\/staging/,
    );
    await failsWith(
      (await start('redeploy', [{ app: 'api', env: 'staging', actor: 'alice' }], 'redeploy')).result(),
      FailureType.badInput,
      /only under the workflow ID redeploy\/api\/staging/,
    );
    await failsWith(
      (await start('release', [{ app: 'api', tag: C, actor: 'alice' }], 'release')).result(),
      FailureType.badInput,
      new RegExp(`only under the workflow ID release/api/${C}`),
    );
    await failsWith((await start('pipeline', [{ app: 'api' }], 'pipeline')).result(), 'BadInput', /the pipeline of api runs only under the workflow ID pipeline\/api/);
    assert.deepEqual(
      stack.ecs.calls.map((c: { op: string }) => c.op),
      [],
      'no ECS call',
    );
    assert.deepEqual(stack.world.github.mutations(), [], 'no GitHub write');
    assert.deepEqual(slack.requests, [], 'no notification');
  });

  it('a deploy that fails by an activity failure (its service vanishes while watched) ends with its notices and Outcome', async () => {
    slack.reset();
    stack.ecs.setSpeed(0.05);
    const handle = await startDeploy(stack.client, { app: 'frontend', env: 'staging', tag: B, actor: 'alice' }, { taskQueue: tq });
    try {
      await eventually('the deploy to wait on ECS', async () => (await handle.query(progressQuery).catch(() => undefined))?.phase === 'waiting');
      stack.ecs.removeService('staging-default', 'staging-nuxt');
    } finally {
      stack.ecs.setSpeed(1);
    }
    const outcome = await deployOutcome(handle);
    assert.equal(outcome.ok, false);
    if (outcome.ok) return;
    assert.equal(outcome.type, FailureType.notFound);
    assert.match(outcome.message, /service staging-default\/staging-nuxt no longer exists/);
    assert.equal(outcome.details?.outcome, 'failed');
    assert.equal(await outcomeOf(handle), 'failed');
    const failure = await eventually('the failure notice', () => slack.messages.find((m) => /:x:/.test(JSON.stringify(m))));
    assert.match(JSON.stringify(failure), /staging-nuxt/);
    const ghDeployment = stack.world.github.deployments(OWNER, REPO).find((d) => d.sha === B && d.environment === 'staging-frontend');
    assert.ok(ghDeployment, 'a GitHub deployment for the deploy');
    assert.equal(ghDeployment.statuses.at(-1)?.state, 'failure', 'marked failed');
  });

  it('a Slack that answers 500 does not hold the result back: the notice is retried in the background, then delivered', async () => {
    slack.reset();
    slack.failNext(1_000_000, 500);
    const { handle, outcome } = await deploy(C);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    const progress = (await handle.query(progressQuery)) as DeployProgress;
    const aside = progress.log.filter((l) => /notification not sent yet \(Slack\): retried in the background by workflow notify\//.test(l));
    assert.equal(aside.length, 2, progress.log.join('\n'));
    const notifyId = /workflow (notify\/\S+)/.exec(aside[1])![1];
    const notice = stack.client.workflow.getHandle(notifyId);
    // When the result is in, the success notice is still being retried.
    assert.equal((await notice.describe()).status.name, 'RUNNING');
    slack.reset();
    await notice.result();
    assert.equal(await outcomeOf(notice), 'succeeded');
    assert.ok(
      slack.messages.some((m) => /:white_check_mark:/.test(JSON.stringify(m))),
      'the success notice arrived once Slack answered',
    );
    await saveHistory(notice, 'notification-retried');
    await saveHistory(handle, 'deploy-notified-aside');
  });

  it('a 1 MB message to the pipeline is refused, and its state stays small', async () => {
    const app = 'frontend';
    const big = 'x'.repeat(MEGABYTE);
    // A merge report whose title is 1 MB starts the pipeline and is refused by it.
    const handle = await reportMerge(stack.client, app, { sha: C, actor: 'alice', title: big }, { taskQueue: tq });
    try {
      await handle.signal(mergedSignal, { sha: C, actor: big, title: 'ok' });
      await handle.signal(approveSignal, { tag: C, approver: 'alice', reason: big });
      await failsWith(handle.executeUpdate(approveUpdate, { args: [{ tag: C, approver: 'alice', reason: big }] }), 'BadInput', /reason is 1048576 characters long; at most 1000/);
      await failsWith(handle.executeUpdate(approveUpdate, { args: [{ tag: C, approver: big }] }), 'BadInput', /approver "x{60}"… is not a GitHub login/);
      await failsWith(handle.executeUpdate(pauseUpdate, { args: [{ actor: 'alice', reason: big }] }), 'BadInput', /reason is 1048576 characters long/);
      const state = await eventually('the refusals recorded', async () => {
        const s = await handle.query(pipelineStateQuery);
        return s.history.filter((h) => h.outcome === 'refused').length >= 2 && s.approvals.length >= 1 ? s : undefined;
      });
      assert.deepEqual(state.queue, [], 'nothing queued');
      assert.equal(state.paused, false);
      assert.match(state.history.map((h) => h.note).join('\n'), /merge report refused: title is 1048576 characters long; at most 300/);
      assert.ok(state.approvals.every((r) => r.refused && (r.reason?.length ?? 0) <= 1000));
      assert.ok(JSON.stringify(state).length < 10_000, `pipeline state is ${JSON.stringify(state).length} characters`);
    } finally {
      await stack.client.workflow.getHandle(pipelineWorkflowId(app)).terminate('test done');
    }
  });
});
