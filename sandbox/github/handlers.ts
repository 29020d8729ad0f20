/** Handlers of the teams, users, releases, git refs, pull requests, contents and deployments endpoints. */
import { createHash } from 'node:crypto';
import {
  commitAuthor,
  contentEntry,
  deployment,
  deploymentStatus,
  fileCommit,
  gitRef,
  nodeId,
  publicUser,
  pullFull,
  pullSimple,
  rateLimitOverview,
  release,
  teamFull,
  userByLogin,
  WEB,
} from './bodies';
import { type Ctx, type Handler, HttpError, created, notFound, ok, paginate, unprocessable, validationFailed } from './router';
import type { Blob, Commit, Repo, World } from './state';
import type { SandboxDeployment, SandboxDeploymentStatus, SandboxPull, SandboxRelease } from './types';

export const getTeamMembership: Handler = (w, ctx) => {
  const team = w.team(ctx.params.org, ctx.params.team_slug);
  const m = team?.members.get(ctx.params.username.toLowerCase());
  if (!team || !m) throw notFound();
  return ok({ url: `${w.api}/organizations/${team.org.id}/team/${team.id}/memberships/${m.login}`, role: m.role, state: m.state });
};

export const listTeamMembers: Handler = (w, ctx) => {
  const team = w.team(ctx.params.org, ctx.params.team_slug);
  if (!team) throw notFound();
  const role = ctx.query.get('role') ?? 'all';
  if (!['all', 'member', 'maintainer'].includes(role)) throw validationFailed({ resource: 'Team', field: 'role', code: 'invalid' });
  const members = [...team.members.values()].filter((m) => m.state === 'active' && (role === 'all' || m.role === role));
  const page = paginate(w, ctx, members);
  return ok(
    page.items.map((m) => userByLogin(w, m.login)),
    page.headers,
  );
};

export const getTeam: Handler = (w, ctx) => {
  const team = w.team(ctx.params.org, ctx.params.team_slug);
  if (!team) throw notFound();
  return ok(teamFull(w, team));
};

export const getUser: Handler = (w, ctx) => {
  const a = w.account(ctx.params.username);
  if (!a) throw notFound();
  return ok(publicUser(w, a));
};

export const getRateLimit: Handler = (w) => ok(rateLimitOverview(w));

export const listReleases: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const all = [...repo.releases].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  const page = paginate(w, ctx, all);
  return ok(
    page.items.map((rel) => release(w, repo, rel)),
    page.headers,
  );
};

/** Creates the release's tag at its target when publishing and the tag does not exist yet. */
function tagOnPublish(w: World, repo: Repo, tagName: string, targetCommitish: string): void {
  const ref = `refs/tags/${tagName}`;
  if (repo.refs.has(ref)) return;
  const sha = w.resolve(repo, targetCommitish);
  if (!sha) throw validationFailed({ resource: 'Release', code: 'invalid', field: 'target_commitish' });
  repo.refs.set(ref, sha);
}

export const createRelease: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const b = ctx.body;
  const tagName = String(b.tag_name);
  if (repo.releases.some((r) => r.tagName === tagName)) {
    throw validationFailed({ resource: 'Release', code: 'already_exists', field: 'tag_name' });
  }
  const targetCommitish = typeof b.target_commitish === 'string' && b.target_commitish ? b.target_commitish : repo.defaultBranch;
  const draft = b.draft === true;
  if (!repo.refs.has(`refs/tags/${tagName}`) && !w.resolve(repo, targetCommitish)) {
    throw validationFailed({ resource: 'Release', code: 'invalid', field: 'target_commitish' });
  }
  if (!draft) tagOnPublish(w, repo, tagName, targetCommitish);
  const now = Date.now();
  const rel: SandboxRelease = {
    id: w.nextId('release'),
    tagName,
    targetCommitish,
    name: typeof b.name === 'string' ? b.name : tagName,
    body: typeof b.body === 'string' ? b.body : null,
    draft,
    prerelease: b.prerelease === true,
    author: w.viewer,
    createdAt: now,
    publishedAt: draft ? null : now,
  };
  repo.releases.push(rel);
  const body = release(w, repo, rel);
  return created(body, body.url);
};

export const getReleaseByTag: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const rel = repo.releases.find((r) => r.tagName === ctx.params.tag && !r.draft);
  if (!rel) throw notFound();
  return ok(release(w, repo, rel));
};

export const getRelease: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const rel = repo.releases.find((r) => String(r.id) === ctx.params.release_id);
  if (!rel) throw notFound();
  return ok(release(w, repo, rel));
};

export const updateRelease: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const rel = repo.releases.find((r) => String(r.id) === ctx.params.release_id);
  if (!rel) throw notFound();
  const b = ctx.body;
  const tagName = typeof b.tag_name === 'string' ? b.tag_name : rel.tagName;
  if (tagName !== rel.tagName && repo.releases.some((r) => r !== rel && r.tagName === tagName)) {
    throw validationFailed({ resource: 'Release', code: 'already_exists', field: 'tag_name' });
  }
  const targetCommitish = typeof b.target_commitish === 'string' && b.target_commitish ? b.target_commitish : rel.targetCommitish;
  const draft = typeof b.draft === 'boolean' ? b.draft : rel.draft;
  if (!draft) tagOnPublish(w, repo, tagName, targetCommitish);
  rel.tagName = tagName;
  rel.targetCommitish = targetCommitish;
  if (typeof b.name === 'string') rel.name = b.name;
  if (typeof b.body === 'string') rel.body = b.body;
  if (typeof b.prerelease === 'boolean') rel.prerelease = b.prerelease;
  if (rel.draft && !draft) rel.publishedAt = Date.now();
  rel.draft = draft;
  return ok(release(w, repo, rel));
};

export const createRef: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const ref = String(ctx.body.ref);
  const sha = String(ctx.body.sha);
  if (!/^refs\/[^/]+\/.+/.test(ref) || /\.\.|\s|~|\^|:|\\|\/\/|\/$|\.lock$/.test(ref)) {
    throw unprocessable(`${ref} is not a valid ref name.`);
  }
  if (!repo.commits.has(sha)) throw unprocessable('Object does not exist');
  if (repo.refs.has(ref)) throw unprocessable('Reference already exists');
  repo.refs.set(ref, sha);
  const body = gitRef(w, repo, ref, sha);
  return created(body, body.url);
};

export const getRef: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const ref = `refs/${ctx.params.ref.replace(/^refs\//, '')}`;
  const sha = repo.refs.get(ref);
  if (!sha) throw notFound();
  return ok(gitRef(w, repo, ref, sha));
};

/** Every ref whose full name starts with `refs/<ref>` (`tags/api-` → the `api-…` tags), sorted by name; `[]` when none. */
export const listMatchingRefs: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const prefix = `refs/${ctx.params.ref.replace(/^refs\//, '')}`;
  const refs = [...repo.refs.entries()].filter(([ref]) => ref.startsWith(prefix)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return ok(refs.map(([ref, sha]) => gitRef(w, repo, ref, sha)));
};

/** `owner:branch` or `branch` → branch name, and the owner part if given. */
function splitHead(head: string): { owner?: string; branch: string } {
  const i = head.indexOf(':');
  return i < 0 ? { branch: head } : { owner: head.slice(0, i), branch: head.slice(i + 1) };
}

/** GitHub lists the pull requests merged as the commit, or whose head it is. */
export const listPullsForCommit: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const sha = ctx.params.commit_sha;
  const matches = repo.pulls.filter((p) => p.mergeCommitSha === sha || p.headSha === sha);
  const page = paginate(w, ctx, matches);
  return ok(
    page.items.map((p) => pullSimple(w, repo, p)),
    page.headers,
  );
};

export const getPull: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const pull = repo.pulls.find((p) => p.number === Number(ctx.params.pull_number));
  if (!pull) throw notFound();
  return ok(pullFull(w, repo, pull));
};

export const listPulls: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const state = ctx.query.get('state') ?? 'open';
  if (!['open', 'closed', 'all'].includes(state)) throw validationFailed({ resource: 'Search', field: 'state', code: 'invalid' });
  const head = ctx.query.get('head');
  const base = ctx.query.get('base');
  const sort = ctx.query.get('sort') ?? 'created';
  const direction = ctx.query.get('direction') ?? 'desc';
  // `head` is `user:branch`, or just `user` (all branches of that user's repository).
  const headFilter = head ? splitHead(head) : undefined;
  const headOwner = headFilter ? (headFilter.owner ?? headFilter.branch).toLowerCase() : undefined;
  const headBranch = headFilter?.owner !== undefined ? headFilter.branch : undefined;
  const matches = repo.pulls.filter(
    (p) =>
      (state === 'all' || p.state === state) &&
      (!base || p.baseRef === base) &&
      (headOwner === undefined || headOwner === repo.owner.login.toLowerCase()) &&
      (headBranch === undefined || p.headRef === headBranch),
  );
  const key = (p: SandboxPull) => (sort === 'updated' ? p.updatedAt : p.createdAt);
  matches.sort((a, b) => (direction === 'asc' ? 1 : -1) * (key(a) - key(b) || a.number - b.number));
  const page = paginate(w, ctx, matches);
  return ok(
    page.items.map((p) => pullSimple(w, repo, p)),
    page.headers,
  );
};

export const createPull: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const b = ctx.body;
  if (typeof b.head !== 'string' || typeof b.base !== 'string') {
    throw validationFailed({ resource: 'PullRequest', field: typeof b.head !== 'string' ? 'head' : 'base', code: 'missing_field' });
  }
  if (typeof b.title !== 'string' && b.issue === undefined) {
    throw validationFailed({ resource: 'PullRequest', field: 'title', code: 'missing_field' });
  }
  const head = splitHead(b.head);
  const headSha = repo.refs.get(`refs/heads/${head.branch}`);
  const baseSha = repo.refs.get(`refs/heads/${b.base}`);
  if (!headSha || (head.owner && head.owner.toLowerCase() !== repo.owner.login.toLowerCase())) {
    throw validationFailed({ resource: 'PullRequest', field: 'head', code: 'invalid' });
  }
  if (!baseSha) throw validationFailed({ resource: 'PullRequest', field: 'base', code: 'invalid' });
  if (repo.pulls.some((p) => p.state === 'open' && p.headRef === head.branch && p.baseRef === b.base)) {
    throw validationFailed({
      resource: 'PullRequest',
      code: 'custom',
      message: `A pull request already exists for ${repo.owner.login}:${head.branch}.`,
    });
  }
  if (headSha === baseSha) {
    throw validationFailed({ resource: 'PullRequest', code: 'custom', message: `No commits between ${b.base} and ${head.branch}` });
  }
  const now = Date.now();
  const pull: SandboxPull = {
    id: w.nextId('pull'),
    number: repo.nextNumber++,
    title: String(b.title),
    body: typeof b.body === 'string' ? b.body : null,
    state: 'open',
    user: w.viewer,
    headRef: head.branch,
    headSha,
    baseRef: b.base,
    baseSha,
    labels: [],
    draft: b.draft === true,
    createdAt: now,
    updatedAt: now,
    closedAt: null,
    mergedAt: null,
    mergeCommitSha: null,
    mergedBy: null,
  };
  repo.pulls.push(pull);
  const body = pullFull(w, repo, pull);
  return created(body, body.url);
};

/** A file (its content base64, wrapped at 60 characters as GitHub does) or a directory listing, at `ref` (default: the default branch). */
export const getContent: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const ref = ctx.query.get('ref') || repo.defaultBranch;
  const sha = w.resolve(repo, ref);
  if (!sha) throw new HttpError(404, `No commit found for the ref ${ref}`);
  const tree = repo.commits.get(sha)?.tree ?? new Map<string, Blob>();
  const path = ctx.params.path.replace(/^\/+|\/+$/g, '');
  const blob = tree.get(path);
  if (blob) {
    const content = blob.content.toString('base64').replace(/.{60}/g, '$&\n');
    return ok({ ...contentEntry(w, repo, ref, path, { type: 'file', blob }), content: content.endsWith('\n') ? content : `${content}\n`, encoding: 'base64' });
  }
  const children = new Map<string, ReturnType<typeof contentEntry>>();
  for (const [p, b] of tree) {
    if (!p.startsWith(`${path}/`)) continue;
    const [name, ...rest] = p.slice(path.length + 1).split('/');
    const child = `${path}/${name}`;
    if (children.has(child)) continue;
    const dirSha = createHash('sha1').update(`tree:${sha}:${child}`).digest('hex');
    children.set(child, contentEntry(w, repo, ref, child, rest.length ? { type: 'dir', sha: dirSha } : { type: 'file', blob: b }));
  }
  if (children.size === 0) throw notFound();
  return ok([...children.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)));
};

export const putContents: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const b = ctx.body;
  const path = ctx.params.path.replace(/^\/+/, '');
  const branch = typeof b.branch === 'string' && b.branch ? b.branch : repo.defaultBranch;
  const parent = repo.refs.get(`refs/heads/${branch}`);
  if (!parent) throw new HttpError(404, `Branch ${branch} not found`);
  const existing = repo.commits.get(parent)?.tree.get(path);
  if (existing && typeof b.sha !== 'string') throw unprocessable('Invalid request.\n\n"sha" wasn\'t supplied.');
  if (existing && b.sha !== existing.sha) throw new HttpError(409, `${path} does not match ${b.sha}`);
  const content = Buffer.from(String(b.content), 'base64');
  const c = w.commit(repo, parent, String(b.message), w.viewer, { [path]: content });
  repo.refs.set(`refs/heads/${branch}`, c.sha);
  repo.pushedAt = c.date;
  const blob = c.tree.get(path)!;
  return { status: existing ? 200 : 201, body: fileCommit(w, repo, branch, path, blob, c) };
};

export const createDeployment: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const b = ctx.body;
  const ref = String(b.ref);
  const sha = w.resolve(repo, ref);
  if (!sha) throw unprocessable(`No ref found for: ${ref}`);
  let payload: Record<string, unknown> | string = {};
  if (typeof b.payload === 'string') {
    try {
      const parsed = JSON.parse(b.payload);
      payload = parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : b.payload;
    } catch {
      payload = b.payload;
    }
  } else if (b.payload && typeof b.payload === 'object') payload = b.payload;
  const environment = typeof b.environment === 'string' ? b.environment : 'production';
  const now = Date.now();
  const d: SandboxDeployment = {
    id: w.nextId('deployment'),
    sha,
    ref,
    task: typeof b.task === 'string' ? b.task : 'deploy',
    payload,
    environment,
    originalEnvironment: environment,
    description: typeof b.description === 'string' ? b.description : null,
    creator: w.viewer,
    createdAt: now,
    updatedAt: now,
    transient: b.transient_environment === true,
    production: typeof b.production_environment === 'boolean' ? b.production_environment : environment === 'production',
    statuses: [],
  };
  repo.deployments.push(d);
  const body = deployment(w, repo, d);
  return created(body, body.url);
};

export const listDeployments: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const q = ctx.query;
  const matches = repo.deployments
    .filter(
      (d) =>
        (!q.get('sha') || d.sha === q.get('sha')) &&
        (!q.get('ref') || d.ref === q.get('ref')) &&
        (!q.get('task') || d.task === q.get('task')) &&
        (!q.get('environment') || d.environment === q.get('environment')),
    )
    .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  const page = paginate(w, ctx, matches);
  return ok(
    page.items.map((d) => deployment(w, repo, d)),
    page.headers,
  );
};

function findDeployment(w: World, ctx: Ctx): { repo: Repo; d: SandboxDeployment } {
  const repo = w.repoOr404(ctx);
  const d = repo.deployments.find((x) => String(x.id) === ctx.params.deployment_id);
  if (!d) throw notFound();
  return { repo, d };
}

export const createDeploymentStatus: Handler = (w, ctx) => {
  const { repo, d } = findDeployment(w, ctx);
  const b = ctx.body;
  const now = Date.now();
  if (typeof b.environment === 'string' && b.environment) d.environment = b.environment;
  const s: SandboxDeploymentStatus = {
    id: w.nextId('status'),
    state: String(b.state),
    description: typeof b.description === 'string' ? b.description : '',
    environment: d.environment,
    targetUrl: typeof b.target_url === 'string' ? b.target_url : typeof b.log_url === 'string' ? b.log_url : '',
    logUrl: typeof b.log_url === 'string' ? b.log_url : typeof b.target_url === 'string' ? b.target_url : '',
    environmentUrl: typeof b.environment_url === 'string' ? b.environment_url : '',
    creator: w.viewer,
    createdAt: now,
  };
  d.statuses.push(s);
  d.updatedAt = now;
  // auto_inactive (default true): earlier successful, non-transient, non-production deployments
  // of the same environment get an `inactive` status.
  if (s.state === 'success' && b.auto_inactive !== false) {
    for (const other of repo.deployments) {
      if (other === d || other.environment !== d.environment || other.transient || other.production) continue;
      if (other.statuses.at(-1)?.state !== 'success') continue;
      other.statuses.push({ ...s, id: w.nextId('status'), state: 'inactive', description: '', targetUrl: '', logUrl: '', environmentUrl: '' });
      other.updatedAt = now;
    }
  }
  const body = deploymentStatus(w, repo, d, s);
  return created(body, body.url);
};

export const listDeploymentStatuses: Handler = (w, ctx) => {
  const { repo, d } = findDeployment(w, ctx);
  const page = paginate(w, ctx, [...d.statuses].reverse());
  return ok(
    page.items.map((s) => deploymentStatus(w, repo, d, s)),
    page.headers,
  );
};

/** Every commit reachable from `sha` (itself included). */
function reachable(repo: Repo, sha: string): Set<string> {
  const seen = new Set<string>();
  const stack = [sha];
  while (stack.length) {
    const s = stack.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    stack.push(...(repo.commits.get(s)?.parents ?? []));
  }
  return seen;
}

/** A commit as the commits and compare APIs list it (`commit` in the OpenAPI description). */
function commitEntry(w: World, r: Repo, c: Commit) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  const web = `${WEB}/${r.owner.login}/${r.name}`;
  const who = commitAuthor(w, c.author, c.date);
  return {
    url: `${u}/commits/${c.sha}`,
    sha: c.sha,
    node_id: nodeId('Commit', c.sha),
    html_url: `${web}/commit/${c.sha}`,
    comments_url: `${u}/commits/${c.sha}/comments`,
    commit: {
      url: `${u}/git/commits/${c.sha}`,
      author: who,
      committer: who,
      message: c.message,
      comment_count: 0,
      tree: { sha: c.treeSha, url: `${u}/git/trees/${c.treeSha}` },
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
    author: userByLogin(w, c.author),
    committer: userByLogin(w, c.author),
    parents: c.parents.map((sha) => ({ sha, url: `${u}/commits/${sha}`, html_url: `${web}/commit/${sha}` })),
  };
}

/**
 * `GET /repos/{owner}/{repo}/compare/{base}...{head}`: the commits reachable from head and
 * not from base (oldest first), how far each side is ahead, and the status GitHub derives
 * from that (identical, ahead, behind, diverged). Up to 250 commits unless paginated.
 */
export const compareCommits: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const m = /^(.+?)\.\.\.(.+)$/.exec(ctx.params.basehead);
  if (!m) throw notFound();
  const [base, head] = [w.resolve(repo, m[1]), w.resolve(repo, m[2])];
  if (!base || !head) throw notFound();
  const fromBase = reachable(repo, base);
  const fromHead = reachable(repo, head);
  const ahead = [...fromHead].filter((s) => !fromBase.has(s));
  const behind = [...fromBase].filter((s) => !fromHead.has(s));
  // The merge base: a common ancestor none of whose descendants is common.
  const common = [...fromHead].filter((s) => fromBase.has(s));
  const mergeBase = common.find((s) => !common.some((o) => o !== s && reachable(repo, o).has(s))) ?? base;
  // Oldest first: a commit after every one of its listed ancestors.
  const aheadCommits = ahead.map((s) => repo.commits.get(s)!).sort((a, b) => reachable(repo, a.sha).size - reachable(repo, b.sha).size || a.date - b.date);
  const paged = ctx.query.has('page') || ctx.query.has('per_page');
  const page = paged ? paginate(w, ctx, aheadCommits) : { items: aheadCommits.slice(0, 250), headers: {} };
  const u = `${w.api}/repos/${repo.owner.login}/${repo.name}`;
  const web = `${WEB}/${repo.owner.login}/${repo.name}`;
  const spec = `${m[1]}...${m[2]}`;
  return ok(
    {
      url: `${u}/compare/${spec}`,
      html_url: `${web}/compare/${spec}`,
      permalink_url: `${web}/compare/${repo.owner.login}:${base.slice(0, 7)}...${repo.owner.login}:${head.slice(0, 7)}`,
      diff_url: `${web}/compare/${spec}.diff`,
      patch_url: `${web}/compare/${spec}.patch`,
      base_commit: commitEntry(w, repo, repo.commits.get(base)!),
      merge_base_commit: commitEntry(w, repo, repo.commits.get(mergeBase)!),
      status: ahead.length && behind.length ? 'diverged' : ahead.length ? 'ahead' : behind.length ? 'behind' : 'identical',
      ahead_by: ahead.length,
      behind_by: behind.length,
      total_commits: ahead.length,
      commits: page.items.map((c) => commitEntry(w, repo, c)),
      files: [],
    },
    page.headers,
  );
};
