/**
 * The production smoke suite after a promotion, on a real Temporal dev server against the
 * sandboxes, with real Playwright on Debian's Chromium: a pass changes nothing, a test that
 * passes on its retry is reported flaky, and a failure rolls production back to the
 * previous validated release (its exact revision), withdraws it from the record of
 * validated releases, marks the GitHub Release failed and tells the maintainers on Slack.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import { reportMerge } from '../client/operations';
import { approveUpdate, pipelineStateQuery, pipelineWorkflowId, recordQuery, recordWorkflowId, rollbackWorkflowId, withdrawnSignal, type PipelineState } from '../contract';
import { startSlackReceiver, type SlackReceiver } from '../sandbox/slack';
import { eventually, freshTaskQueue, pipelineUntil, startStack, startWorker, type RunningWorker, type Stack } from './harness';
import { saveHistory } from './histories';

const OWNER = 'WordPress';
const REPO = 'openverse';
const APP = 'frontend';
const SITE = 'frontend-production';
const MAINTAINERS = '<!subteam^S0MAINT>';

describe('pipeline: the production smoke suite', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let slack: SlackReceiver;
  let tq: string;
  before(async () => {
    slack = await startSlackReceiver();
    stack = await startStack({
      timing: { taskStartMs: 100, healthyMs: 100, drainMs: 50 },
      configure: (raw) => {
        raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.2 };
        const p = raw.apps[APP].pipeline;
        delete p.gate; // the staging gate has tests of its own
        // No `retries`: the suite's own setting (examples/playwright-smoke retries once).
        p.productionSmoke = { playwright: { suiteDir: 'examples/playwright-smoke', grep: '@deployment-smoketest', apiUrlFrom: 'api' } };
        raw.notifications = { ...raw.notifications, slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', maintainersMention: MAINTAINERS } };
      },
    });
    tq = freshTaskQueue('pipeline-smoke');
    worker = await startWorker(stack, tq, { SLACK_WEBHOOK_URL: slack.url });
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
    await slack?.close();
  });

  const handle = () => stack.client.workflow.getHandle(pipelineWorkflowId(APP));
  const until = (what: string, pred: (s: PipelineState) => boolean) => pipelineUntil(stack, APP, what, pred, 150_000);
  /** Merges a commit, waits until it awaits approval, then `prepare`s production and approves it. */
  const promote = async (title: string, prepare: () => void = () => {}) => {
    const sha = stack.world.github.addCommit(OWNER, REPO, { message: title });
    await stack.world.pushTags(sha);
    await reportMerge(stack.client, APP, { sha, actor: 'olga', title }, { taskQueue: tq });
    await until(`${title} awaiting approval`, (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === sha);
    prepare();
    await handle().executeUpdate(approveUpdate, { args: [{ tag: sha, approver: 'alice' }] });
    return sha;
  };
  const service = () => stack.ecs.service('production-default', 'production-nuxt');
  const rollbackStarted = () =>
    stack.client.workflow
      .getHandle(rollbackWorkflowId(APP, 'production'))
      .describe()
      .then(
        () => true,
        (err) => {
          if (err instanceof WorkflowNotFoundError) return false;
          throw err;
        },
      );

  it('a passing suite validates the release and rolls nothing back', async () => {
    const good = await promote('Frontend: a good change');
    const s = await until('released', (x) => x.lastValidated === good && !x.candidate);
    const passed = s.history.find((h) => h.sha === good && h.outcome === 'smoke_passed');
    assert.match(passed?.note ?? '', /^[1-9]\d* passed, 0 failed, 0 flaky$/);
    assert.equal(s.queue.find((q) => q.sha === good)?.status, 'released');
    assert.equal(stack.world.site.release(SITE), good);
    assert.equal(await rollbackStarted(), false, 'nothing rolled back');
    // The suite ran against production's site and API, not staging's.
    assert.ok(
      stack.world.site.requests.some((r) => r.prefix === SITE && r.path === `/${SITE}`),
      'the browser opened production',
    );
  });

  it('a test that passes on its retry is reported flaky, not failed', async () => {
    // The first page request to production answers 500; the retry finds the page.
    const flaky = await promote('Frontend: a flaky moment', () => stack.world.site.override(SITE, { status: 500, pagesOnly: true, times: 1 }));
    const s = await until('released', (x) => x.lastValidated === flaky && !x.candidate);
    const passed = s.history.find((h) => h.sha === flaky && h.outcome === 'smoke_passed');
    assert.match(passed?.note ?? '', /passed, 0 failed, 1 flaky \(flaky, passed on a retry: \[chromium\] › frontend\.spec\.ts › frontend › /);
    assert.equal(s.queue.find((q) => q.sha === flaky)?.status, 'released');
    assert.equal(stack.world.site.release(SITE), flaky);
    assert.equal(await rollbackStarted(), false, 'nothing rolled back');
  });

  it('a failing suite rolls production back to the previous validated release, marks the release failed and tells the maintainers', async () => {
    const previous = (await handle().query(pipelineStateQuery)).lastValidated!;
    const provenRevision = service().taskDefinition;
    slack.reset();
    // Production's pages break once it runs the new release; its version endpoint still answers.
    const bad = await promote('Frontend: a broken page', () => stack.world.site.override(SITE, { status: 500, pagesOnly: true }));
    let s: PipelineState;
    try {
      s = await until('failed and rolled back', (x) => x.queue.some((q) => q.sha === bad && q.status === 'failed'));
    } finally {
      stack.world.site.clearOverrides();
    }
    const entry = s.queue.find((q) => q.sha === bad)!;
    assert.match(entry.note ?? '', /the production smoke suite failed: \d+ passed, [1-9]\d* failed.*frontend\.spec\.ts.*; production rolled back to /);
    assert.ok(entry.note?.includes(`production rolled back to ${previous}`), entry.note);
    assert.equal(s.lastValidated, previous);
    assert.equal(s.production, previous);

    // Production runs the previous validated release, on the exact revision that was proven.
    assert.equal(stack.world.site.release(SITE), previous);
    assert.equal(service().taskDefinition, provenRevision);
    const rolledBack = await stack.client.workflow.getHandle(rollbackWorkflowId(APP, 'production')).result();
    assert.equal(rolledBack.chosen, 'last-validated');
    assert.equal(rolledBack.tag, previous);

    // The release leaves the record of validated releases: no later rollback picks it.
    const record = await eventually('the release withdrawn from the record', async () => {
      const r = await stack.client.workflow.getHandle(recordWorkflowId(APP, 'production')).query(recordQuery);
      return r.withdrawn?.some((w) => w.tag === bad) ? r : undefined;
    });
    assert.ok(!record.validated.some((v) => v.tag === bad), 'no longer validated');
    assert.ok(record.validated.some((v) => v.tag === previous));
    assert.match(record.withdrawn!.find((w) => w.tag === bad)!.reason, /smoke suite failed/);

    // The GitHub Release says so at the top of its body.
    const rel = stack.world.github.releases(OWNER, REPO).find((r) => r.targetCommitish === bad);
    assert.ok(rel, 'the release was made');
    assert.match(rel.body ?? '', /^<!-- [^\n]*-->\n> \[!CAUTION\]\n> \*\*The production deployment of this release failed\*\*: the production smoke suite failed/);
    assert.ok(rel.body?.includes(`production rolled back to ${previous}`));

    // The maintainers are told on Slack.
    const told = await eventually('the maintainers told', () =>
      slack.messages.find((m) => JSON.stringify(m).includes(MAINTAINERS) && JSON.stringify(m).includes('smoke suite failed')),
    );
    assert.ok(JSON.stringify(told).includes(bad.slice(0, 7)));
    assert.deepEqual(stack.world.github.contractViolations, []);
    await saveHistory(handle(), 'pipeline-production-smoke');
  });

  it('a withdrawal that the pipeline does not confirm changes nothing', async () => {
    const record = stack.client.workflow.getHandle(recordWorkflowId(APP, 'production'));
    const before = await record.query(recordQuery);
    const good = before.validated.at(-1)!.tag;
    const refusedBefore = before.refused?.length ?? 0;
    await record.signal(withdrawnSignal, { tag: good, workflowId: pipelineWorkflowId(APP), reason: 'it is bad, trust me' });
    await record.signal(withdrawnSignal, { tag: good, workflowId: pipelineWorkflowId('api'), reason: 'another pipeline says so' });
    await record.signal(withdrawnSignal, null as never);
    const after = await eventually('three withdrawals refused', async () => {
      const r = await record.query(recordQuery);
      return (r.refused?.length ?? 0) >= refusedBefore + 3 ? r : undefined;
    });
    assert.deepEqual(after.validated, before.validated, 'the validated releases are unchanged');
    assert.deepEqual(after.withdrawn, before.withdrawn);
    const reasons = after
      .refused!.slice(refusedBefore)
      .map((r) => r.reason)
      .join('\n');
    assert.match(reasons, new RegExp(`pipeline/frontend records no failed smoke suite of '${good}'`));
    assert.match(reasons, /pipeline\/api is not the pipeline of frontend/);
    assert.match(reasons, /withdrawal refused: tag: /);
  });
});
