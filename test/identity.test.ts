/**
 * Proven identity on a real Temporal dev server: production in `oidc` mode, tokens minted
 * by the OIDC issuer stand-in (its own keys, JWKS over real HTTP). A valid token names the
 * actor; every forged, stale or foreign one is refused with a clear message and changes
 * nothing in ECS or GitHub. The pipeline's approvals and controls obey the same rules, from
 * the slipway CLI, the SDK and the raw `temporal` CLI alike.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { deployOutcome, reportMerge, startDeploy, startRollback } from '../client/operations';
import { toolPath, REPO_ROOT } from '../sandbox/tools';
import { OUTSIDER } from '../sandbox/world';
import { FailureType, pauseUpdate, pipelineStateQuery, pipelineWorkflowId, approveUpdate, cancelEntryUpdate, resumeUpdate, type PipelineState } from '../contract';
import { saveHistory } from './histories';
import { freshTaskQueue, pipelineUntil, runProcess, startStack, startWorker, type RunningWorker, type Stack } from './harness';
import { join } from 'node:path';

const OWNER = 'WordPress';
const REPO = 'openverse';
const B = '2'.repeat(40);
const C = '3'.repeat(40);

const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => runProcess(cmd, args, { cwd: REPO_ROOT, env });

describe('proven identity (oidc mode for production)', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let tq: string;
  before(async () => {
    stack = await startStack({
      timing: { taskStartMs: 150, healthyMs: 150, drainMs: 100 },
      configure: (raw) => {
        raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.1 };
        raw.identity.environments = { production: 'oidc' };
        raw.apps.api.pipeline = { policy: 'fifo', approvals: 1, allowSelfApproval: false, approvalDeadlineHours: 72 };
      },
    });
    await stack.world.pushTags(B, C);
    tq = freshTaskQueue('identity');
    worker = await startWorker(stack, tq, {}, { oidc: { cooldownMs: 0 } });
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
  });

  const issuer = () => stack.world.oidc;
  const mutations = () => ({ ecs: stack.ecs.mutations().length, github: stack.world.github.mutations().length });
  const deployProd = async (tag: string, actor: string, idToken?: string) =>
    deployOutcome(await startDeploy(stack.client, { app: 'api', env: 'production', tag, actor, idToken, reason: 'identity test' }, { taskQueue: tq }));
  it('a valid token proves the actor; the typed login may differ only in case', async () => {
    const token = await issuer().mint('alice');
    const outcome = await deployProd(B, 'Alice', token);
    assert.equal(outcome.ok, true, outcome.ok ? '' : outcome.message);
    if (outcome.ok) assert.equal(outcome.result.tag, B);
    const progress = await stack.client.workflow.getHandle('deploy/api/production').query<{ log: string[] }>('progress');
    assert.ok(
      progress.log.some((l) =>
        /@alice proven by a GitHub Actions ID token \(workflow WordPress\/openverse\/\.github\/workflows\/production\.yml@refs\/heads\/main, run \d+\)/.test(l),
      ),
      progress.log.join('\n'),
    );
  });

  it('refuses a missing, stale, foreign or forged token, saying why, and changes nothing', async () => {
    const cases: { name: string; actor: string; token: () => Promise<string | undefined>; message: RegExp }[] = [
      { name: 'no token', actor: 'alice', token: async () => undefined, message: /needs a proven identity \(identity mode oidc\): @alice was only named.*id-token: write/ },
      { name: 'expired', actor: 'alice', token: () => issuer().mint('alice', {}, { expiresIn: -120 }), message: /identity token was refused: it has expired/ },
      { name: 'wrong audience', actor: 'alice', token: () => issuer().mint('alice', { aud: 'sts.amazonaws.com' }), message: /its audience is not 'slipway'/ },
      {
        name: 'wrong issuer',
        actor: 'alice',
        token: () => issuer().mint('alice', { iss: 'https://token.actions.example.org' }),
        message: /it was not issued by http:\/\/127\.0\.0\.1:\d+/,
      },
      {
        name: 'wrong repository',
        actor: 'alice',
        token: () => issuer().mint('alice', { repository: 'mallory/openverse-fork' }),
        message: /comes from a workflow of mallory\/openverse-fork, and only WordPress\/openverse may act here/,
      },
      { name: 'bad signature', actor: 'alice', token: () => issuer().mint('alice', {}, { foreignKey: true }), message: /its signature does not verify/ },
      { name: 'alg none', actor: 'alice', token: () => issuer().mint('alice', {}, { unsigned: true }), message: /not signed with RS256 \(unsigned tokens are never accepted\)/ },
      { name: 'unknown kid', actor: 'alice', token: () => issuer().mint('alice', {}, { unknownKid: true }), message: /unknown key ID/ },
      { name: 'typed actor is not the proven one', actor: 'bob', token: () => issuer().mint('alice'), message: /the identity token proves @alice, but the request names @bob/ },
      {
        name: 'proven outsider',
        actor: OUTSIDER,
        token: () => issuer().mint(OUTSIDER),
        message: /@mallory may not deploy api production: only members of WordPress\/openverse-maintainers/,
      },
    ];
    for (const c of cases) {
      const before = mutations();
      const token = await c.token();
      const outcome = await deployProd(C, c.actor, token);
      assert.equal(outcome.ok, false, `${c.name}: accepted`);
      if (outcome.ok) continue;
      assert.equal(outcome.type, FailureType.unauthorized, `${c.name}: ${outcome.type} ${outcome.message}`);
      assert.match(outcome.message, c.message, c.name);
      if (token) assert.ok(!outcome.message.includes(token), `${c.name}: the message quotes the token`);
      assert.deepEqual(mutations(), before, `${c.name}: something was changed`);
    }
    // A rollback is refused the same way, before it preempts or deploys anything.
    const before = mutations();
    const rb = await deployOutcome(await startRollback(stack.client, { app: 'api', env: 'production', tag: B, actor: 'alice' }, { taskQueue: tq }));
    assert.equal(rb.ok, false);
    if (!rb.ok) assert.match(rb.message, /rollback api production needs a proven identity/);
    assert.deepEqual(mutations(), before);
  });

  it('picks up a rotated signing key (unknown kid → JWKS fetched again)', async () => {
    const fetchesBefore = issuer().jwksFetches();
    await issuer().rotate({ retireOld: true });
    const token = await issuer().mint('bob');
    const outcome = await deployProd(C, 'bob', token);
    assert.equal(outcome.ok, true, outcome.ok ? '' : outcome.message);
    assert.ok(issuer().jwksFetches() > fetchesBefore, 'the keys were not fetched again');
  });

  it('the CLI in GitHub Actions sends its ID token (audience from the config); a different --actor is refused naming both', async () => {
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: stack.temporal.address,
      SLIPWAY_CONFIG: stack.configPath,
      SLIPWAY_TASK_QUEUE: tq,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const before = mutations();
    const asked = issuer().requests().length;
    const refused = await run(join(REPO_ROOT, 'bin', 'slipway'), ['deploy', 'api', 'production', B, '--actor', 'bob'], { ...env, ...issuer().actionsEnv('alice') });
    assert.equal(refused.code, 5, refused.stderr);
    assert.match(refused.stdout + refused.stderr, /the identity token proves @alice, but the request names @bob/);
    assert.deepEqual(mutations(), before);
    const requests = issuer().requests().slice(asked);
    assert.deepEqual(requests, [{ audience: 'slipway', actor: 'alice' }]);
    assert.doesNotMatch(refused.stdout + refused.stderr, /eyJ[A-Za-z0-9_-]{20,}/, 'the token was printed');

    const ok = await run(join(REPO_ROOT, 'bin', 'slipway'), ['deploy', 'api', 'production', B], { ...env, ...issuer().actionsEnv('octocat') });
    assert.equal(ok.code, 0, ok.stderr);
    assert.doesNotMatch(ok.stdout + ok.stderr, /eyJ[A-Za-z0-9_-]{20,}/, 'the token was printed');
    const status = await run(join(REPO_ROOT, 'bin', 'slipway'), ['status', 'api'], env);
    assert.equal(status.code, 0, status.stderr);
    assert.match(
      status.stdout,
      /^Identity:\n {2}staging: trusted-caller — whoever can reach Temporal names the actor\n {2}production: oidc — a GitHub Actions ID token must prove the actor$/m,
    );
  });

  describe('pipeline approvals and control', () => {
    const handle = () => stack.client.workflow.getHandle(pipelineWorkflowId('api'));
    const state = () => handle().query(pipelineStateQuery);
    const until = (what: string, pred: (s: PipelineState) => boolean) => pipelineUntil(stack, 'api', what, pred);
    const commit = async (title: string) => {
      const sha = stack.world.github.addCommit(OWNER, REPO, { message: title });
      await stack.world.pushTags(sha);
      return sha;
    };
    const temporal = (args: string[]) => run(toolPath('TEMPORAL_CLI_PATH'), [...args, '--address', stack.temporal.address], process.env);
    const refusedUpdate = (re: RegExp) => (err: Error) => {
      assert.ok(err instanceof WorkflowUpdateFailedError, String(err));
      assert.match(String(err.cause?.message), re);
      return true;
    };

    it("a raw `temporal workflow signal` naming a maintainer without a token is refused and recorded; a raw update with a maintainer's token is accepted", async () => {
      const sha = await commit('Add audio search');
      await reportMerge(stack.client, 'api', { sha, actor: 'Dhruv', title: 'Add audio search' }, { taskQueue: tq });
      await until('candidate awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === sha);

      const sig = await temporal([
        'workflow',
        'signal',
        '--workflow-id',
        pipelineWorkflowId('api'),
        '--name',
        'approveSignal',
        '--input',
        JSON.stringify({ tag: sha, approver: 'alice' }),
      ]);
      assert.equal(sig.code, 0, sig.stderr);
      let s = await until('the signal refused', (x) => x.approvals.some((a) => a.via === 'signal' && a.refused));
      const refusal = s.approvals.find((a) => a.via === 'signal' && a.refused)!;
      assert.match(refusal.refused!, /approve api production needs a proven identity.*@alice was only named/);
      assert.equal(s.phase, 'awaiting_approval');

      const forged = await temporal([
        'workflow',
        'update',
        'execute',
        '--workflow-id',
        pipelineWorkflowId('api'),
        '--name',
        'approve',
        '--input',
        JSON.stringify({ tag: sha, approver: 'alice', idToken: await issuer().mint('bob') }),
      ]);
      assert.notEqual(forged.code, 0);
      assert.match(forged.stdout + forged.stderr, /the identity token proves @bob, but the request names @alice/);

      const token = await issuer().mint('alice');
      const upd = await temporal([
        'workflow',
        'update',
        'execute',
        '--workflow-id',
        pipelineWorkflowId('api'),
        '--name',
        'approve',
        '--input',
        JSON.stringify({ tag: sha, approver: 'alice', idToken: token }),
      ]);
      assert.equal(upd.code, 0, upd.stdout + upd.stderr);
      assert.ok(!upd.stdout.includes(token), 'the update answer carries the token');
      s = await until('released', (x) => x.history.some((h) => h.sha === sha && h.outcome === 'released'));
      const accepted = s.approvals.find((a) => a.tag === sha && !a.refused && a.decision === 'approve')!;
      assert.equal(accepted.approver, 'alice');
      assert.equal(accepted.proven?.actor, 'alice');
      assert.match(accepted.proven?.workflowRef ?? '', /production\.yml@refs\/heads\/main$/);
      assert.ok(!JSON.stringify(s).includes(token), 'the pipeline state keeps the token');
    });

    /** @alice's approval alone is refused as the merger's; @bob's then releases the candidate. */
    const mergerAloneRefused = async (sha: string) => {
      await assert.rejects(
        handle().executeUpdate(approveUpdate, { args: [{ tag: sha, approver: 'alice', idToken: await issuer().mint('alice') }] }),
        refusedUpdate(/@alice merged .* and may not approve it alone/),
      );
      assert.equal((await state()).phase, 'awaiting_approval');
      await handle().executeUpdate(approveUpdate, { args: [{ tag: sha, approver: 'bob', idToken: await issuer().mint('bob') }] });
      await until('released', (x) => x.history.some((h) => h.sha === sha && h.outcome === 'released'));
    };

    it('the merger cannot approve alone under another case of their login', async () => {
      const sha = await commit('Fix pagination');
      await reportMerge(stack.client, 'api', { sha, actor: 'Alice', title: 'Fix pagination' }, { taskQueue: tq });
      await until('candidate awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === sha);
      await mergerAloneRefused(sha);
    });

    it('the merger GitHub records cannot approve alone, whatever name the merge was reported under', async () => {
      const sha = await commit('Cache audio waveforms');
      const pull = stack.world.github.addMergedPull(OWNER, REPO, { title: 'Cache audio waveforms', author: 'zack', mergedBy: 'alice', mergedAt: Date.now(), mergeCommitSha: sha });
      await reportMerge(stack.client, 'api', { sha, actor: 'zack', title: 'Cache audio waveforms' }, { taskQueue: tq });
      const s = await until('candidate awaiting approval', (x) => x.phase === 'awaiting_approval' && x.candidate?.sha === sha);
      assert.equal(s.candidate?.mergedBy, 'alice');
      assert.ok(
        s.history.some((h) => h.sha === sha && h.note === `reported as merged by @zack; GitHub says @alice merged #${pull}`),
        JSON.stringify(s.history),
      );
      await mergerAloneRefused(sha);
      await saveHistory(handle(), 'pipeline-merger');
    });

    it('`Alice` and `alice` are one approver', async () => {
      stack.setConfig((raw) => (raw.apps.api.pipeline.approvals = 2));
      try {
        const sha = await commit('Faster thumbnails');
        await reportMerge(stack.client, 'api', { sha, actor: 'zack', title: 'Faster thumbnails' }, { taskQueue: tq });
        await until('candidate awaiting approval', (s) => s.phase === 'awaiting_approval' && s.candidate?.sha === sha);
        await handle().executeUpdate(approveUpdate, { args: [{ tag: sha, approver: 'Alice', idToken: await issuer().mint('alice') }] });
        await assert.rejects(
          handle().executeUpdate(approveUpdate, { args: [{ tag: sha, approver: '@alice', idToken: await issuer().mint('alice') }] }),
          refusedUpdate(/@@?alice already approved/),
        );
        assert.equal((await state()).phase, 'awaiting_approval', 'one person counted twice');
        await handle().executeUpdate(approveUpdate, { args: [{ tag: sha, approver: 'octocat', idToken: await issuer().mint('octocat') }] });
        await until('released', (x) => x.history.some((h) => h.sha === sha && h.outcome === 'released'));
      } finally {
        stack.resetConfig();
      }
    });

    it('pause, resume and cancel need an authorised, proven actor', async () => {
      const before = (await state()).paused;
      assert.equal(before, false);
      await assert.rejects(handle().executeUpdate(pauseUpdate, { args: [{ actor: 'alice' }] }), refusedUpdate(/control the pipeline of api needs a proven identity/));
      await assert.rejects(
        handle().executeUpdate(pauseUpdate, { args: [{ actor: OUTSIDER, idToken: await issuer().mint(OUTSIDER) }] }),
        refusedUpdate(/@mallory may not control the pipeline of api: only members of WordPress\/openverse-maintainers/),
      );
      let s = await state();
      assert.equal(s.paused, false);
      assert.equal(s.history.filter((h) => h.outcome === 'refused').length, 2);

      s = await handle().executeUpdate(pauseUpdate, { args: [{ actor: 'octocat', idToken: await issuer().mint('octocat'), reason: 'incident' }] });
      assert.equal(s.paused, true);
      const sha = await commit('Queued while paused');
      await reportMerge(stack.client, 'api', { sha, actor: 'zack', title: 'Queued while paused' }, { taskQueue: tq });
      await until('queued', (x) => x.queue.some((e) => e.sha === sha && e.status === 'waiting'));
      await assert.rejects(handle().executeUpdate(cancelEntryUpdate, { args: [{ sha, actor: 'zack' }] }), refusedUpdate(/needs a proven identity/));
      assert.equal((await state()).queue.find((e) => e.sha === sha)?.status, 'waiting');
      const entry = await handle().executeUpdate(cancelEntryUpdate, { args: [{ sha, actor: 'bob', idToken: await issuer().mint('bob') }] });
      assert.equal(entry.status, 'cancelled');
      s = await handle().executeUpdate(resumeUpdate, { args: [{ actor: 'alice', idToken: await issuer().mint('alice') }] });
      assert.equal(s.paused, false);
      await saveHistory(handle(), 'pipeline-identity');
    });
  });
});
