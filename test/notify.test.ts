/**
 * Notifications: rendering of Slack messages and GitHub deployment states (tables), the
 * Slack activity against the local webhook receiver, and the GitHub deployment activity
 * against the GitHub sandbox, over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Octokit } from '@octokit/rest';
import { createGitHubClient } from '../activities/github';
import { createNotifyActivities, EXECUTION_MARKER, NotificationUnavailable, redactWebhook } from '../activities/notify';
import { ClientRejected, NON_RETRYABLE } from '../domain/errors';
import { escapeSlack, githubDeploymentDescription, githubDeploymentState, SLACK_MAX_BLOCKS, SLACK_SECTION_TEXT_MAX, slackMessage, type NotifyEvent } from '../domain/notify';
import { startGitHubSandbox, type GitHubSandbox } from '../sandbox/github';
import { slackPayloadProblem, startSlackReceiver, type SlackReceiver } from '../sandbox/slack';

const SHA = '3f2c1a9d8e7b6c5a4f3e2d1c0b9a8f7e6d5c4b3a';
const RUN = 'http://localhost:8233/namespaces/default/workflows/deploy%2Fapi%2Fstaging/0b9f1c2d/history';
const IDS = { alice: 'U123ABC', Carol: 'W0CAROL' };
const MAINTAINERS = '<!subteam^S0MAINT>';

function event(over: Partial<NotifyEvent> = {}): NotifyEvent {
  return { kind: 'deploy', phase: 'started', app: 'api', env: 'staging', tag: SHA, actor: 'alice', executionUrl: RUN, ...over };
}

/** Every mrkdwn/plain text in a message's blocks. */
function texts(blocks: unknown[]): string[] {
  const out: string[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ((o.type === 'mrkdwn' || o.type === 'plain_text') && typeof o.text === 'string') out.push(o.text);
      Object.values(o).forEach(walk);
    }
  };
  walk(blocks);
  return out;
}

function firstSection(blocks: unknown[]): string {
  return (blocks[0] as { text: { text: string } }).text.text;
}

function retryable(err: unknown): boolean {
  return err instanceof Error && !(NON_RETRYABLE as readonly string[]).includes(err.name);
}

// ---------------------------------------------------------------------------------------
// Rendering

describe('slackMessage', () => {
  const table: { name: string; ev: Partial<NotifyEvent>; first: string }[] = [
    {
      name: 'deploy started, actor mapped',
      ev: {},
      first: `:rocket: A deployment of *staging-api* triggered by <@U123ABC> is starting using the \`${SHA}\` tag.`,
    },
    {
      name: 'deploy started, actor unmapped',
      ev: { actor: 'bob' },
      first: `:rocket: A deployment of *staging-api* triggered by @bob is starting using the \`${SHA}\` tag.`,
    },
    {
      name: 'deploy started, mapping ignores case and a leading @',
      ev: { actor: '@carol', env: 'production', app: 'frontend', service: 'production-nuxt' },
      first: `:rocket: A deployment of *production-nuxt* triggered by <@W0CAROL> is starting using the \`${SHA}\` tag.`,
    },
    {
      name: 'deploy succeeded',
      ev: { phase: 'succeeded' },
      first: `:white_check_mark: The deployment of *staging-api* triggered by <@U123ABC> using the \`${SHA}\` tag succeeded.`,
    },
    {
      name: 'deploy failed',
      ev: { phase: 'failed', outcome: 'rolled_back_by_ecs', failure: 'circuit breaker tripped' },
      first: `:x: The deployment of *staging-api* triggered by <@U123ABC> using the \`${SHA}\` tag failed.`,
    },
    {
      name: 'rollback started',
      ev: { kind: 'rollback', env: 'production' },
      first: `:rocket: A rollback of *production-api* triggered by <@U123ABC> is starting back to the \`${SHA}\` tag.`,
    },
    {
      name: 'rollback succeeded',
      ev: { kind: 'rollback', env: 'production', phase: 'succeeded' },
      first: `:white_check_mark: The rollback of *production-api* triggered by <@U123ABC> back to the \`${SHA}\` tag succeeded.`,
    },
    {
      name: 'rollback failed',
      ev: { kind: 'rollback', env: 'production', phase: 'failed', outcome: 'timed_out' },
      first: `:x: The rollback of *production-api* triggered by <@U123ABC> back to the \`${SHA}\` tag failed.`,
    },
    {
      name: 'release started',
      ev: { kind: 'release', env: undefined, releaseName: 'api-2023.03.22.04.56.29' },
      first: `:rocket: A release of *api* (\`api-2023.03.22.04.56.29\`) triggered by <@U123ABC> is starting from the \`${SHA}\` tag.`,
    },
    {
      name: 'release succeeded',
      ev: { kind: 'release', env: undefined, releaseName: 'api-2023.03.22.04.56.29', phase: 'succeeded' },
      first: `:white_check_mark: The release of *api* (\`api-2023.03.22.04.56.29\`) triggered by <@U123ABC> from the \`${SHA}\` tag succeeded.`,
    },
    {
      name: 'release failed',
      ev: { kind: 'release', env: undefined, releaseName: 'api-2023.03.22.04.56.29', phase: 'failed', failure: 'tag exists' },
      first: `:x: The release of *api* (\`api-2023.03.22.04.56.29\`) triggered by <@U123ABC> from the \`${SHA}\` tag failed.`,
    },
    {
      name: 'refused',
      ev: { phase: 'failed', outcome: 'refused', actor: 'mallory', failure: '@mallory may not deploy api staging' },
      first: `:x: The deployment of *staging-api* requested by @mallory using the \`${SHA}\` tag was refused.`,
    },
  ];

  for (const row of table) {
    test(row.name, () => {
      const ev = event(row.ev);
      const m = slackMessage(ev, IDS, { maintainersMention: MAINTAINERS });
      assert.equal(firstSection(m.blocks), row.first);
      assert.equal(slackPayloadProblem(m), undefined, 'Slack would accept it');
      // The plain fallback carries the same sentence (without the icon) and the link.
      assert.ok(m.text.startsWith(row.first.replace(/^:[a-z_]+: /, '')), m.text);
      assert.ok(m.text.includes(`<${RUN}|View the run in Temporal>`));
      // The link to the execution is in the context line.
      const context = m.blocks.at(-1) as { type: string; elements: { text: string }[] };
      assert.equal(context.type, 'context');
      assert.ok(context.elements[0].text.startsWith(`<${RUN}|View the run in Temporal>`));
      // Maintainers are mentioned on failures only.
      const mentioned = texts(m.blocks).some((t) => t.includes(MAINTAINERS));
      assert.equal(mentioned, ev.phase === 'failed');
      assert.equal(m.text.includes(MAINTAINERS), ev.phase === 'failed');
    });
  }

  test('a failure carries its outcome and message', () => {
    const m = slackMessage(event({ phase: 'failed', outcome: 'rolled_back_by_ecs', failure: 'ECS deployment circuit breaker: tasks failed to start' }), IDS);
    const all = texts(m.blocks).join('\n');
    assert.match(all, /\*Rolled back by ECS\* ECS's deployment circuit breaker rolled the service back/);
    assert.match(all, /```ECS deployment circuit breaker: tasks failed to start```/);
    assert.match(m.text, /Rolled back by ECS: ECS deployment circuit breaker: tasks failed to start\./);
    for (const [outcome, title] of [
      ['timed_out', 'Timed out'],
      ['verification_failed', 'Verification failed'],
      ['failed', 'Failed'],
    ]) {
      assert.match(texts(slackMessage(event({ phase: 'failed', outcome }), IDS).blocks).join('\n'), new RegExp(`\\*${title}\\*`));
    }
  });

  test("user text is escaped per Slack's rules; config mentions and mapped IDs are not", () => {
    const m = slackMessage(
      event({
        phase: 'failed',
        reason: '<script>alert(1)</script> & <!channel>',
        failure: 'boom <@U999> <https://evil.example|click>',
        stoppedReasons: ['Essential container <nginx> exited & stopped'],
        actor: '<!here>',
      }),
      { '<!here>': 'U1' },
      { maintainersMention: MAINTAINERS },
    );
    const all = JSON.stringify(m);
    assert.ok(!all.includes('<script>'));
    assert.ok(all.includes('&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;'));
    assert.ok(!all.includes('<!channel>') && !all.includes('<!here>') && !all.includes('<@U999>') && !all.includes('<https://evil'));
    assert.ok(all.includes('Essential container &lt;nginx&gt; exited &amp; stopped'));
    assert.ok(all.includes(MAINTAINERS));
    // A mention that is not a well-formed Slack mention is shown as text.
    const odd = slackMessage(event({ phase: 'failed' }), {}, { maintainersMention: '<!channel> & <script>' });
    assert.ok(JSON.stringify(odd).includes('&lt;!channel&gt; &amp; &lt;script&gt;'));
    // A Slack ID that is not one is not used as a mention.
    assert.equal(firstSection(slackMessage(event(), { alice: '<!channel>' }).blocks).includes('@alice'), true);
  });

  test('very many stopped reasons stay within Slack limits', () => {
    const reasons = [
      ...Array.from({ length: 400 }, (_, i) => `Task failed ELB health checks in (target-group ${i}) & ${'x'.repeat(150)}`),
      ...Array.from({ length: 30 }, () => 'Essential container in task exited'),
      'y'.repeat(5000),
    ];
    const m = slackMessage(event({ phase: 'failed', outcome: 'failed', failure: `<${'f'.repeat(10_000)}>`, reason: 'r'.repeat(10_000), stoppedReasons: reasons }), IDS, {
      maintainersMention: MAINTAINERS,
    });
    assert.ok(m.blocks.length <= SLACK_MAX_BLOCKS);
    for (const t of texts(m.blocks)) assert.ok(t.length <= SLACK_SECTION_TEXT_MAX, `a text of ${t.length} characters`);
    assert.equal(slackPayloadProblem(m), undefined);
    const stopped = texts(m.blocks).find((t) => t.startsWith('*Stopped tasks*'))!;
    assert.ok(stopped.startsWith(`*Stopped tasks* (${reasons.length}):`));
    assert.match(stopped, /_…and \d+ more distinct reasons_$/);
    // Cut texts end cleanly: no half entity, the code block closed.
    const failure = texts(m.blocks).find((t) => t.includes('```'))!;
    assert.ok(failure.endsWith('…```'), failure.slice(-20));
    assert.ok(!/&[a-z]{0,3}…/.test(JSON.stringify(m)));
    assert.ok(m.text.length < 2000);
    // Repeated reasons are counted once.
    const few = slackMessage(event({ phase: 'failed', stoppedReasons: ['OOM', 'OOM', 'OOM', 'exit 1'] }), IDS);
    const list = texts(few.blocks).find((t) => t.startsWith('*Stopped tasks*'))!;
    assert.equal(list, '*Stopped tasks* (4):\n• OOM (×3)\n• exit 1');
  });

  test('a non-http execution URL is shown as text, not a link', () => {
    const m = slackMessage(event({ executionUrl: 'javascript:alert(1)' }), IDS);
    assert.ok(!m.text.includes('<javascript:'));
  });
});

describe('GitHub deployment state and description', () => {
  const table: [Partial<NotifyEvent>, string][] = [
    [{ phase: 'started' }, 'in_progress'],
    [{ phase: 'succeeded' }, 'success'],
    [{ phase: 'failed', outcome: 'rolled_back_by_ecs' }, 'failure'],
    [{ phase: 'failed', outcome: 'timed_out' }, 'failure'],
    [{ phase: 'failed', outcome: 'verification_failed' }, 'failure'],
    [{ phase: 'failed', outcome: 'failed' }, 'failure'],
    [{ phase: 'failed' }, 'failure'],
    [{ phase: 'failed', outcome: 'refused' }, 'error'],
    [{ phase: 'failed', outcome: 'superseded' }, 'inactive'],
  ];
  for (const [ev, state] of table) {
    test(`${ev.phase} ${ev.outcome ?? ''} → ${state}`, () => {
      assert.equal(githubDeploymentState(event(ev)), state);
    });
  }

  test('descriptions are short plain text', () => {
    assert.equal(githubDeploymentDescription(event()), 'Deploying 3f2c1a9 to staging-api (@alice)');
    assert.equal(githubDeploymentDescription(event({ phase: 'succeeded' })), 'Deployed 3f2c1a9 to staging-api (@alice)');
    assert.equal(githubDeploymentDescription(event({ kind: 'rollback', env: 'production' })), 'Rolling production-api back to 3f2c1a9 (@alice)');
    const long = githubDeploymentDescription(event({ phase: 'failed', outcome: 'rolled_back_by_ecs', failure: 'z'.repeat(1000) }));
    assert.equal(long.length, 140);
    assert.ok(long.startsWith('Rolled back by ECS: zzz') && long.endsWith('…'));
  });
});

test('escapeSlack escapes exactly &, < and >', () => {
  assert.equal(escapeSlack(`a & b < c > d "e" 'f'`), `a &amp; b &lt; c &gt; d "e" 'f'`);
});

// ---------------------------------------------------------------------------------------
// Slack activity

describe('notifySlack', () => {
  const SECRET = 'sEcReTwEbHoOkToKeN0123456789';
  const PATH = `/services/T0WORK/B0HOOK/${SECRET}`;
  let slack: SlackReceiver;
  const errors: unknown[] = [];

  function acts(webhookUrl = slack.url, extra: { fetch?: typeof fetch; slackTimeoutMs?: number } = {}) {
    const quiet = () => {};
    const logs: string[] = [];
    const a = createNotifyActivities({
      slack: { webhookUrl, slackIds: IDS, maintainersMention: MAINTAINERS },
      log: { debug: quiet, info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
      ...extra,
    });
    return { a, logs };
  }

  /** Runs `fn`, expecting it to throw; keeps the error for the redaction check. */
  async function failure(fn: () => Promise<unknown>): Promise<Error> {
    try {
      await fn();
    } catch (err) {
      errors.push(err);
      assert.ok(err instanceof Error);
      return err;
    }
    assert.fail('expected an error');
  }

  before(async () => {
    slack = await startSlackReceiver({ path: PATH });
  });
  after(async () => {
    await slack?.close();
  });

  test('posts the rendered message', async () => {
    slack.reset();
    const ev = event({ phase: 'failed', outcome: 'timed_out', failure: 'no healthy tasks after 10m', stoppedReasons: ['OOM'] });
    assert.deepEqual(await acts().a.notifySlack(ev), { sent: true });
    assert.equal(slack.messages.length, 1);
    assert.deepEqual(slack.messages[0], slackMessage(ev, IDS, { maintainersMention: MAINTAINERS }));
  });

  test('500 then ok: the first call fails retryably, the retry is delivered', async () => {
    slack.reset();
    slack.failNext(1, 500);
    const { a, logs } = acts();
    const err = await failure(() => a.notifySlack(event()));
    assert.ok(err instanceof NotificationUnavailable);
    assert.equal(err.name, 'NotificationUnavailable');
    assert.ok(retryable(err));
    assert.match(err.message, /Slack answered 500 internal_error/);
    assert.deepEqual(await a.notifySlack(event()), { sent: true });
    assert.equal(slack.messages.length, 1);
    assert.ok(logs.some((l) => l.includes('not sent')));
  });

  test('429 is retryable and carries retry-after', async () => {
    slack.reset();
    slack.failNext(1, 429, 7);
    const err = await failure(() => acts().a.notifySlack(event()));
    assert.ok(err instanceof NotificationUnavailable && retryable(err));
    assert.equal(err.retryAfterSeconds, 7);
    assert.match(err.message, /rate-limited.*retry after 7s/);
  });

  test('400 is ClientRejected, never retried', async () => {
    slack.reset();
    slack.failNext(1, 400);
    const err = await failure(() => acts().a.notifySlack(event()));
    assert.ok(err instanceof ClientRejected);
    assert.ok(!retryable(err));
    assert.match(err.message, /Slack refused the message \(400 invalid_payload\): the message was malformed/);
    assert.equal(slack.messages.length, 0);
  });

  test('a revoked webhook (404 no_service) is ClientRejected', async () => {
    const wrong = slack.url.replace(SECRET, `${SECRET}x`);
    const err = await failure(() => acts(wrong).a.notifySlack(event()));
    assert.ok(err instanceof ClientRejected);
    assert.match(err.message, /404 no_service.*check the configured webhook URL/);
  });

  test('an unreachable Slack is retryable', async () => {
    const closed = await startSlackReceiver({ path: PATH });
    const url = closed.url;
    await closed.close();
    const err = await failure(() => acts(url).a.notifySlack(event()));
    assert.ok(err instanceof NotificationUnavailable && retryable(err));
    assert.match(err.message, /Slack could not be reached/);
  });

  test('a slow Slack times out retryably', async () => {
    const hang: typeof fetch = (_url, init) => new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal?.reason)));
    const err = await failure(() => acts(slack.url, { fetch: hang, slackTimeoutMs: 50 }).a.notifySlack(event()));
    assert.ok(err instanceof NotificationUnavailable);
    assert.match(err.message, /did not answer within 0.05s/);
  });

  test("fetch's own errors are redacted", async () => {
    const leaky: typeof fetch = async (url) => {
      throw new TypeError(`fetch failed for ${String(url)}`, { cause: new Error(`connect to ${String(url)} refused`) });
    };
    const err = await failure(() => acts(slack.url, { fetch: leaky }).a.notifySlack(event()));
    assert.ok(err instanceof NotificationUnavailable);
    assert.match(err.message, /fetch failed for \[redacted\]: connect to \[redacted\] refused/);
    const badUrl = await failure(() => acts(`not a url ${SECRET}`).a.notifySlack(event()));
    assert.equal(badUrl.name, 'BadInput');
    assert.equal(redactWebhook(`x ${slack.url} y ${PATH} z ${SECRET}`, slack.url), 'x [redacted] y [redacted] z [redacted]');
  });

  test('no Slack configured: nothing sent, said so', async () => {
    assert.deepEqual(await createNotifyActivities({}).notifySlack(event()), { sent: false, skipped: 'no Slack webhook is configured' });
  });

  test('the webhook URL appears in no error', () => {
    assert.ok(errors.length >= 7);
    for (const err of errors) {
      const e = err as Error;
      for (const text of [e.message, String(e.stack), String(e), JSON.stringify(e)]) {
        assert.ok(!text.includes(SECRET), `leaked in: ${text}`);
        assert.ok(!text.includes('B0HOOK'), `leaked in: ${text}`);
      }
      assert.equal((e as { cause?: unknown }).cause, undefined);
    }
  });
});

// ---------------------------------------------------------------------------------------
// GitHub deployments activity

describe('githubDeployment', () => {
  const TOKEN = 'ghp_notifySandboxToken';
  const OWNER = 'WordPress';
  const REPO = 'openverse';
  let gh: GitHubSandbox;
  let sha: string;

  function octokit(): Octokit {
    const quiet = () => {};
    return createGitHubClient({ token: TOKEN, baseUrl: gh.url, secondMs: 5, log: { debug: quiet, info: quiet, warn: quiet, error: quiet } });
  }

  function acts(client = octokit()) {
    const quiet = () => {};
    return createNotifyActivities({
      github: { octokit: client, owner: OWNER, repo: REPO },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
    });
  }

  function deploymentsOf(executionUrl: string) {
    return gh.deployments(OWNER, REPO).filter((d) => typeof d.payload === 'object' && d.payload[EXECUTION_MARKER] === executionUrl);
  }

  before(async () => {
    gh = await startGitHubSandbox({ token: TOKEN });
    sha = gh.addRepo(OWNER, REPO);
  });
  after(async () => {
    await gh?.close();
  });

  test('started then succeeded: one deployment, in_progress → success', async () => {
    const a = acts();
    const run = `${RUN}?case=1`;
    const ev = event({ tag: sha, executionUrl: run });
    const { deploymentId } = await a.githubDeployment(ev);
    assert.ok(deploymentId);
    assert.deepEqual(await a.githubDeployment({ ...ev, phase: 'succeeded', deploymentId, environmentUrl: 'https://api-staging.openverse.org' }), { deploymentId });
    const [d, ...rest] = deploymentsOf(run);
    assert.equal(rest.length, 0);
    assert.equal(d.id, deploymentId);
    assert.equal(d.environment, 'staging-api');
    assert.equal(d.ref, sha);
    assert.equal(d.production, false);
    assert.equal(d.transient, false);
    assert.deepEqual(d.payload, { kind: 'deploy', app: 'api', env: 'staging', tag: sha, actor: 'alice', [EXECUTION_MARKER]: run });
    assert.deepEqual(
      d.statuses.map((s) => s.state),
      ['in_progress', 'success'],
    );
    assert.ok(d.statuses.every((s) => s.logUrl === run && s.description.length <= 140));
    assert.equal(d.statuses[1].environmentUrl, 'https://api-staging.openverse.org');
    // Posting the same final status again adds nothing.
    await a.githubDeployment({ ...ev, phase: 'succeeded', deploymentId });
    assert.equal(deploymentsOf(run)[0].statuses.length, 2);
  });

  test('a production failure: production environment, failure status, found without the id', async () => {
    const a = acts();
    const run = `${RUN}?case=2`;
    const ev = event({ tag: sha, env: 'production', executionUrl: run });
    const { deploymentId } = await a.githubDeployment(ev);
    const res = await a.githubDeployment({ ...ev, phase: 'failed', outcome: 'rolled_back_by_ecs', failure: 'circuit breaker' });
    assert.equal(res.deploymentId, deploymentId);
    const [d] = deploymentsOf(run);
    assert.equal(d.environment, 'production-api');
    assert.equal(d.production, true);
    assert.deepEqual(
      d.statuses.map((s) => [s.state, s.description]),
      [
        ['in_progress', `Deploying ${sha.slice(0, 7)} to production-api (@alice)`],
        ['failure', 'Rolled back by ECS: circuit breaker'],
      ],
    );
  });

  test('a retry after a lost answer does not create a second deployment', async () => {
    const client = octokit();
    let dropped = 0;
    client.hook.wrap('request', async (request, options) => {
      const res = await request(options);
      if (options.method === 'POST' && String(options.url).endsWith('/deployments') && dropped === 0) {
        dropped++;
        throw new Error('socket hang up');
      }
      return res;
    });
    const a = acts(client);
    const run = `${RUN}?case=3`;
    const ev = event({ tag: sha, executionUrl: run });
    const err = await a.githubDeployment(ev).then(
      () => assert.fail('expected the lost answer to fail the attempt'),
      (e: unknown) => e as Error,
    );
    assert.equal(err.name, 'GitHubUnavailable');
    assert.ok(retryable(err));
    assert.equal(deploymentsOf(run).length, 1, 'GitHub did create it');

    const { deploymentId } = await a.githubDeployment(ev);
    const all = deploymentsOf(run);
    assert.equal(all.length, 1);
    assert.equal(all[0].id, deploymentId);
    assert.deepEqual(
      all[0].statuses.map((s) => s.state),
      ['in_progress'],
    );
    // Once more: still one deployment, one status.
    await a.githubDeployment(ev);
    assert.equal(deploymentsOf(run).length, 1);
    assert.equal(deploymentsOf(run)[0].statuses.length, 1);
  });

  test('an unknown ref is ClientRejected; no environment or no config is skipped', async () => {
    const err = await acts()
      .githubDeployment(event({ tag: 'f'.repeat(40), executionUrl: `${RUN}?case=4` }))
      .then(
        () => assert.fail('expected a refusal'),
        (e: unknown) => e as Error,
      );
    assert.ok(err instanceof ClientRejected, String(err));
    assert.match(err.message, /No ref found/);
    assert.match((await acts().githubDeployment(event({ kind: 'release', env: undefined }))).skipped ?? '', /no environment/);
    assert.deepEqual(await createNotifyActivities({}).githubDeployment(event()), { skipped: 'GitHub deployments are not configured' });
  });

  test('every sandbox answer conformed to GitHub’s OpenAPI description', () => {
    assert.deepEqual(gh.contractViolations, []);
  });
});
