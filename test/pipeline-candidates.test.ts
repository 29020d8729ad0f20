/**
 * Which candidate, and when, on a real Temporal dev server: the pipeline follows git, not
 * the order CI reports merges in (the GitHub sandbox's commit graph answers the compare
 * API), and staging only sees images that exist in the registry.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reportMerge } from '../client/operations';
import { approveUpdate, pipelineStateQuery, pipelineWorkflowId, type PipelineState } from '../contract';
import { eventually, freshTaskQueue, pipelineUntil, startStack, startWorker, type RunningWorker, type Stack } from './harness';
import { saveHistory } from './histories';

const OWNER = 'WordPress';
const REPO = 'openverse';

describe('pipeline candidates: git ancestry and published images', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let tq: string;
  let policy: 'latest' | 'fifo' = 'latest';
  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 100, healthyMs: 100, drainMs: 50 },
      configure: (raw) => {
        raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.1 };
        raw.apps.api.pipeline = { policy, approvals: 1, allowSelfApproval: false, approvalDeadlineHours: 72, imageWaitMinutes: 2 };
      },
    });
    tq = freshTaskQueue('pipeline-ancestry');
    worker = await startWorker(stack, tq);
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const commit = async (title: string, branch?: string, opts: { publish?: boolean } = {}) => {
    const sha = stack.world.github.addCommit(OWNER, REPO, { message: title, branch });
    if (opts.publish !== false) await stack.world.pushTags(sha);
    return sha;
  };
  const handle = () => stack.client.workflow.getHandle(pipelineWorkflowId('api'));
  const until = (what: string, pred: (s: PipelineState) => boolean) => pipelineUntil(stack, 'api', what, pred);
  const merge = (sha: string, actor: string, title: string) => reportMerge(stack.client, 'api', { sha, actor, title }, { taskQueue: tq });
  const approve = (tag: string) => handle().executeUpdate(approveUpdate, { args: [{ tag, approver: 'alice' }] });

  it('F reported before its parent E: F is the candidate, E superseded by ancestry, a commit off main refused', async () => {
    const m0 = await commit('First');
    await merge(m0, 'dhruv', 'First');
    await until('m0 awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === m0);

    const e = await commit('E');
    const f = await commit('F'); // child of E
    const x = await commit('X, on a branch never merged', 'feature');
    await merge(f, 'zack', 'F');
    await merge(x, 'olga', 'X');
    await merge(e, 'zack', 'E');
    await until('three waiting', (s) => s.queue.filter((q) => q.status === 'waiting').length === 3);
    await approve(m0);

    const s = await until('F the candidate', (x2) => x2.lastValidated === m0 && x2.candidate?.sha === f);
    const entry = (sha: string) => s.queue.find((q) => q.sha === sha);
    assert.equal(entry(e)?.status, 'superseded');
    assert.equal(entry(e)?.note, `contained in ${f}`);
    assert.equal(entry(x)?.status, 'refused');
    assert.match(entry(x)?.note ?? '', /is not on WordPress\/openverse's default branch main: it was never merged there/);
    assert.ok(s.history.some((h) => h.sha === x && h.outcome === 'refused'));
    assert.deepEqual(stack.world.github.contractViolations, []);
  });

  it('fifo keeps arrival order and says when it differs from git order', async () => {
    policy = 'fifo';
    stack.resetConfig();
    const s0 = await until('F awaiting approval', (s) => s.phase === 'awaiting_approval' && !!s.candidate);
    const f = s0.candidate!.sha;
    const e2 = await commit('E2');
    const f2 = await commit('F2'); // child of E2
    await merge(f2, 'zack', 'F2');
    await merge(e2, 'olga', 'E2');
    await until('two waiting', (s) => s.queue.filter((q) => q.status === 'waiting').length === 2);
    await approve(f);

    const s = await until('F2 the candidate', (x) => x.lastValidated === f && x.candidate?.sha === f2);
    assert.equal(s.policy, 'fifo');
    assert.equal(s.queue.find((q) => q.sha === e2)?.status, 'waiting', 'fifo supersedes nothing');
    assert.match(s.candidate?.note ?? '', new RegExp(`fifo keeps arrival order: ${f2.slice(0, 7)} was reported before its ancestor ${e2.slice(0, 7)}`));
    await saveHistory(handle(), 'pipeline-ancestry');
  });

  it('a merge reported before its images are published waits for them, then goes to staging', async () => {
    policy = 'latest';
    stack.resetConfig();
    const f2 = (await until('F2 awaiting approval', (x) => x.phase === 'awaiting_approval' && !!x.candidate)).candidate!.sha;
    await approve(f2);
    let s = await until('idle after F2, nothing waiting', (x) => x.phase === 'idle' && x.lastValidated === f2 && !x.candidate && !x.queue.some((q) => q.status === 'waiting'));
    // E2 (F2's parent, reported after it) is in the release now.
    assert.match(s.queue.find((q) => q.status === 'superseded' && q.note?.includes('released already'))?.note ?? '', new RegExp(`contained in ${f2} \\(released already\\)`));

    const early = await commit('Reported before CI published its images', undefined, { publish: false });
    await merge(early, 'zack', 'early');
    s = await until('waiting for images', (x) => x.phase === 'waiting_for_images' && x.candidate?.sha === early);
    assert.match(s.candidate?.note ?? '', /waiting for images: '[0-9a-f]{40}' does not appear to be a valid tag for the .* image/);
    assert.notEqual(stack.world.site.release('api-staging'), early);

    await stack.world.pushTags(early);
    s = await until('deployed to staging once the images exist', (x) => x.phase === 'awaiting_approval' && x.candidate?.sha === early);
    assert.equal(stack.world.site.release('api-staging'), early);
    assert.equal(s.candidate?.note, undefined);
  });

  it('an approval starts production at once; GitHub writes that fail meanwhile are completed by retries, exactly once', async () => {
    const s0 = await until('a candidate awaiting approval', (x) => x.phase === 'awaiting_approval' && !!x.candidate);
    const tag = s0.candidate!.sha;
    const gh = stack.world.github;
    // Every GitHub write fails until production runs the tag; reads (authorisation) still answer.
    gh.setFaults({ writeErrorRate: 1 });
    try {
      await approve(tag);
      await eventually('production runs the approved tag while GitHub refuses every write', () => stack.world.site.release('api-production') === tag, 60_000, 100);
      assert.equal(gh.releases(OWNER, REPO).filter((r) => r.targetCommitish === tag).length, 0, 'no release written yet');
      // Then half the writes lose their answer after taking effect: a retry must find its own write.
      gh.setFaults({ writeErrorRate: 0.5, writeErrorsApplied: true, seed: 7 });
      await pipelineUntil(stack, 'api', 'released', (x) => x.lastValidated === tag, 180_000);
    } finally {
      gh.setFaults({});
    }
    const releases = gh.releases(OWNER, REPO).filter((r) => r.targetCommitish === tag);
    assert.equal(releases.length, 1, 'one GitHub Release');
    const tags = Object.entries(gh.refs(OWNER, REPO)).filter(([ref, sha]) => ref.startsWith('refs/tags/api-') && sha === tag);
    assert.deepEqual(
      tags.map(([ref]) => ref),
      [`refs/tags/${releases[0].tagName}`],
      'one tag',
    );
    assert.equal(gh.pulls(OWNER, REPO).filter((p) => p.headRef === `changelog/${releases[0].tagName}`).length, 1, 'one changelog pull request');
    assert.equal(stack.world.site.release('api-production'), tag);
    const s = await handle().query(pipelineStateQuery);
    assert.equal(s.queue.find((q) => q.sha === tag)?.status, 'released');
    assert.deepEqual(gh.contractViolations, []);
    await saveHistory(handle(), 'pipeline-promote-alongside');
  });

  it('a production deploy that fails beside its release marks the release failed; production keeps what it ran', async () => {
    const running = stack.world.site.release('api-production');
    const sha = await commit('Breaks in production');
    await merge(sha, 'zack', 'Breaks in production');
    await until('awaiting approval', (x) => x.phase === 'awaiting_approval' && x.candidate?.sha === sha);
    // Staging ran it; production's tasks of this image stop at start.
    stack.ecs.failImage(`openverse-api:${sha}`, { reason: 'CannotStartContainerError: production secrets missing' });
    try {
      await approve(sha);
      const s = await until('failed', (x) => x.queue.some((q) => q.sha === sha && q.status === 'failed'));
      assert.match(s.queue.find((q) => q.sha === sha)?.note ?? '', /^the production deploy failed: .*rolled back/i);
      assert.notEqual(s.lastValidated, sha);
    } finally {
      stack.ecs.clearFailures();
    }
    assert.equal(stack.world.site.release('api-production'), running, 'production serves what it ran before');
    const rel = stack.world.github.releases(OWNER, REPO).find((r) => r.targetCommitish === sha);
    assert.ok(rel, 'the release was made alongside');
    assert.match(rel.body ?? '', /^<!-- slipway: failed -->\n> \[!CAUTION\]\n> \*\*The production deployment of this release failed\*\*: the production deploy failed/);
  });
});
