/**
 * GitHub: authorisation by team membership, the client's retries, error mapping, and the
 * GitHub sandbox itself (its state, and the OpenAPI check of every answer), over real HTTP.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { Octokit } from '@octokit/rest';
import { createGitHubActivities, createGitHubClient, rethrowGitHub, type AuthorizationPolicy, type GitHubClientOptions } from '../activities/github';
import { ClientRejected, NON_RETRYABLE, NotFound, Unauthorized } from '../domain/errors';
import { startGitHubSandbox, type GitHubSandbox } from '../sandbox/github';
import { PRUNED_OPENAPI_FILE, SOURCE_MODULE, pruneOpenApi, renderOpenApi, type OpenApiDocument } from '../sandbox/github/openapi';
import { ROUTE_KEYS } from '../sandbox/github/routes';

const TOKEN = 'ghp_sandboxTokenThatMustNeverBeLogged';
const ORG = 'WordPress';
const TEAM = 'openverse-maintainers';
const POLICY: AuthorizationPolicy = { org: ORG, team: TEAM, allow: ['openverse-bot'] };
const REFUSAL = `only members of ${ORG}/${TEAM} (or the allowed bots: @openverse-bot) may`;

let gh: GitHubSandbox;

/** A client on the sandbox in shrunk time (5 ms per second of waiting), with its log lines. */
function client(extra: Partial<GitHubClientOptions> = {}): { github: Octokit; logs: string[] } {
  const logs: string[] = [];
  const line = (level: string) => (m: string) => logs.push(`${level} ${m}`);
  const github = createGitHubClient({
    token: TOKEN,
    baseUrl: gh.url,
    secondMs: 5,
    log: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') },
    ...extra,
  });
  return { github, logs };
}

function activities(extra: Partial<GitHubClientOptions> = {}, policy: Partial<AuthorizationPolicy> = {}, pageSize?: number) {
  const { github, logs } = client(extra);
  return { acts: createGitHubActivities({ github, policy: { ...POLICY, ...policy }, pageSize }), github, logs };
}

function membershipRequests() {
  return gh.requests.filter((r) => r.operationId === 'teams/get-membership-for-user-in-org');
}

/** Asserts `err` is a retryable failure named `name` (not in the non-retryable list). */
function retryable(name: string) {
  return (err: unknown) => {
    assert.ok(err instanceof Error);
    assert.equal(err.name, name);
    assert.ok(!(NON_RETRYABLE as readonly string[]).includes(err.name));
    return true;
  };
}

before(async () => {
  gh = await startGitHubSandbox({ token: TOKEN });
  gh.addTeam(ORG, TEAM, ['alice', 'bob'], { pending: ['carol'], maintainers: ['dora'] });
  gh.addUser('mallory');
});

after(async () => {
  await gh?.close();
});

describe('checkAuthorized', () => {
  test('a team member is authorised through one membership call', async () => {
    const { acts } = activities();
    gh.resetRequests();
    assert.deepEqual(await acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' }), {
      actor: 'alice',
      via: 'team',
      team: `${ORG}/${TEAM}`,
    });
    assert.deepEqual(
      gh.requests.map((r) => `${r.method} ${r.path} ${r.status}`),
      [`GET /orgs/${ORG}/teams/${TEAM}/memberships/alice 200`],
    );
    assert.equal((await acts.checkAuthorized({ actor: '@dora', operation: 'deploy api production' })).via, 'team');
  });

  test('an allow-listed bot is authorised without any API call', async () => {
    const { acts } = activities();
    gh.resetRequests();
    assert.deepEqual(await acts.checkAuthorized({ actor: 'OpenVerse-Bot', operation: 'deploy api production' }), {
      actor: 'OpenVerse-Bot',
      via: 'allow-list',
    });
    assert.equal(gh.requests.length, 0);
  });

  test('a non-member is refused, naming who may', async () => {
    const { acts } = activities();
    await assert.rejects(acts.checkAuthorized({ actor: 'mallory', operation: 'rollback api production' }), (err: unknown) => {
      assert.ok(err instanceof Unauthorized);
      assert.equal(err.name, 'Unauthorized');
      assert.equal(err.message, `@mallory may not rollback api production: ${REFUSAL}`);
      return true;
    });
  });

  test('an invitee whose invitation is pending is refused', async () => {
    const { acts } = activities();
    gh.resetRequests();
    await assert.rejects(acts.checkAuthorized({ actor: 'carol', operation: 'deploy frontend production' }), (err: unknown) => {
      assert.ok(err instanceof Unauthorized);
      assert.ok(err.message.startsWith(`@carol may not deploy frontend production: ${REFUSAL}`), err.message);
      assert.match(err.message, /pending/);
      return true;
    });
    // The sandbox did answer 200 with state "pending": the refusal is the activity's reading of it.
    assert.deepEqual(
      membershipRequests().map((r) => r.status),
      [200],
    );
  });

  test('a malformed actor is bad input, and nothing is asked', async () => {
    const { acts } = activities();
    gh.resetRequests();
    await assert.rejects(acts.checkAuthorized({ actor: 'alice/../../x', operation: 'deploy api staging' }), { name: 'BadInput' });
    assert.equal(gh.requests.length, 0);
  });

  test('an unknown team is NotFound, not a refusal of the actor', async () => {
    const { acts } = activities({}, { team: 'no-such-team' });
    await assert.rejects(acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' }), (err: unknown) => {
      assert.ok(err instanceof NotFound);
      assert.match(err.message, /WordPress\/no-such-team was not found/);
      return true;
    });
  });

  test('a token GitHub rejects (401) is Unauthorized, pointing at GITHUB_TOKEN and read:org', async () => {
    const { acts, logs } = activities({ token: 'ghp_wrong' });
    gh.resetRequests();
    await assert.rejects(acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' }), (err: unknown) => {
      assert.ok(err instanceof Unauthorized);
      assert.match(err.message, /GITHUB_TOKEN/);
      assert.match(err.message, /read:org/);
      assert.match(err.message, /Bad credentials/);
      return true;
    });
    assert.deepEqual(
      gh.requests.map((r) => r.status),
      [401],
    );
    assert.ok(!logs.join('\n').includes('ghp_wrong'));
  });
});

describe('listTeamMembers', () => {
  test('lists every member of a 75-member team across 3 pages', async () => {
    const logins = Array.from({ length: 75 }, (_, i) => `contributor-${String(i).padStart(2, '0')}`);
    gh.addTeam(ORG, 'big-team', logins, { pending: ['not-yet'] });
    const { acts } = activities({}, { team: 'big-team' }, 30);
    gh.resetRequests();
    const members = await acts.listTeamMembers();
    assert.equal(members.length, 75);
    assert.deepEqual(members, logins);
    assert.deepEqual(
      gh.requests.map((r) => `${r.path}${r.query} ${r.status}`),
      [
        `/orgs/${ORG}/teams/big-team/members?per_page=30 200`,
        `/orgs/${ORG}/teams/big-team/members?per_page=30&page=2 200`,
        `/orgs/${ORG}/teams/big-team/members?per_page=30&page=3 200`,
      ],
    );
  });

  test('an unknown team is NotFound', async () => {
    const { acts } = activities({}, { team: 'no-such-team' });
    await assert.rejects(acts.listTeamMembers(), NotFound);
  });
});

describe('retries', () => {
  test('a primary rate limit (403, remaining 0, reset a second ahead) is waited out, then succeeds', async () => {
    const { acts, logs } = activities();
    gh.resetRequests();
    gh.setFaults({ rateLimitEvery: 2, rateLimitResetSeconds: 1 });
    try {
      for (const actor of ['alice', 'bob', 'dora']) {
        assert.equal((await acts.checkAuthorized({ actor, operation: 'deploy api staging' })).via, 'team');
      }
    } finally {
      gh.setFaults({});
    }
    assert.deepEqual(
      membershipRequests().map((r) => r.status),
      [200, 403, 200, 403, 200],
    );
    const waits = logs.filter((l) => /^warn GitHub rate limit on GET \/orgs\/\{org\}\/teams\/\{team_slug\}\/memberships\/\{username\}: retrying in \d+s/.test(l));
    assert.equal(waits.length, 2, logs.join('\n'));
    assert.ok(!logs.join('\n').includes(TOKEN));
  });

  test('secondary rate limits (403 and 429 with retry-after) are waited out, then succeed', async () => {
    const { acts, logs } = activities();
    gh.resetRequests();
    gh.setFaults({ secondaryRateLimitRate: 0.5, retryAfterSeconds: 1, seed: 3 });
    try {
      for (let i = 0; i < 8; i++) {
        assert.equal((await acts.checkAuthorized({ actor: i % 2 ? 'alice' : 'bob', operation: 'deploy api staging' })).via, 'team');
      }
    } finally {
      gh.setFaults({});
    }
    const statuses = membershipRequests().map((r) => r.status);
    assert.ok(statuses.includes(403) && statuses.includes(429), statuses.join(','));
    assert.equal(statuses.filter((s) => s === 200).length, 8);
    assert.ok(
      logs.some((l) => /secondary rate limit on GET .*: retrying in 1s/.test(l)),
      logs.join('\n'),
    );
  });

  test('5xx answers are retried, then succeed', async () => {
    const { acts, logs } = activities();
    gh.resetRequests();
    gh.setFaults({ errorRate: 0.3, seed: 11 });
    try {
      for (let i = 0; i < 8; i++) {
        assert.equal((await acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' })).via, 'team');
      }
    } finally {
      gh.setFaults({});
    }
    const statuses = membershipRequests().map((r) => r.status);
    assert.ok(statuses.includes(502), statuses.join(','));
    assert.equal(statuses.filter((s) => s === 200).length, 8);
    assert.ok(
      logs.some((l) => /failed with 502 \(attempt 1 of 4\); retrying/.test(l)),
      logs.join('\n'),
    );
  });

  test('a rate limit that outlasts the retries fails retryably', async () => {
    const { acts } = activities({ rateLimitRetries: 2 });
    gh.resetRequests();
    gh.setFaults({ rateLimitEvery: 1 });
    try {
      await assert.rejects(acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' }), retryable('GitHubRateLimited'));
    } finally {
      gh.setFaults({});
    }
    assert.deepEqual(
      membershipRequests().map((r) => r.status),
      [403, 403, 403],
    );
  });

  test('a reset further away than the client waits fails retryably at once', async () => {
    const { acts, logs } = activities({ maxRateLimitWaitSeconds: 30 });
    gh.resetRequests();
    gh.setFaults({ rateLimitEvery: 1, rateLimitResetSeconds: 3600 });
    try {
      await assert.rejects(acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' }), retryable('GitHubRateLimited'));
    } finally {
      gh.setFaults({});
    }
    assert.equal(membershipRequests().length, 1);
    assert.ok(
      logs.some((l) => /longer than the 30s waited in-client/.test(l)),
      logs.join('\n'),
    );
  });

  test('a server that keeps failing fails retryably after the bounded retries', async () => {
    const { acts } = activities();
    gh.resetRequests();
    gh.setFaults({ errorRate: 1 });
    try {
      await assert.rejects(acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' }), retryable('GitHubUnavailable'));
    } finally {
      gh.setFaults({});
    }
    assert.deepEqual(
      membershipRequests().map((r) => r.status),
      [502, 502, 502, 502],
    );
  });
});

describe('release endpoints through Octokit', () => {
  const OWNER = ORG;
  const REPO = 'openverse';
  let mainSha: string;

  before(() => {
    mainSha = gh.addRepo(OWNER, REPO);
  });

  test('create a release (which tags the target), read it back, refuse a duplicate with 422', async () => {
    const { github } = client();
    const tag = 'api-2023.03.22.04.56.29';
    const created = await github.rest.repos.createRelease({ owner: OWNER, repo: REPO, tag_name: tag, name: tag, body: '## New Features\n', target_commitish: mainSha });
    assert.equal(created.status, 201);
    assert.equal(created.data.tag_name, tag);
    assert.equal(created.data.author.login, 'openverse-bot');
    assert.equal(gh.refs(OWNER, REPO)[`refs/tags/${tag}`], mainSha);

    const byTag = await github.rest.repos.getReleaseByTag({ owner: OWNER, repo: REPO, tag });
    assert.equal(byTag.data.id, created.data.id);

    const dup = await github.rest.repos.createRelease({ owner: OWNER, repo: REPO, tag_name: tag }).then(
      () => assert.fail('a duplicate release was created'),
      (err: any) => err,
    );
    assert.equal(dup.status, 422);
    assert.equal(dup.response.data.message, 'Validation Failed');
    assert.deepEqual(dup.response.data.errors, [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
    assert.throws(() => rethrowGitHub(dup, 'creating the release'), ClientRejected);

    const updated = await github.rest.repos.updateRelease({ owner: OWNER, repo: REPO, release_id: created.data.id, body: 'edited' });
    assert.equal(updated.data.body, 'edited');
    assert.equal((await github.rest.repos.listReleases({ owner: OWNER, repo: REPO })).data.length, 1);
    assert.equal(gh.releases(OWNER, REPO).length, 1);
  });

  test('branch, file and pull request: create, list by head, refuse a duplicate', async () => {
    const { github } = client();
    const branch = 'changelog/api-2023.03.22.04.56.29';
    const ref = await github.rest.git.createRef({ owner: OWNER, repo: REPO, ref: `refs/heads/${branch}`, sha: mainSha });
    assert.equal(ref.status, 201);
    assert.equal((await github.rest.git.getRef({ owner: OWNER, repo: REPO, ref: `heads/${branch}` })).data.object.sha, mainSha);
    await assert.rejects(github.rest.git.createRef({ owner: OWNER, repo: REPO, ref: `refs/heads/${branch}`, sha: mainSha }), {
      status: 422,
      message: /Reference already exists/,
    });

    const path = 'documentation/changelogs/api/2023.03.22.04.56.29.md';
    const file = await github.rest.repos.createOrUpdateFileContents({
      owner: OWNER,
      repo: REPO,
      path,
      branch,
      message: 'Publish changelog for api-2023.03.22.04.56.29',
      content: Buffer.from('# 2023.03.22.04.56.29\n').toString('base64'),
    });
    assert.equal(file.status, 201);
    assert.equal(gh.file(OWNER, REPO, path, branch), '# 2023.03.22.04.56.29\n');
    assert.equal(gh.file(OWNER, REPO, path), undefined);

    const pr = await github.rest.pulls.create({
      owner: OWNER,
      repo: REPO,
      head: branch,
      base: 'main',
      title: 'Publish changelog for api-2023.03.22.04.56.29',
      body: 'Pinging @alice',
    });
    assert.equal(pr.status, 201);
    assert.equal(pr.data.head.ref, branch);

    const byHead = await github.rest.pulls.list({ owner: OWNER, repo: REPO, head: `${OWNER}:${branch}`, state: 'open' });
    assert.deepEqual(
      byHead.data.map((p) => p.number),
      [pr.data.number],
    );
    assert.equal((await github.rest.pulls.list({ owner: OWNER, repo: REPO, head: `${OWNER}:other` })).data.length, 0);

    const dup = await github.rest.pulls.create({ owner: OWNER, repo: REPO, head: branch, base: 'main', title: 'again' }).then(
      () => assert.fail('a duplicate pull request was created'),
      (err: any) => err,
    );
    assert.equal(dup.status, 422);
    assert.match(dup.response.data.errors[0].message, /A pull request already exists for WordPress:changelog\/api-/);
    assert.equal(gh.pulls(OWNER, REPO).length, 1);
  });

  test('deployments and their statuses', async () => {
    const { github } = client();
    const d = await github.rest.repos.createDeployment({
      owner: OWNER,
      repo: REPO,
      ref: mainSha,
      environment: 'staging-api',
      auto_merge: false,
      required_contexts: [],
      payload: { tag: mainSha },
    });
    assert.equal(d.status, 201);
    const id = (d.data as { id: number }).id;
    const s = await github.rest.repos.createDeploymentStatus({
      owner: OWNER,
      repo: REPO,
      deployment_id: id,
      state: 'success',
      environment_url: 'https://api-staging.openverse.org',
    });
    assert.equal(s.data.state, 'success');
    const list = await github.rest.repos.listDeployments({ owner: OWNER, repo: REPO, environment: 'staging-api' });
    assert.deepEqual(
      list.data.map((x) => x.id),
      [id],
    );
    assert.deepEqual(
      gh.deployments(OWNER, REPO)[0].statuses.map((x) => x.state),
      ['success'],
    );
  });

  test('search finds merged pull requests by label and merge date', async () => {
    const { github } = client();
    const api = '🧱 stack: api';
    gh.addMergedPull(OWNER, REPO, { title: 'Old', author: 'alice', labels: [api, '🌟 goal: addition'], mergedAt: '2023-01-01T00:00:00Z' });
    const want = gh.addMergedPull(OWNER, REPO, { title: 'New', author: 'bob', labels: [api, '🛠 goal: fix'], mergedAt: '2023-03-01T00:00:00Z' });
    gh.addMergedPull(OWNER, REPO, { title: 'Frontend', author: 'bob', labels: ['🧱 stack: frontend'], mergedAt: '2023-03-02T00:00:00Z' });
    gh.addMergedPull(OWNER, REPO, { title: 'Skipped', author: 'bob', labels: [api, 'skip-changelog'], mergedAt: '2023-03-03T00:00:00Z' });
    const res = await github.rest.search.issuesAndPullRequests({
      q: `repo:${OWNER}/${REPO} is:pr is:merged label:"${api}" -label:skip-changelog merged:>2023-02-01T00:00:00Z`,
    });
    assert.equal(res.data.total_count, 1);
    assert.equal(res.data.items[0].number, want);
    assert.equal(res.data.items[0].user?.login, 'bob');
  });

  test('mutations() lists the applied changes only', () => {
    const applied = gh.mutations().map((m) => `${m.method} ${m.operationId} ${m.status}`);
    assert.ok(applied.includes('POST repos/create-release 201'));
    assert.ok(applied.includes('POST pulls/create 201'));
    assert.ok(!applied.some((m) => m.endsWith(' 422')));
  });
});

describe('the OpenAPI contract check', () => {
  test('a non-conforming answer becomes a 500 and a recorded violation', async () => {
    const own = await startGitHubSandbox({ token: TOKEN });
    try {
      own.addUser('alice');
      own.addTeam(ORG, TEAM, ['alice']);
      const github = createGitHubClient({ token: TOKEN, baseUrl: own.url, secondMs: 5, serverErrorRetries: 0, log: { debug() {}, info() {}, warn() {}, error() {} } });

      own.corruptNextResponse('users/get-by-username', (body) => {
        delete body.login;
      });
      await assert.rejects(github.rest.users.getByUsername({ username: 'alice' }), { status: 500, message: /does not conform to GitHub's OpenAPI description/ });
      own.corruptNextResponse('teams/get-membership-for-user-in-org', (body) => {
        body.state = 'invited';
      });
      const acts = createGitHubActivities({ github, policy: POLICY });
      await assert.rejects(acts.checkAuthorized({ actor: 'alice', operation: 'deploy api staging' }), retryable('GitHubUnavailable'));

      assert.deepEqual(
        own.contractViolations.map((v) => [v.operationId, v.status]),
        [
          ['users/get-by-username', 200],
          ['teams/get-membership-for-user-in-org', 200],
        ],
      );
      assert.ok(own.contractViolations[0].errors.includes("(body) must have required property 'login'"), own.contractViolations[0].errors.join('\n'));
      assert.ok(own.contractViolations[1].errors.some((e) => e.startsWith('/state must be equal to one of the allowed values')));
      // Once the corruption is spent, the same calls conform again.
      assert.equal((await github.rest.users.getByUsername({ username: 'alice' })).data.login, 'alice');
      assert.equal(own.contractViolations.length, 2);
    } finally {
      await own.close();
    }
  });

  test('every answer of the other tests conformed', () => {
    assert.deepEqual(gh.contractViolations, []);
  });
});

describe('the pruned OpenAPI description the sandbox validates against', () => {
  test('is what npm run github-openapi writes from the pinned @octokit/openapi and the routes', () => {
    const source = JSON.parse(readFileSync(require.resolve(SOURCE_MODULE), 'utf8')) as OpenApiDocument;
    const expected = pruneOpenApi(source, ROUTE_KEYS);
    const committed = readFileSync(PRUNED_OPENAPI_FILE, 'utf8');
    const operations = (doc: OpenApiDocument) => Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    assert.deepEqual(operations(JSON.parse(committed) as OpenApiDocument), operations(expected), 'the operations differ from the routes: run npm run github-openapi');
    assert.ok(committed === renderOpenApi(expected), `${PRUNED_OPENAPI_FILE} is not what @octokit/openapi ${source.info.version} gives: run npm run github-openapi`);
  });
});
