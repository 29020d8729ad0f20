/**
 * The release workflow end to end: the GitHub sandbox (tags, releases, notes, changelog
 * PR), the real registry (aliases), the ECS sandbox and sites (production deploy), and a
 * Slack receiver (notifications).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deployOutcome, startRelease } from '../client/operations';
import { imageAlias } from '../domain/release';
import { startSlackReceiver, type SlackReceiver } from '../sandbox/slack';
import { FailureType, type ReleaseResult } from '../contract';
import { freshTaskQueue, startStack, startWorker, type RunningWorker, type Stack } from './harness';
import { saveHistory } from './histories';

const OWNER = 'WordPress';
const REPO = 'openverse';

describe('release', () => {
  let stack: Stack;
  let worker: RunningWorker;
  let slack: SlackReceiver;
  let tq: string;
  let sha: string;
  before(async () => {
    slack = await startSlackReceiver();
    stack = await startStack({
      timing: { taskStartMs: 200, healthyMs: 200, drainMs: 150 },
      configure: (raw) => {
        raw.deploy = { ...raw.deploy, verifyBudgetMinutes: 0.1 };
        raw.notifications = { slack: { webhookUrlEnv: 'SLACK_WEBHOOK_URL', users: { alice: 'U0ALICE' }, maintainersMention: '<!subteam^S0MAINT>' }, githubDeployments: true };
      },
    });
    const gh = stack.world.github;
    gh.addMergedPull(OWNER, REPO, { title: 'Add audio waveform', author: 'dhruv', mergedAt: '2026-11-01T10:00:00Z', labels: ['🧱 stack: api', '🌟 goal: addition'] });
    gh.addMergedPull(OWNER, REPO, { title: 'Fix search pagination', author: 'zack', mergedAt: '2026-11-02T10:00:00Z', labels: ['🧱 stack: api', '🛠 goal: fix'] });
    gh.addMergedPull(OWNER, REPO, { title: 'Bump deps', author: 'bot', mergedAt: '2026-11-03T10:00:00Z', labels: ['🧱 stack: api', 'skip-changelog'] });
    gh.addMergedPull(OWNER, REPO, { title: 'Frontend only', author: 'olga', mergedAt: '2026-11-03T11:00:00Z', labels: ['🧱 stack: frontend', '🛠 goal: fix'] });
    sha = gh.addCommit(OWNER, REPO, { message: 'Merge #42' });
    await stack.world.pushTags(sha);
    tq = freshTaskQueue('release');
    worker = await startWorker(stack, tq, { SLACK_WEBHOOK_URL: slack.url });
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
    await slack?.close();
  });

  it('tags, writes notes, aliases every image, deploys production and opens the changelog PR', async () => {
    stack.world.github.resetRequests();
    const handle = await startRelease(stack.client, { app: 'api', tag: sha, actor: 'alice' }, { taskQueue: tq });
    const outcome = await deployOutcome<ReleaseResult>(handle);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    const r = outcome.result;
    assert.match(r.name, /^api-\d{4}\.\d{2}\.\d{2}\.\d{2}\.\d{2}\.\d{2}$/);
    const date = r.name.slice('api-'.length);

    const gh = stack.world.github;
    const releases = gh.releases(OWNER, REPO);
    assert.equal(releases.length, 1);
    assert.equal(releases[0].tagName, r.name);
    assert.equal(gh.refs(OWNER, REPO)[`refs/tags/${r.name}`], sha);
    const body = releases[0].body ?? '';
    assert.match(body, /## New Features\n+- Add audio waveform \(#\d+\) by @dhruv/);
    assert.match(body, /## Bug Fixes\n+- Fix search pagination \(#\d+\) by @zack/);
    assert.doesNotMatch(body, /Bump deps|Frontend only/);

    // rel-<date> points at exactly the SHA's manifest for both images.
    assert.equal(r.aliases.length, 2);
    for (const a of r.aliases) {
      assert.equal(a.created, true);
      const tags = await fetch(`${stack.world.registry.url}/v2/${a.repository.split('/').slice(1).join('/')}/tags/list`).then((x) => x.json() as Promise<{ tags: string[] }>);
      assert.ok(tags.tags.includes(imageAlias(date)), `${a.repository}: ${tags.tags}`);
    }

    assert.equal(r.deploy?.env, 'production');
    assert.equal(stack.world.site.release('api-production'), sha);

    const pulls = gh.pulls(OWNER, REPO).filter((p) => p.title === `Publish changelog for ${r.name}`);
    assert.equal(pulls.length, 1);
    assert.match(pulls[0].body ?? '', /@alice/);
    const file = gh.file(OWNER, REPO, `documentation/changelogs/api/${date}.md`, `changelog/${r.name}`);
    assert.ok(file?.startsWith(`# ${date}\n`), file);

    // The repository's environments page shows what runs in production.
    const deployments = gh.deployments(OWNER, REPO).filter((d) => d.environment === 'production-api');
    assert.equal(deployments.length, 1);
    assert.equal(deployments[0].sha, sha);
    assert.deepEqual(
      deployments[0].statuses.map((x) => x.state),
      ['in_progress', 'success'],
    );

    const texts = slack.messages.map((m) => m.text as string);
    assert.ok(
      texts.some((t) => /api-\d{4}/.test(t) && /<@U0ALICE>/.test(t)),
      texts.join('\n---\n'),
    );
    assert.equal(gh.contractViolations.length, 0);
    await saveHistory(handle, 'release-succeeded');
  });

  it('the same release again creates nothing and answers with the existing release', async () => {
    const gh = stack.world.github;
    gh.resetRequests();
    stack.ecs.resetCalls();
    slack.reset();
    const outcome = await deployOutcome<ReleaseResult>(await startRelease(stack.client, { app: 'api', tag: sha, actor: 'bob' }, { taskQueue: tq }));
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.existing, true);
    assert.deepEqual(
      gh.mutations().map((m) => `${m.method} ${m.path}`),
      [],
    );
    assert.ok(outcome.result.aliases.every((a) => !a.created));
    assert.equal(gh.releases(OWNER, REPO).length, 1);
    assert.deepEqual(stack.ecs.mutations(), [], 'production already runs it: nothing deployed again');
    assert.deepEqual(slack.messages, [], 'nothing done, nothing announced');
  });

  it('a release-only app is tagged and released, and not deployed', async () => {
    const outcome = await deployOutcome<ReleaseResult>(await startRelease(stack.client, { app: 'ingestion_server', tag: sha, actor: 'alice' }, { taskQueue: tq }));
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    if (!outcome.ok) return;
    assert.equal(outcome.result.releaseOnly, true);
    assert.equal(outcome.result.deploy, undefined);
    assert.match(outcome.result.name, /^ingestion_server-/);
  });

  it('an unauthorised actor and an unknown SHA are refused before any write', async () => {
    const gh = stack.world.github;
    gh.resetRequests();
    stack.ecs.resetCalls();
    const unauthorised = await deployOutcome(await startRelease(stack.client, { app: 'frontend', tag: sha, actor: 'mallory' }, { taskQueue: tq }));
    assert.equal(unauthorised.ok, false);
    if (!unauthorised.ok) assert.equal(unauthorised.type, FailureType.unauthorized);
    const unknown = await deployOutcome(await startRelease(stack.client, { app: 'frontend', tag: 'e'.repeat(40), actor: 'alice' }, { taskQueue: tq }));
    assert.equal(unknown.ok, false);
    if (!unknown.ok) {
      assert.equal(unknown.type, FailureType.notFound);
      assert.match(unknown.message, /'e{40}' does not appear to be a valid tag for the openverse-frontend image\./);
    }
    assert.deepEqual(gh.mutations(), []);
    assert.deepEqual(stack.ecs.mutations(), []);
  });

  it('a production deploy that ECS rolls back marks the release failed and tells the maintainers', async () => {
    const bad = stack.world.github.addCommit(OWNER, REPO, { message: 'Merge #43' });
    await stack.world.pushTags(bad);
    stack.ecs.failImage(`openverse-frontend:${bad}`, { reason: 'nuxt crashed on boot' });
    slack.reset();
    try {
      const handle = await startRelease(stack.client, { app: 'frontend', tag: bad, actor: 'alice' }, { taskQueue: tq });
      const outcome = await deployOutcome(handle);
      assert.equal(outcome.ok, false);
      if (outcome.ok) return;
      assert.equal(outcome.type, FailureType.rolledBack);
      const rel = stack.world.github.releases(OWNER, REPO).find((r) => r.tagName.startsWith('frontend-'));
      assert.ok(rel, 'the release exists: the tag stays truthful');
      assert.match(rel.body ?? '', /fail/i);
      const failure = slack.messages.map((m) => JSON.stringify(m)).find((m) => /S0MAINT/.test(m));
      assert.ok(failure, 'maintainers were mentioned');
      assert.match(failure, /nuxt crashed on boot/);
      await saveHistory(handle, 'release-deploy-rolled-back');
    } finally {
      stack.ecs.clearFailures();
    }
  });
});
