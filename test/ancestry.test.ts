/**
 * Git ancestry for the pipeline's pick: the pure plan (tables), and the compare activity
 * against the GitHub sandbox, whose compare answers are validated against GitHub's OpenAPI
 * description like its other routes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createGitHubClient } from '../activities/github';
import { createGitActivities } from '../activities/git';
import { planPick, type Relations } from '../domain/ancestry';
import { startGitHubSandbox, type GitHubSandbox } from '../sandbox/github';

const sha = (c: string) => c.repeat(40);
const [B, E, F, G, X] = ['b', 'e', 'f', '1', '9'].map(sha);
/** base B released; main: B ← E ← F ← G; X is on no branch of main. */
const linear: Relations = {
  branch: 'main',
  base: B,
  baseIsEntry: false,
  commits: [
    { sha: E, parents: [B] },
    { sha: F, parents: [E] },
    { sha: G, parents: [F] },
  ],
  older: [],
  offBranch: [{ sha: X, reason: 'not on main' }],
};

describe('planPick', () => {
  const table: { name: string; relations: Relations; waiting: string[]; policy: 'latest' | 'fifo'; expect: Partial<ReturnType<typeof planPick>> }[] = [
    {
      name: 'latest: F reported before E → F is the candidate, E superseded as its ancestor',
      relations: linear,
      waiting: [F, E],
      policy: 'latest',
      expect: { candidate: F, superseded: [{ sha: E, note: `contained in ${F}` }], refused: [] },
    },
    {
      name: 'latest: an entry off the default branch is refused with the reason',
      relations: linear,
      waiting: [E, X, F],
      policy: 'latest',
      expect: { candidate: F, superseded: [{ sha: E, note: `contained in ${F}` }], refused: [{ sha: X, note: 'not on main' }] },
    },
    {
      name: 'fifo: arrival order kept, and the note says git order differs',
      relations: linear,
      waiting: [F, E],
      policy: 'fifo',
      expect: { candidate: F, superseded: [], refused: [], note: `fifo keeps arrival order: fffffff was reported before its ancestor eeeeeee, which will follow it` },
    },
    {
      name: 'fifo: in git order, no note',
      relations: linear,
      waiting: [E, F],
      policy: 'fifo',
      expect: { candidate: E, superseded: [], refused: [], note: undefined },
    },
    {
      name: 'latest: an entry the candidate does not contain keeps waiting',
      relations: {
        ...linear,
        // S is a side commit merged by M; the candidate F does not contain S.
        commits: [
          { sha: E, parents: [B] },
          { sha: F, parents: [E] },
          { sha: sha('5'), parents: [B] },
          { sha: G, parents: [F, sha('5')] },
        ],
      },
      waiting: [E, sha('5'), F],
      policy: 'latest',
      expect: { candidate: F, superseded: [{ sha: E, note: `contained in ${F}` }], refused: [] },
    },
    {
      name: 'an entry already in the released base is superseded by it',
      relations: { ...linear, older: [sha('0')] },
      waiting: [sha('0'), E],
      policy: 'latest',
      expect: { candidate: E, superseded: [{ sha: sha('0'), note: `contained in ${B} (released already)` }], refused: [] },
    },
    {
      name: 'no release yet: the oldest entry is the base, the newer one contains it',
      relations: { branch: 'main', base: E, baseIsEntry: true, commits: [{ sha: F, parents: [E] }], older: [], offBranch: [] },
      waiting: [E, F],
      policy: 'latest',
      expect: { candidate: F, superseded: [{ sha: E, note: `contained in ${F}` }], refused: [] },
    },
    {
      name: 'nothing on the branch: every entry refused, no candidate',
      relations: { branch: 'main', baseIsEntry: false, commits: [], older: [], offBranch: [{ sha: X, reason: 'not a commit' }] },
      waiting: [X],
      policy: 'latest',
      expect: { candidate: undefined, superseded: [], refused: [{ sha: X, note: 'not a commit' }] },
    },
  ];
  for (const t of table) {
    it(t.name, () => {
      const plan = planPick(t.relations, t.waiting, t.policy);
      for (const [k, v] of Object.entries(t.expect)) assert.deepEqual(plan[k as keyof typeof plan], v, k);
    });
  }
});

describe('relateCommits over the GitHub sandbox', () => {
  let gh: GitHubSandbox;
  before(async () => {
    gh = await startGitHubSandbox();
  });
  after(async () => {
    await gh?.close();
  });

  it('one compare for the entries after the release; an off-branch entry refused, an older one found', async () => {
    const OWNER = 'WordPress';
    const REPO = 'openverse';
    const root = gh.addRepo(OWNER, REPO);
    const old = gh.addCommit(OWNER, REPO, { message: 'old' });
    const released = gh.addCommit(OWNER, REPO, { message: 'released' });
    const e = gh.addCommit(OWNER, REPO, { message: 'E' });
    const f = gh.addCommit(OWNER, REPO, { message: 'F' });
    const side = gh.addCommit(OWNER, REPO, { branch: 'feature', message: 'side' });
    const github = createGitHubClient({ token: gh.token, baseUrl: gh.url, secondMs: 2 });
    const acts = createGitActivities({ github, owner: OWNER, repo: REPO });

    gh.resetRequests();
    const rel = await acts.relateCommits({ shas: [f, e], base: released });
    assert.equal(gh.requests.length, 1, 'one call for entries that follow the release');
    assert.equal(rel.base, released);
    assert.deepEqual(
      rel.commits.map((c) => c.sha),
      [e, f],
    );
    assert.deepEqual(rel.commits[1].parents, [e]);
    assert.deepEqual(planPick(rel, [f, e], 'latest').candidate, f);

    const mixed = await acts.relateCommits({ shas: [side, old, e, 'c0ffee'.padEnd(40, '0')], base: released });
    assert.deepEqual(mixed.older, [old]);
    assert.deepEqual(
      mixed.offBranch.map((o) => o.reason),
      [`${side.slice(0, 7)} is not on ${OWNER}/${REPO}'s default branch main: it was never merged there`, `c0ffee0 is not a commit of ${OWNER}/${REPO}`],
    );

    // Without a release, the oldest entry on the branch is the base.
    const first = await acts.relateCommits({ shas: [side, f, e] });
    assert.equal(first.base, f);
    assert.equal(first.baseIsEntry, true);
    assert.deepEqual(first.older, [e]);
    assert.deepEqual(planPick(first, [side, f, e], 'latest'), {
      candidate: f,
      superseded: [{ sha: e, note: `contained in ${f}` }],
      refused: [{ sha: side, note: `${side.slice(0, 7)} is not on ${OWNER}/${REPO}'s default branch main: it was never merged there` }],
    });
    assert.ok(root);
    assert.deepEqual(gh.contractViolations, []);
  });
});
