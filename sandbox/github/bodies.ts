/** Body factories: the objects GitHub answers with, built from the sandbox's state. */
import { createHash } from 'node:crypto';
import type { Account, Blob, Commit, Label, Repo, Team, World } from './state';
import type { SandboxDeployment, SandboxDeploymentStatus, SandboxPull, SandboxRelease } from './types';

export const WEB = 'https://github.com';

export function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

export function nodeId(type: string, id: number | string): string {
  return Buffer.from(`0${type.length}:${type}${id}`).toString('base64');
}

function enc(s: string): string {
  return s.split('/').map(encodeURIComponent).join('/');
}

function simpleUser(w: World, a: Account) {
  const u = `${w.api}/users/${a.login}`;
  return {
    login: a.login,
    id: a.id,
    node_id: nodeId(a.type === 'Organization' ? 'Organization' : 'User', a.id),
    avatar_url: `https://avatars.githubusercontent.com/u/${a.id}?v=4`,
    gravatar_id: '',
    url: u,
    html_url: `${WEB}/${a.login}`,
    followers_url: `${u}/followers`,
    following_url: `${u}/following{/other_user}`,
    gists_url: `${u}/gists{/gist_id}`,
    starred_url: `${u}/starred{/owner}{/repo}`,
    subscriptions_url: `${u}/subscriptions`,
    organizations_url: `${u}/orgs`,
    repos_url: `${u}/repos`,
    events_url: `${u}/events{/privacy}`,
    received_events_url: `${u}/received_events`,
    type: a.type,
    user_view_type: 'public',
    site_admin: a.siteAdmin,
  };
}

export function userByLogin(w: World, login: string) {
  return simpleUser(w, w.ensureUser(login));
}

export function publicUser(w: World, a: Account) {
  return {
    ...simpleUser(w, a),
    name: a.name,
    company: null,
    blog: '',
    location: null,
    email: a.email,
    hireable: null,
    bio: null,
    twitter_username: null,
    public_repos: [...w.repos.values()].filter((r) => r.owner === a && !r.private).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    created_at: iso(a.createdAt),
    updated_at: iso(a.createdAt),
  };
}

function teamOrganization(w: World, org: Account) {
  const u = `${w.api}/orgs/${org.login}`;
  return {
    login: org.login,
    id: org.id,
    node_id: nodeId('Organization', org.id),
    url: u,
    repos_url: `${u}/repos`,
    events_url: `${u}/events`,
    hooks_url: `${u}/hooks`,
    issues_url: `${u}/issues`,
    members_url: `${u}/members{/member}`,
    public_members_url: `${u}/public_members{/member}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${org.id}?v=4`,
    description: null,
    name: org.name ?? org.login,
    blog: '',
    html_url: `${WEB}/${org.login}`,
    has_organization_projects: true,
    has_repository_projects: true,
    is_verified: false,
    public_repos: [...w.repos.values()].filter((r) => r.owner === org && !r.private).length,
    public_gists: 0,
    followers: 0,
    following: 0,
    type: 'Organization',
    created_at: iso(org.createdAt),
    updated_at: iso(org.createdAt),
    archived_at: null,
  };
}

export function teamFull(w: World, t: Team) {
  const u = `${w.api}/organizations/${t.org.id}/team/${t.id}`;
  return {
    id: t.id,
    node_id: nodeId('Team', t.id),
    url: u,
    html_url: `${WEB}/orgs/${t.org.login}/teams/${t.slug}`,
    name: t.name,
    slug: t.slug,
    description: t.description,
    privacy: 'closed',
    notification_setting: 'notifications_enabled',
    permission: 'pull',
    members_url: `${u}/members{/member}`,
    repositories_url: `${u}/repos`,
    parent: null,
    type: 'organization',
    members_count: [...t.members.values()].filter((m) => m.state === 'active').length,
    repos_count: 0,
    created_at: iso(t.createdAt),
    updated_at: iso(t.createdAt),
    organization: teamOrganization(w, t.org),
  };
}

export function repository(w: World, r: Repo) {
  const full = `${r.owner.login}/${r.name}`;
  const u = `${w.api}/repos/${full}`;
  const openIssues = r.pulls.filter((p) => p.state === 'open').length;
  return {
    id: r.id,
    node_id: nodeId('Repository', r.id),
    name: r.name,
    full_name: full,
    owner: simpleUser(w, r.owner),
    private: r.private,
    html_url: `${WEB}/${full}`,
    description: r.description,
    fork: false,
    url: u,
    archive_url: `${u}/{archive_format}{/ref}`,
    assignees_url: `${u}/assignees{/user}`,
    blobs_url: `${u}/git/blobs{/sha}`,
    branches_url: `${u}/branches{/branch}`,
    collaborators_url: `${u}/collaborators{/collaborator}`,
    comments_url: `${u}/comments{/number}`,
    commits_url: `${u}/commits{/sha}`,
    compare_url: `${u}/compare/{base}...{head}`,
    contents_url: `${u}/contents/{+path}`,
    contributors_url: `${u}/contributors`,
    deployments_url: `${u}/deployments`,
    downloads_url: `${u}/downloads`,
    events_url: `${u}/events`,
    forks_url: `${u}/forks`,
    git_commits_url: `${u}/git/commits{/sha}`,
    git_refs_url: `${u}/git/refs{/sha}`,
    git_tags_url: `${u}/git/tags{/sha}`,
    git_url: `git://github.com/${full}.git`,
    issue_comment_url: `${u}/issues/comments{/number}`,
    issue_events_url: `${u}/issues/events{/number}`,
    issues_url: `${u}/issues{/number}`,
    keys_url: `${u}/keys{/key_id}`,
    labels_url: `${u}/labels{/name}`,
    languages_url: `${u}/languages`,
    merges_url: `${u}/merges`,
    milestones_url: `${u}/milestones{/number}`,
    notifications_url: `${u}/notifications{?since,all,participating}`,
    pulls_url: `${u}/pulls{/number}`,
    releases_url: `${u}/releases{/id}`,
    ssh_url: `git@github.com:${full}.git`,
    stargazers_url: `${u}/stargazers`,
    statuses_url: `${u}/statuses/{sha}`,
    subscribers_url: `${u}/subscribers`,
    subscription_url: `${u}/subscription`,
    tags_url: `${u}/tags`,
    teams_url: `${u}/teams`,
    trees_url: `${u}/git/trees{/sha}`,
    clone_url: `${WEB}/${full}.git`,
    mirror_url: null,
    hooks_url: `${u}/hooks`,
    svn_url: `${WEB}/${full}`,
    homepage: null,
    language: 'TypeScript',
    forks_count: 0,
    stargazers_count: 0,
    watchers_count: 0,
    size: 1024,
    default_branch: r.defaultBranch,
    open_issues_count: openIssues,
    is_template: false,
    topics: [],
    has_issues: true,
    has_projects: true,
    has_wiki: false,
    has_pages: false,
    has_downloads: true,
    has_discussions: true,
    archived: false,
    disabled: false,
    visibility: r.private ? 'private' : 'public',
    pushed_at: iso(r.pushedAt),
    created_at: iso(r.createdAt),
    updated_at: iso(r.pushedAt),
    permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    allow_forking: true,
    web_commit_signoff_required: false,
    forks: 0,
    open_issues: openIssues,
    watchers: 0,
    license: { key: 'mit', name: 'MIT License', url: `${w.api}/licenses/mit`, spdx_id: 'MIT', node_id: 'MDc6TGljZW5zZTEz' },
  };
}

function fullLabel(w: World, r: Repo, l: Label) {
  return {
    id: l.id,
    node_id: nodeId('Label', l.id),
    url: `${w.api}/repos/${r.owner.login}/${r.name}/labels/${encodeURIComponent(l.name)}`,
    name: l.name,
    description: l.description,
    color: l.color,
    default: false,
  };
}

export function release(w: World, r: Repo, rel: SandboxRelease) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  const tagPart = rel.draft ? `untagged-${createHash('sha1').update(String(rel.id)).digest('hex').slice(0, 20)}` : enc(rel.tagName);
  return {
    url: `${u}/releases/${rel.id}`,
    html_url: `${WEB}/${r.owner.login}/${r.name}/releases/tag/${tagPart}`,
    assets_url: `${u}/releases/${rel.id}/assets`,
    upload_url: `${w.api}/repos/${r.owner.login}/${r.name}/releases/${rel.id}/assets{?name,label}`,
    tarball_url: rel.draft ? null : `${u}/tarball/${enc(rel.tagName)}`,
    zipball_url: rel.draft ? null : `${u}/zipball/${enc(rel.tagName)}`,
    id: rel.id,
    node_id: nodeId('Release', rel.id),
    tag_name: rel.tagName,
    target_commitish: rel.targetCommitish,
    name: rel.name,
    body: rel.body,
    draft: rel.draft,
    prerelease: rel.prerelease,
    immutable: false,
    created_at: iso(rel.createdAt),
    published_at: isoOrNull(rel.publishedAt),
    author: userByLogin(w, rel.author),
    assets: [],
  };
}

export function gitRef(w: World, r: Repo, ref: string, sha: string) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  return {
    ref,
    node_id: nodeId('Ref', `${r.id}:${ref}`),
    url: `${u}/git/${enc(ref)}`,
    object: { type: 'commit', sha, url: `${u}/git/commits/${sha}` },
  };
}

function pullLinks(w: World, r: Repo, p: SandboxPull) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  return {
    url: `${u}/pulls/${p.number}`,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    html_url: `${WEB}/${r.owner.login}/${r.name}/pull/${p.number}`,
    diff_url: `${WEB}/${r.owner.login}/${r.name}/pull/${p.number}.diff`,
    patch_url: `${WEB}/${r.owner.login}/${r.name}/pull/${p.number}.patch`,
    issue_url: `${u}/issues/${p.number}`,
    commits_url: `${u}/pulls/${p.number}/commits`,
    review_comments_url: `${u}/pulls/${p.number}/comments`,
    review_comment_url: `${u}/pulls/comments{/number}`,
    comments_url: `${u}/issues/${p.number}/comments`,
    statuses_url: `${u}/statuses/${p.headSha}`,
  };
}

export function pullSimple(w: World, r: Repo, p: SandboxPull) {
  const links = pullLinks(w, r, p);
  const branch = (ref: string, sha: string) => ({
    label: `${r.owner.login}:${ref}`,
    ref,
    sha,
    user: simpleUser(w, r.owner),
    repo: repository(w, r),
  });
  return {
    ...links,
    number: p.number,
    state: p.state,
    locked: false,
    title: p.title,
    user: userByLogin(w, p.user),
    body: p.body,
    labels: p.labels.map((name) => fullLabel(w, r, w.label(r, name))),
    milestone: null,
    active_lock_reason: null,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    closed_at: isoOrNull(p.closedAt),
    merged_at: isoOrNull(p.mergedAt),
    merge_commit_sha: p.mergeCommitSha,
    assignee: null,
    assignees: [],
    requested_reviewers: [],
    requested_teams: [],
    head: branch(p.headRef, p.headSha),
    base: branch(p.baseRef, p.baseSha),
    _links: {
      self: { href: links.url },
      html: { href: links.html_url },
      issue: { href: links.issue_url },
      comments: { href: links.comments_url },
      review_comments: { href: links.review_comments_url },
      review_comment: { href: links.review_comment_url },
      commits: { href: links.commits_url },
      statuses: { href: links.statuses_url },
    },
    author_association: w.association(r, p.user),
    auto_merge: null,
    draft: p.draft,
  };
}

export function pullFull(w: World, r: Repo, p: SandboxPull) {
  const merged = p.mergedAt !== null;
  return {
    ...pullSimple(w, r, p),
    merged,
    mergeable: merged ? null : true,
    rebaseable: merged ? null : true,
    mergeable_state: merged ? 'unknown' : 'clean',
    merged_by: p.mergedBy ? userByLogin(w, p.mergedBy) : null,
    comments: 0,
    review_comments: 0,
    maintainer_can_modify: false,
    commits: 1,
    additions: 1,
    deletions: 0,
    changed_files: 1,
  };
}

export function searchItem(w: World, r: Repo, p: SandboxPull) {
  const links = pullLinks(w, r, p);
  return {
    url: links.issue_url,
    repository_url: `${w.api}/repos/${r.owner.login}/${r.name}`,
    labels_url: `${links.issue_url}/labels{/name}`,
    comments_url: links.comments_url,
    events_url: `${links.issue_url}/events`,
    html_url: links.html_url,
    id: p.id,
    node_id: nodeId('PullRequest', p.id),
    number: p.number,
    title: p.title,
    user: userByLogin(w, p.user),
    labels: p.labels.map((name) => {
      const l = w.label(r, name);
      return { ...fullLabel(w, r, l) };
    }),
    state: p.state,
    locked: false,
    assignee: null,
    assignees: [],
    milestone: null,
    comments: 0,
    created_at: iso(p.createdAt),
    updated_at: iso(p.updatedAt),
    closed_at: isoOrNull(p.closedAt),
    author_association: w.association(r, p.user),
    active_lock_reason: null,
    draft: p.draft,
    pull_request: {
      url: links.url,
      html_url: links.html_url,
      diff_url: links.diff_url,
      patch_url: links.patch_url,
      merged_at: isoOrNull(p.mergedAt),
    },
    ...(p.body !== null ? { body: p.body } : {}),
    score: 1,
  };
}

export function commitAuthor(w: World, login: string, date: number) {
  const a = w.ensureUser(login);
  return { name: a.name ?? a.login, email: a.email ?? `${a.id}+${a.login}@users.noreply.github.com`, date: iso(date) };
}

export function fileCommit(w: World, r: Repo, branch: string, path: string, blob: Blob, c: Commit) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  const web = `${WEB}/${r.owner.login}/${r.name}`;
  return {
    content: {
      name: path.split('/').pop() ?? path,
      path,
      sha: blob.sha,
      size: blob.content.length,
      url: `${u}/contents/${enc(path)}?ref=${encodeURIComponent(branch)}`,
      html_url: `${web}/blob/${enc(branch)}/${enc(path)}`,
      git_url: `${u}/git/blobs/${blob.sha}`,
      download_url: `https://raw.githubusercontent.com/${r.owner.login}/${r.name}/${enc(branch)}/${enc(path)}`,
      type: 'file',
      _links: {
        self: `${u}/contents/${enc(path)}?ref=${encodeURIComponent(branch)}`,
        git: `${u}/git/blobs/${blob.sha}`,
        html: `${web}/blob/${enc(branch)}/${enc(path)}`,
      },
    },
    commit: {
      sha: c.sha,
      node_id: nodeId('Commit', c.sha),
      url: `${u}/git/commits/${c.sha}`,
      html_url: `${web}/commit/${c.sha}`,
      author: commitAuthor(w, c.author, c.date),
      committer: { name: 'GitHub', email: 'noreply@github.com', date: iso(c.date) },
      message: c.message,
      tree: { url: `${u}/git/trees/${c.treeSha}`, sha: c.treeSha },
      parents: c.parents.map((sha) => ({ url: `${u}/git/commits/${sha}`, html_url: `${web}/commit/${sha}`, sha })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    },
  };
}

/** An entry of the contents API: a file (with its text, base64 as GitHub wraps it) or a directory. */
export function contentEntry(w: World, r: Repo, ref: string, path: string, entry: { type: 'file'; blob: Blob } | { type: 'dir'; sha: string }) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  const web = `${WEB}/${r.owner.login}/${r.name}`;
  const self = `${u}/contents/${enc(path)}?ref=${encodeURIComponent(ref)}`;
  const isFile = entry.type === 'file';
  const sha = isFile ? entry.blob.sha : entry.sha;
  const git = isFile ? `${u}/git/blobs/${sha}` : `${u}/git/trees/${sha}`;
  const html = `${web}/${isFile ? 'blob' : 'tree'}/${enc(ref)}/${enc(path)}`;
  return {
    type: entry.type,
    size: isFile ? entry.blob.content.length : 0,
    name: path.split('/').pop() ?? path,
    path,
    sha,
    url: self,
    git_url: git,
    html_url: html,
    download_url: isFile ? `https://raw.githubusercontent.com/${r.owner.login}/${r.name}/${enc(ref)}/${enc(path)}` : null,
    _links: { self, git, html },
  };
}

export function deployment(w: World, r: Repo, d: SandboxDeployment) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  return {
    url: `${u}/deployments/${d.id}`,
    id: d.id,
    node_id: nodeId('Deployment', d.id),
    sha: d.sha,
    ref: d.ref,
    task: d.task,
    payload: d.payload,
    original_environment: d.originalEnvironment,
    environment: d.environment,
    description: d.description,
    creator: userByLogin(w, d.creator),
    created_at: iso(d.createdAt),
    updated_at: iso(d.updatedAt),
    statuses_url: `${u}/deployments/${d.id}/statuses`,
    repository_url: u,
    transient_environment: d.transient,
    production_environment: d.production,
  };
}

export function deploymentStatus(w: World, r: Repo, d: SandboxDeployment, s: SandboxDeploymentStatus) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  return {
    url: `${u}/deployments/${d.id}/statuses/${s.id}`,
    id: s.id,
    node_id: nodeId('DeploymentStatus', s.id),
    state: s.state,
    creator: userByLogin(w, s.creator),
    description: s.description,
    environment: s.environment,
    target_url: s.targetUrl,
    created_at: iso(s.createdAt),
    updated_at: iso(s.createdAt),
    deployment_url: `${u}/deployments/${d.id}`,
    repository_url: u,
    environment_url: s.environmentUrl,
    log_url: s.logUrl,
  };
}

export function rateLimitOverview(w: World) {
  const core = { limit: 5000, used: w.rate.used, remaining: 5000 - w.rate.used, reset: w.rate.resetAt };
  const search = { limit: 30, used: w.searchRate.used, remaining: 30 - w.searchRate.used, reset: w.searchRate.resetAt };
  const fresh = (limit: number) => ({ limit, used: 0, remaining: limit, reset: w.rate.resetAt });
  return {
    resources: { core, search, graphql: fresh(5000), integration_manifest: fresh(5000), code_search: fresh(10) },
    rate: core,
  };
}
