/**
 * Releases: the pure names, dates and notes (by table), and the release activities against
 * the GitHub sandbox through Octokit — one tag, one release, one branch, one file, one pull
 * request per release, and nothing new when anything runs again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Octokit } from '@octokit/rest';
import { createGitHubClient } from '../activities/github';
import { createReleaseActivities, type ReleaseDeps } from '../activities/release';
import { BadInput, ClientRejected, NotFound } from '../domain/errors';
import {
  appLabel,
  changelogBody,
  changelogBranch,
  changelogFile,
  changelogPath,
  changelogTitle,
  FAILED_MARKER,
  imageAlias,
  OPENVERSE_CATEGORIES,
  parseReleaseName,
  readReleaseMarker,
  releaseDate,
  releaseDateToIso,
  releaseMarker,
  releaseName,
  releaseNotes,
  withFailureNotice,
  type NotesPull,
} from '../domain/release';
import { startGitHubSandbox, type GitHubSandbox } from '../sandbox/github';

// ---------------------------------------------------------------------------------------
// Domain

describe('release dates and names', () => {
  const dates: [string, Date, string][] = [
    ['Openverse example', new Date(Date.UTC(2023, 2, 22, 4, 56, 29)), '2023.03.22.04.56.29'],
    ['single-digit month, day, hour, minute, second', new Date(Date.UTC(2024, 0, 5, 7, 8, 9)), '2024.01.05.07.08.09'],
    ['milliseconds dropped, not rounded', new Date(Date.UTC(2024, 1, 29, 0, 0, 0, 999)), '2024.02.29.00.00.00'],
    ['last second of a year', new Date(Date.UTC(2023, 11, 31, 23, 59, 59)), '2023.12.31.23.59.59'],
    ['an offset time is written in UTC', new Date('2023-03-22T06:56:29+02:00'), '2023.03.22.04.56.29'],
    ['UTC day differs from the local one', new Date('2023-01-01T01:30:00+05:00'), '2022.12.31.20.30.00'],
  ];
  for (const [name, at, want] of dates) {
    test(`releaseDate: ${name}`, () => assert.equal(releaseDate(at), want));
  }

  test('releaseDate refuses an invalid time', () => {
    assert.throws(() => releaseDate(new Date('nope')), BadInput);
  });

  test('names, alias, paths, branch and title exactly as Openverse spells them', () => {
    const d = '2023.03.22.04.56.29';
    assert.equal(releaseName('api', d), 'api-2023.03.22.04.56.29');
    assert.equal(releaseName('ingestion_server', d), 'ingestion_server-2023.03.22.04.56.29');
    assert.equal(imageAlias(d), 'rel-2023.03.22.04.56.29');
    assert.equal(changelogPath('frontend', d), 'documentation/changelogs/frontend/2023.03.22.04.56.29.md');
    assert.equal(changelogBranch('api', d), 'changelog/api-2023.03.22.04.56.29');
    assert.equal(changelogTitle('api', d), 'Publish changelog for api-2023.03.22.04.56.29');
  });

  const badDates = ['2023.3.22.04.56.29', '2023-03-22T04:56:29Z', '2023.13.01.00.00.00', '2023.02.30.00.00.00', '2023.03.22.24.00.00', ''];
  for (const bad of badDates) {
    test(`a malformed or impossible date is refused: ${JSON.stringify(bad)}`, () => {
      assert.throws(() => releaseName('api', bad), BadInput);
      assert.throws(() => imageAlias(bad), BadInput);
      assert.throws(() => changelogPath('api', bad), BadInput);
      assert.equal(releaseDateToIso(bad), undefined);
    });
  }

  test('a malformed app name is refused', () => {
    for (const app of ['', 'API', 'api/x', '../api', 'api 2']) assert.throws(() => releaseName(app, '2023.03.22.04.56.29'), BadInput, app);
  });

  const parsed: [string, ReturnType<typeof parseReleaseName>][] = [
    ['api-2023.03.22.04.56.29', { app: 'api', date: '2023.03.22.04.56.29', iso: '2023-03-22T04:56:29Z' }],
    ['ingestion_server-2024.01.05.07.08.09', { app: 'ingestion_server', date: '2024.01.05.07.08.09', iso: '2024-01-05T07:08:09Z' }],
    ['api-next-2023.03.22.04.56.29', { app: 'api-next', date: '2023.03.22.04.56.29', iso: '2023-03-22T04:56:29Z' }],
    ['api-2023.02.30.00.00.00', undefined],
    ['api-2023.03.22', undefined],
    ['api', undefined],
    ['v1.2.3', undefined],
    ['Api-2023.03.22.04.56.29', undefined],
    ['-2023.03.22.04.56.29', undefined],
  ];
  for (const [name, want] of parsed) {
    test(`parseReleaseName(${JSON.stringify(name)})`, () => assert.deepEqual(parseReleaseName(name), want));
  }

  test('parse(name(app, date(at))) gives back the app, the date and the moment', () => {
    const at = new Date(Date.UTC(2025, 8, 1, 9, 0, 5));
    const p = parseReleaseName(releaseName('frontend', releaseDate(at)));
    assert.deepEqual(p, { app: 'frontend', date: '2025.09.01.09.00.05', iso: at.toISOString().replace('.000Z', 'Z') });
  });

  test('the changelog pull request body pings the actor and links the release', () => {
    const url = 'https://github.com/WordPress/openverse/releases/tag/api-2023.03.22.04.56.29';
    for (const actor of ['alice', '@alice']) {
      const body = changelogBody(actor, url);
      assert.match(body, /(^|\s)@alice\b/);
      assert.ok(!body.includes('@@'));
      assert.ok(body.includes(url));
    }
    assert.throws(() => changelogBody('', url), BadInput);
  });

  test('app labels: Openverse defaults, a mapping of ones own, the convention for others', () => {
    assert.equal(appLabel('api'), '🧱 stack: api');
    assert.equal(appLabel('frontend'), '🧱 stack: frontend');
    assert.equal(appLabel('ingestion_server'), '🧱 stack: ingestion server');
    assert.equal(appLabel('catalog'), '🧱 stack: catalog');
    assert.equal(appLabel('api', { api: 'app: api' }), 'app: api');
  });

  test('the changelog file is the date heading and the notes', () => {
    assert.equal(changelogFile('2023.03.22.04.56.29', '## Bug Fixes\n\n- Fix (#1) by @a\n\n'), '# 2023.03.22.04.56.29\n\n## Bug Fixes\n\n- Fix (#1) by @a\n');
  });

  test('the release marker reads back, and a failure notice is added once', () => {
    const sha = 'a'.repeat(40);
    const body = `notes\n\n${releaseMarker('api', sha)}\n`;
    assert.deepEqual(readReleaseMarker(body), { app: 'api', sha });
    assert.equal(readReleaseMarker('notes'), undefined);
    const once = withFailureNotice(body, 'ECS rolled the service back:\n  the tasks failed their health checks');
    assert.ok(once.startsWith(FAILED_MARKER));
    assert.match(once, /failed\*\*: ECS rolled the service back: the tasks failed their health checks\.\n>\n> Production may still run the previous release\.\n/);
    assert.ok(once.endsWith(body));
    assert.equal(withFailureNotice(once, 'another reason'), once);
  });
});

describe('releaseNotes', () => {
  const api = '🧱 stack: api';
  const pr = (number: number, title: string, author: string, ...labels: string[]): NotesPull => ({ number, title, author, labels: [api, ...labels] });

  test('grouped by category in the configured order, one line per pull request', () => {
    const notes = releaseNotes(
      [
        pr(12, 'Fix the search crash', 'bob', '🛠 goal: fix'),
        pr(10, 'Add audio waveforms', 'alice', '🌟 goal: addition'),
        pr(11, 'Faster thumbnails', 'carol', '✨ goal: improvement'),
        pr(14, 'Use uv for dependencies', 'dora', '🧰 goal: internal improvement'),
        pr(13, 'Better dev setup', 'erin', '🤖 aspect: dx'),
        pr(9, 'Add an endpoint', 'alice', '🌟 goal: addition'),
      ],
      OPENVERSE_CATEGORIES,
    );
    assert.equal(
      notes,
      [
        '## New Features',
        '',
        '- Add an endpoint (#9) by @alice',
        '- Add audio waveforms (#10) by @alice',
        '',
        '## Improvements',
        '',
        '- Faster thumbnails (#11) by @carol',
        '',
        '## Internal Improvements',
        '',
        '- Better dev setup (#13) by @erin',
        '- Use uv for dependencies (#14) by @dora',
        '',
        '## Bug Fixes',
        '',
        '- Fix the search crash (#12) by @bob',
      ].join('\n'),
    );
  });

  test('skip-changelog is left out, whatever else it is labelled', () => {
    const notes = releaseNotes([pr(1, 'Feature', 'a', '🌟 goal: addition'), pr(2, 'Bump deps', 'b', '🌟 goal: addition', 'skip-changelog')], OPENVERSE_CATEGORIES);
    assert.equal(notes, '## New Features\n\n- Feature (#1) by @a');
  });

  test('a custom skip label', () => {
    const notes = releaseNotes([pr(1, 'Feature', 'a', '🌟 goal: addition', 'no-notes')], OPENVERSE_CATEGORIES, { skipLabel: 'no-notes' });
    assert.match(notes, /1 labelled no-notes/);
  });

  test('a pull request in several categories is listed once, under the first category in order; one given twice once', () => {
    const notes = releaseNotes(
      [pr(5, 'Fix and improve', 'a', '🛠 goal: fix', '✨ goal: improvement'), pr(5, 'Fix and improve', 'a', '🛠 goal: fix', '✨ goal: improvement')],
      OPENVERSE_CATEGORIES,
    );
    assert.equal(notes, '## Improvements\n\n- Fix and improve (#5) by @a');
  });

  test('pull requests in no category go under "Other", last, or are left out on request', () => {
    const pulls = [pr(3, 'Unlabelled change', 'x'), pr(4, 'Fix', 'y', '🛠 goal: fix')];
    assert.equal(releaseNotes(pulls, OPENVERSE_CATEGORIES), '## Bug Fixes\n\n- Fix (#4) by @y\n\n## Other\n\n- Unlabelled change (#3) by @x');
    assert.equal(releaseNotes(pulls, OPENVERSE_CATEGORIES, { otherTitle: false }), '## Bug Fixes\n\n- Fix (#4) by @y');
  });

  test('labels match case-insensitively; titles are put on one line', () => {
    const notes = releaseNotes([{ number: 7, title: '  Fix\n  the  thing ', author: '@z', labels: ['🛠 GOAL: FIX', 'Skip-Changelog-not'] }], OPENVERSE_CATEGORIES);
    assert.equal(notes, '## Bug Fixes\n\n- Fix the thing (#7) by @z');
  });

  test('an empty release says so', () => {
    assert.equal(releaseNotes([], OPENVERSE_CATEGORIES), 'No pull requests were merged since the previous release.');
    assert.equal(
      releaseNotes([pr(1, 'Bump', 'a', 'skip-changelog'), pr(2, 'Odd', 'b')], OPENVERSE_CATEGORIES, { otherTitle: false }),
      'No pull requests merged since the previous release need a changelog entry (1 labelled skip-changelog, 1 in no release-notes category).',
    );
  });
});

// ---------------------------------------------------------------------------------------
// Activities against the GitHub sandbox

const TOKEN = 'ghp_releaseSandboxToken';
const OWNER = 'WordPress';
const API = '🧱 stack: api';

let gh: GitHubSandbox;
let repoCount = 0;

before(async () => {
  gh = await startGitHubSandbox({ token: TOKEN });
});

after(async () => {
  await gh?.close();
});

function client(): Octokit {
  return createGitHubClient({ token: TOKEN, baseUrl: gh.url, secondMs: 2, log: { debug() {}, info() {}, warn() {}, error() {} } });
}

/** A fresh repository and the release activities over it. */
function setup(extra: Partial<ReleaseDeps> = {}) {
  const repo = `openverse-${++repoCount}`;
  const mainSha = gh.addRepo(OWNER, repo);
  const github = client();
  const acts = createReleaseActivities({ github, owner: OWNER, repo, ...extra });
  return { repo, mainSha, github, acts };
}

function mutationsSince(n: number): string[] {
  return gh
    .mutations()
    .slice(n)
    .map((m) => `${m.method} ${m.operationId} ${m.status}`);
}

describe('a release, end to end, and again', () => {
  const DATE = releaseDate(new Date(Date.UTC(2023, 2, 22, 4, 56, 29)));
  const NAME = releaseName('api', DATE);
  let s: ReturnType<typeof setup>;
  let releaseSha: string;
  let previousSha: string;

  before(async () => {
    s = setup();
    previousSha = s.mainSha;
    const rel = (tag: string, extra: Record<string, unknown> = {}) =>
      s.github.rest.repos.createRelease({ owner: OWNER, repo: s.repo, tag_name: tag, name: tag, target_commitish: previousSha, body: 'old', ...extra });
    await rel('api-2022.12.01.10.00.00');
    await rel('api-2023.01.10.09.00.00');
    await rel('api-2022.11.01.00.00.00'); // created later, dated earlier: the date decides
    await rel('frontend-2023.03.01.00.00.00');
    await rel('api-next-2023.03.01.00.00.00');
    await rel('v1.0.0');
    await rel('api-2023.03.01.00.00.00', { draft: true });

    const merged = (title: string, author: string, mergedAt: string, ...labels: string[]) => gh.addMergedPull(OWNER, s.repo, { title, author, mergedAt, labels });
    merged('Before the previous release', 'alice', '2023-01-05T00:00:00Z', API, '🌟 goal: addition');
    merged('Add audio waveforms', 'alice', '2023-02-01T12:00:00Z', API, '🌟 goal: addition');
    merged('Fix the search crash', 'bob', '2023-03-01T08:00:00Z', API, '🛠 goal: fix');
    merged('Frontend only', 'carol', '2023-03-02T00:00:00Z', '🧱 stack: frontend', '🛠 goal: fix');
    merged('Bump dependencies', 'dora', '2023-03-03T00:00:00Z', API, 'skip-changelog');
    merged('Tidy the dev setup', 'erin', '2023-03-04T00:00:00Z', API, '🤖 aspect: dx');
    merged('After the release date', 'erin', '2023-03-23T00:00:00Z', API, '🛠 goal: fix');
    releaseSha = gh.addCommit(OWNER, s.repo, { message: 'Fix the search crash' });
  });

  let created: Awaited<ReturnType<ReturnType<typeof createReleaseActivities>['createRelease']>>;
  let pr: Awaited<ReturnType<ReturnType<typeof createReleaseActivities>['openChangelogPr']>>;
  let notes: string;

  test('first run: one tag, one release, one branch, one file, one pull request', async () => {
    const before = gh.mutations().length;
    const prev = await s.acts.previousRelease({ app: 'api' });
    assert.equal(prev?.name, 'api-2023.01.10.09.00.00');
    assert.equal(prev?.releasedAt, '2023-01-10T09:00:00Z');
    assert.equal(prev?.sha, previousSha);
    assert.equal(prev?.failed, false);

    const pulls = await s.acts.mergedPullsSince({ app: 'api', since: prev!.releasedAt, until: releaseDateToIso(DATE) });
    assert.deepEqual(
      pulls.map((p) => p.title),
      ['Add audio waveforms', 'Fix the search crash', 'Bump dependencies', 'Tidy the dev setup'],
    );
    assert.deepEqual(pulls[0].labels, [API, '🌟 goal: addition']);
    assert.equal(pulls[1].author, 'bob');
    notes = releaseNotes(pulls, OPENVERSE_CATEGORIES);
    assert.equal(
      notes,
      '## New Features\n\n- Add audio waveforms (#2) by @alice\n\n## Internal Improvements\n\n- Tidy the dev setup (#6) by @erin\n\n## Bug Fixes\n\n- Fix the search crash (#3) by @bob',
    );

    assert.equal(await s.acts.findReleaseForCommit({ app: 'api', sha: releaseSha }), undefined);

    created = await s.acts.createRelease({ app: 'api', name: NAME, sha: releaseSha, body: notes, actor: '@alice' });
    assert.equal(created.created, true);
    assert.equal(created.name, NAME);
    assert.equal(created.sha, releaseSha);
    assert.equal(created.date, DATE);
    assert.equal(gh.refs(OWNER, s.repo)[`refs/tags/${NAME}`], releaseSha);
    const rel = gh.releases(OWNER, s.repo).find((r) => r.id === created.id)!;
    assert.equal(rel.tagName, NAME);
    assert.equal(rel.name, NAME);
    assert.equal(rel.targetCommitish, releaseSha);
    assert.equal(rel.draft, false);
    assert.equal(rel.body, `${notes}\n\nReleased by @alice.\n\n<!-- slipway: app=api sha=${releaseSha} -->\n`);

    pr = await s.acts.openChangelogPr({ app: 'api', date: DATE, notes, actor: 'alice', releaseUrl: created.url });
    assert.equal(pr.created, true);
    assert.equal(pr.state, 'open');
    assert.equal(pr.branch, 'changelog/api-2023.03.22.04.56.29');
    assert.equal(pr.path, 'documentation/changelogs/api/2023.03.22.04.56.29.md');
    const pull = gh.pulls(OWNER, s.repo).find((p) => p.number === pr.number)!;
    assert.equal(pull.title, 'Publish changelog for api-2023.03.22.04.56.29');
    assert.equal(pull.baseRef, 'main');
    assert.equal(pull.headRef, pr.branch);
    assert.equal(pull.body, changelogBody('alice', created.url));
    assert.match(pull.body!, /@alice\b/);
    assert.equal(gh.file(OWNER, s.repo, pr.path, pr.branch), `# ${DATE}\n\n${notes}\n`);
    assert.equal(gh.file(OWNER, s.repo, pr.path), undefined, 'main is untouched');

    assert.deepEqual(mutationsSince(before), [
      'POST git/create-ref 201',
      'POST repos/create-release 201',
      'POST git/create-ref 201',
      'PUT repos/create-or-update-file-contents 201',
      'POST pulls/create 201',
    ]);
    const branchRef = gh.mutations().slice(before)[2].body as { ref: string; sha: string };
    assert.deepEqual(branchRef, { ref: 'refs/heads/changelog/api-2023.03.22.04.56.29', sha: releaseSha });
  });

  test('every activity again: the same answers, nothing new', async () => {
    const before = gh.mutations().length;
    const releases = gh.releases(OWNER, s.repo).length;
    const pulls = gh.pulls(OWNER, s.repo).length;

    const found = await s.acts.findReleaseForCommit({ app: 'api', sha: releaseSha.toUpperCase() });
    assert.equal(found?.id, created.id);
    assert.equal(found?.name, NAME);

    assert.equal((await s.acts.previousRelease({ app: 'api' }))?.id, created.id, 'the new release is now the newest');
    assert.equal((await s.acts.previousRelease({ app: 'api', before: DATE }))?.name, 'api-2023.01.10.09.00.00');

    const again = await s.acts.createRelease({ app: 'api', name: NAME, sha: releaseSha, body: 'different notes', actor: 'bob' });
    assert.equal(again.created, false);
    assert.equal(again.id, created.id);
    assert.equal(again.url, created.url);

    const prAgain = await s.acts.openChangelogPr({ app: 'api', date: DATE, notes, actor: 'alice', releaseUrl: created.url });
    assert.deepEqual(prAgain, { ...pr, created: false });

    assert.deepEqual(mutationsSince(before), []);
    assert.equal(gh.releases(OWNER, s.repo).length, releases);
    assert.equal(gh.pulls(OWNER, s.repo).length, pulls);
    assert.equal(Object.keys(gh.refs(OWNER, s.repo)).filter((r) => r.includes('2023.03.22.04.56.29')).length, 2);
  });

  test('markReleaseFailed puts the notice on top once', async () => {
    const before = gh.mutations().length;
    const first = await s.acts.markReleaseFailed({ releaseId: created.id, reason: 'ECS rolled production-api back' });
    assert.deepEqual(first, { id: created.id, url: created.url, changed: true });
    const second = await s.acts.markReleaseFailed({ releaseId: created.id, reason: 'another attempt, another reason' });
    assert.equal(second.changed, false);
    assert.deepEqual(mutationsSince(before), ['PATCH repos/update-release 200']);

    const body = gh.releases(OWNER, s.repo).find((r) => r.id === created.id)!.body!;
    assert.ok(body.startsWith(`${FAILED_MARKER}\n> [!CAUTION]\n> **The production deployment of this release failed**: ECS rolled production-api back.\n`), body);
    assert.equal(body.split(FAILED_MARKER).length, 2);
    assert.ok(body.includes(notes), 'the notes stay');
    assert.ok(!body.includes('another reason'));

    const latest = await s.acts.previousRelease({ app: 'api' });
    assert.equal(latest?.failed, true);
    assert.equal((await s.acts.previousRelease({ app: 'api', skipFailed: true }))?.name, 'api-2023.01.10.09.00.00');
    assert.equal((await s.acts.findReleaseForCommit({ app: 'api', sha: releaseSha }))?.id, created.id, 'the marker still finds it');
  });

  test('other apps are apart', async () => {
    assert.equal((await s.acts.previousRelease({ app: 'frontend' }))?.name, 'frontend-2023.03.01.00.00.00');
    assert.equal((await s.acts.previousRelease({ app: 'api-next' }))?.name, 'api-next-2023.03.01.00.00.00');
    assert.equal(await s.acts.previousRelease({ app: 'ingestion_server' }), undefined);
    assert.equal(await s.acts.findReleaseForCommit({ app: 'frontend', sha: releaseSha }), undefined);
    const fe = await s.acts.mergedPullsSince({ app: 'frontend', since: '2023-01-10T09:00:00Z' });
    assert.deepEqual(
      fe.map((p) => p.title),
      ['Frontend only'],
    );
  });
});

describe('release activities, each on its own', () => {
  const sha40 = (c: string) => c.repeat(40);

  test('a tag at another commit is refused, and nothing is created', async () => {
    const { repo, mainSha, github, acts } = setup();
    const other = gh.addCommit(OWNER, repo);
    const name = 'api-2023.05.01.00.00.00';
    await github.rest.git.createRef({ owner: OWNER, repo, ref: `refs/tags/${name}`, sha: mainSha });
    const before = gh.mutations().length;
    await assert.rejects(acts.createRelease({ app: 'api', name, sha: other, body: 'notes', actor: 'alice' }), (err: unknown) => {
      assert.ok(err instanceof ClientRejected);
      assert.match(err.message, new RegExp(`tag ${name.replace(/\./g, '\\.')} already exists .* at commit ${mainSha.slice(0, 7)}, not at ${other.slice(0, 7)}`));
      return true;
    });
    assert.deepEqual(mutationsSince(before), []);
    assert.equal(gh.refs(OWNER, repo)[`refs/tags/${name}`], mainSha);
    assert.equal(gh.releases(OWNER, repo).length, 0);
  });

  test('a tag made by an interrupted attempt is completed with its release only', async () => {
    const { repo, mainSha, github, acts } = setup();
    const name = 'api-2023.05.01.00.00.00';
    await github.rest.git.createRef({ owner: OWNER, repo, ref: `refs/tags/${name}`, sha: mainSha });
    const before = gh.mutations().length;
    const res = await acts.createRelease({ app: 'api', name, sha: mainSha, body: 'notes', actor: 'alice' });
    assert.equal(res.created, true);
    assert.deepEqual(mutationsSince(before), ['POST repos/create-release 201']);
  });

  test('a release made outside Slipway (target main, no marker) is found by its tag', async () => {
    const { repo, github, acts } = setup();
    const sha = gh.addCommit(OWNER, repo);
    await github.rest.repos.createRelease({ owner: OWNER, repo, tag_name: 'api-2023.04.01.00.00.00', name: 'api-2023.04.01.00.00.00', target_commitish: 'main', body: 'by hand' });
    gh.addCommit(OWNER, repo); // main moves on; the tag stays
    const found = await acts.findReleaseForCommit({ app: 'api', sha });
    assert.equal(found?.name, 'api-2023.04.01.00.00.00');
    assert.equal(found?.sha, sha);
    assert.equal(await acts.findReleaseForCommit({ app: 'frontend', sha }), undefined);
    // A tag with no release is not a release.
    await github.rest.git.createRef({ owner: OWNER, repo, ref: 'refs/tags/api-2023.04.02.00.00.00', sha: gh.refs(OWNER, repo)['refs/heads/main'] });
    assert.equal(await acts.findReleaseForCommit({ app: 'api', sha: gh.refs(OWNER, repo)['refs/heads/main'] }), undefined);
  });

  test('the changelog pull request reuses a branch and rewrites a file that differs', async () => {
    const { repo, mainSha, github, acts } = setup();
    const date = '2023.06.01.00.00.00';
    const branch = changelogBranch('api', date);
    const path = changelogPath('api', date);
    await github.rest.git.createRef({ owner: OWNER, repo, ref: `refs/heads/${branch}`, sha: mainSha });
    await github.rest.repos.createOrUpdateFileContents({ owner: OWNER, repo, path, branch, message: 'stale', content: Buffer.from('stale\n').toString('base64') });
    const before = gh.mutations().length;
    const res = await acts.openChangelogPr({ app: 'api', date, notes: '## Bug Fixes\n\n- Fix (#1) by @a', actor: 'bob', releaseUrl: 'https://example.test/r' });
    assert.equal(res.created, true);
    assert.deepEqual(mutationsSince(before), ['PUT repos/create-or-update-file-contents 200', 'POST pulls/create 201']);
    assert.equal(gh.file(OWNER, repo, path, branch), `# ${date}\n\n## Bug Fixes\n\n- Fix (#1) by @a\n`);

    // Branch and file in place, the pull request missing: only the pull request is made.
    const { repo: repo2, mainSha: main2, github: github2, acts: acts2 } = setup();
    const text = changelogFile(date, 'notes');
    await github2.rest.git.createRef({ owner: OWNER, repo: repo2, ref: `refs/heads/${branch}`, sha: main2 });
    await github2.rest.repos.createOrUpdateFileContents({ owner: OWNER, repo: repo2, path, branch, message: 'x', content: Buffer.from(text).toString('base64') });
    const before2 = gh.mutations().length;
    assert.equal((await acts2.openChangelogPr({ app: 'api', date, notes: 'notes', actor: 'bob', releaseUrl: 'https://example.test/r' })).created, true);
    assert.deepEqual(mutationsSince(before2), ['POST pulls/create 201']);
  });

  test('every page is read: releases and search results', async () => {
    const { repo, mainSha, github, acts } = setup({ pageSize: 2 });
    for (const d of ['2023.01.01.00.00.00', '2023.04.01.00.00.00', '2023.02.01.00.00.00', '2023.03.01.00.00.00', '2022.12.01.00.00.00']) {
      await github.rest.repos.createRelease({ owner: OWNER, repo, tag_name: `api-${d}`, target_commitish: mainSha });
    }
    assert.equal((await acts.previousRelease({ app: 'api' }))?.name, 'api-2023.04.01.00.00.00');
    assert.equal((await acts.previousRelease({ app: 'api', before: '2023.04.01.00.00.00' }))?.name, 'api-2023.03.01.00.00.00');

    for (let i = 1; i <= 7; i++) gh.addMergedPull(OWNER, repo, { title: `Change ${i}`, author: 'a', mergedAt: `2023-05-0${i}T00:00:00Z`, labels: [API] });
    const pulls = await acts.mergedPullsSince({ app: 'api', since: '2023-05-01T00:00:00Z' });
    assert.deepEqual(
      pulls.map((p) => p.title),
      ['Change 2', 'Change 3', 'Change 4', 'Change 5', 'Change 6', 'Change 7'],
    );
    const searches = gh.requests.filter((r) => r.operationId === 'search/issues-and-pull-requests' && r.query.includes('merged%3A%3E2023-05-01'));
    assert.equal(searches.length, 3);
  });

  test('wrong input is refused before any call', async () => {
    const { repo, mainSha, acts } = setup();
    gh.resetRequests();
    await assert.rejects(acts.createRelease({ app: 'api', name: 'api-2023.05.01.00.00.00', sha: 'main', body: '', actor: 'a' }), BadInput);
    await assert.rejects(acts.createRelease({ app: 'frontend', name: 'api-2023.05.01.00.00.00', sha: mainSha, body: '', actor: 'a' }), BadInput);
    await assert.rejects(acts.findReleaseForCommit({ app: 'api', sha: sha40('z') }), BadInput);
    await assert.rejects(acts.previousRelease({ app: 'api', before: 'yesterday' }), BadInput);
    await assert.rejects(acts.mergedPullsSince({ app: 'api', since: 'last week' }), BadInput);
    await assert.rejects(acts.openChangelogPr({ app: 'api', date: '2023-05-01', notes: '', actor: 'a', releaseUrl: 'u' }), BadInput);
    await assert.rejects(acts.markReleaseFailed({ releaseId: 0, reason: 'x' }), BadInput);
    assert.deepEqual(gh.requests, []);
    await assert.rejects(acts.markReleaseFailed({ releaseId: 999, reason: 'x' }), NotFound);
    assert.ok(repo);
  });
});

describe('the sandbox', () => {
  test("every answer conformed to GitHub's OpenAPI description", () => {
    assert.deepEqual(gh.contractViolations, []);
  });
});
