/**
 * The promotion pipeline on a real Temporal dev server against the sandboxes: queue
 * policies, approvals (Update and Signal, with every refusal), promotion of exactly what
 * staging was verified with, and continue-as-new with a non-empty queue.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { reportMerge } from '../client/operations';
import { approveSignal, approveUpdate, cancelEntryUpdate, pipelineStateQuery, pipelineWorkflowId, rejectUpdate, type PipelineState } from '../contract';
import { eventually, freshTaskQueue, pipelineUntil, startStack, startWorker, type RunningWorker, type Stack } from './harness';
import { saveHistory } from './histories';

const OWNER = 'WordPress';
const REPO = 'openverse';

describe('pipeline', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let tq: string;
  const policy: 'latest' | 'fifo' = 'latest';
  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 150, healthyMs: 150, drainMs: 100 },
      configure: (raw) => {
        raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.1 };
        raw.apps.api.pipeline = { policy, approvals: 1, allowSelfApproval: false, approvalDeadlineHours: 72 };
        raw.apps.frontend.pipeline.gate.playwright.retries = 0;
      },
    });
    tq = freshTaskQueue('pipeline');
    worker = await startWorker(stack, tq);
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const commit = async (title: string) => {
    const sha = stack.world.github.addCommit(OWNER, REPO, { message: title });
    await stack.world.pushTags(sha);
    return sha;
  };
  const handle = () => stack.client.workflow.getHandle(pipelineWorkflowId('api'));
  const until = (what: string, pred: (s: PipelineState) => boolean) => pipelineUntil(stack, 'api', what, pred);
  /** An Update refused by the workflow: the message is on the failure's cause. */
  const refused = (re: RegExp) => (err: Error) => {
    assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
    assert.match(String(err.cause?.message), re);
    return true;
  };
  const merge = (sha: string, actor: string, title: string) => reportMerge(stack.client, 'api', { sha, actor, title }, { taskQueue: tq, maxHistory: 40 });

  it('queues merges during a cycle; with `latest` only the newest goes next, the others superseded', async () => {
    const m1 = await commit('Add audio search');
    await merge(m1, 'dhruv', 'Add audio search');
    await until('m1 awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === m1);

    // Three merges arrive while m1 waits; a duplicate report of m2 is one entry.
    const m2 = await commit('Fix pagination');
    const m3 = await commit('Tweak copy');
    const m4 = await commit('Faster thumbnails');
    await merge(m2, 'zack', 'Fix pagination');
    await merge(m3, 'olga', 'Tweak copy');
    await merge(m2, 'zack', 'Fix pagination');
    await merge(m4, 'sarah', 'Faster thumbnails');
    let s = await until('three waiting', (x) => x.queue.filter((e) => e.status === 'waiting').length === 3);
    assert.deepEqual(
      s.queue.filter((e) => e.status === 'waiting').map((e) => e.sha),
      [m2, m3, m4],
    );
    assert.equal(stack.world.site.release('api-staging'), m1);

    // Approving the wrong tag is refused with the candidate named; so is a non-member and the merger alone.
    await assert.rejects(
      handle().executeUpdate(approveUpdate, { args: [{ tag: m4, approver: 'alice' }] }),
      refused(new RegExp(`is not the candidate: the candidate awaiting approval is ${m1}`)),
    );
    await assert.rejects(handle().executeUpdate(approveUpdate, { args: [{ tag: m1, approver: 'mallory' }] }), refused(/@mallory may not approve/));
    // (dhruv merged m1; make him a maintainer so the self-approval rule is what refuses him.)
    stack.world.github.addTeam('WordPress', 'openverse-maintainers', ['alice', 'bob', 'octocat', 'dhruv']);
    await assert.rejects(handle().executeUpdate(approveUpdate, { args: [{ tag: m1, approver: 'dhruv' }] }), refused(/may not approve it alone/));
    // A refused Signal changes nothing and is recorded where the query shows it.
    await handle().signal(approveSignal, { tag: m3, approver: 'bob' });
    s = await until('the refused signal recorded', (x) => x.approvals.some((a) => a.via === 'signal' && !!a.refused));
    assert.equal(s.phase, 'awaiting_approval');

    // While m1 waits for approval, a newer image exists; production still gets m1.
    const approval = await handle().executeUpdate(approveUpdate, { args: [{ tag: m1, approver: 'alice' }] });
    assert.equal(approval.approver, 'alice');
    assert.equal(approval.tag, m1);
    s = await until('m1 released and m4 next', (x) => x.lastValidated === m1 && x.candidate?.sha === m4);
    assert.equal(stack.world.site.release('api-production'), m1, 'production runs exactly what staging was verified with');
    assert.deepEqual(
      s.queue.filter((e) => e.sha === m2 || e.sha === m3).map((e) => e.status),
      ['superseded', 'superseded'],
    );
    assert.match(s.queue.find((e) => e.sha === m2)?.note ?? '', new RegExp(`contained in ${m4}`));

    // Reject path: m4 is rejected with a reason and the pipeline moves on (idle).
    await until('m4 awaiting approval', (x) => x.phase === 'awaiting_approval' && x.candidate?.sha === m4);
    await handle().executeUpdate(rejectUpdate, { args: [{ tag: m4, approver: 'bob', reason: 'breaks the audio player' }] });
    s = await until('idle after the rejection', (x) => x.phase === 'idle' && !x.candidate);
    assert.equal(s.queue.find((e) => e.sha === m4)?.status, 'rejected');
    assert.equal(stack.world.site.release('api-production'), m1);
    await saveHistory(handle(), 'pipeline-latest');
  });

  it('continue-as-new keeps the queue, the candidate and the validated release', async () => {
    const before = await handle().describe();
    const m5 = await commit('Continue as new, part 1');
    await merge(m5, 'dhruv', 'part 1');
    await until('m5 awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === m5);
    const m6 = await commit('Continue as new, part 2');
    await merge(m6, 'zack', 'part 2');
    await handle().executeUpdate(approveUpdate, { args: [{ tag: m5, approver: 'alice' }] });
    // maxHistory is small here (40 events): the run continues as new once m5 is released, with m6 waiting.
    const s = await until('m6 the candidate in a new run', (x) => x.lastValidated === m5 && x.candidate?.sha === m6);
    const after = await handle().describe();
    assert.notEqual(after.runId, before.runId, 'a new run');
    assert.ok(s.queue.some((e) => e.sha === m5 && e.status === 'released'));
    assert.ok(s.history.some((h) => h.sha === m5 && h.outcome === 'released'));
  });

  it('the Playwright gate runs the smoke suite against staging: a pass waits for approval, a failure rejects', async () => {
    const fe = () => stack.client.workflow.getHandle(pipelineWorkflowId('frontend'));
    const feState = (what: string, pred: (s: PipelineState) => boolean) =>
      eventually(
        what,
        async () => {
          const s = await fe()
            .query(pipelineStateQuery)
            .catch(() => undefined);
          return s && pred(s) ? s : undefined;
        },
        120_000,
        100,
      );
    const good = await commit('Frontend: new header');
    await reportMerge(stack.client, 'frontend', { sha: good, actor: 'olga', title: 'new header' }, { taskQueue: tq });
    let s = await feState('the gate passed', (x) => x.phase === 'awaiting_approval' && x.candidate?.sha === good).catch(async (err) => {
      throw new Error(`${err.message}: ${JSON.stringify(await fe().query(pipelineStateQuery), null, 1)}`);
    });
    const passed = s.history.find((h) => h.sha === good && h.outcome === 'gate_passed');
    assert.match(passed?.note ?? '', /[1-9]\d* passed, 0 failed/);
    await fe().executeUpdate(rejectUpdate, { args: [{ tag: good, approver: 'alice', reason: 'not today' }] });

    // The site breaks after the staging deploy: the smoke suite fails and the candidate is rejected.
    const bad = await commit('Frontend: broken page');
    await reportMerge(stack.client, 'frontend', { sha: bad, actor: 'olga', title: 'broken page' }, { taskQueue: tq });
    await feState('gating the bad one', (x) => x.phase === 'gating' && x.candidate?.sha === bad);
    stack.world.site.override('frontend-staging', { status: 500 });
    try {
      s = await feState('the gate rejected it', (x) => x.queue.some((e) => e.sha === bad && e.status === 'rejected'));
    } finally {
      stack.world.site.clearOverrides();
    }
    const entry = s.queue.find((e) => e.sha === bad);
    assert.match(entry?.note ?? '', /0 passed|[1-9]\d* failed/);
    assert.match(entry?.note ?? '', /frontend\.spec\.ts/);
    await saveHistory(fe(), 'pipeline-gate');
  });

  it('a waiting entry can be cancelled', async () => {
    const m7 = await commit('Will be cancelled');
    await merge(m7, 'olga', 'cancel me');
    const s = await until('m7 waiting behind m6', (x) => x.queue.some((e) => e.sha === m7 && e.status === 'waiting'));
    assert.ok(s.candidate);
    const cancelled = await handle().executeUpdate(cancelEntryUpdate, { args: [{ sha: m7, actor: 'alice', reason: 'superseded by a revert' }] });
    assert.equal(cancelled.status, 'cancelled');
    await assert.rejects(handle().executeUpdate(cancelEntryUpdate, { args: [{ sha: m7, actor: 'alice' }] }), refused(/no waiting entry/));
  });
});
