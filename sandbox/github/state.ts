/** The sandbox's in-memory GitHub: accounts, teams, repositories and their git data. */
import { createHash } from 'node:crypto';
import { type Ctx, notFound } from './router';
import type { AddUserOptions, SandboxDeployment, SandboxPull, SandboxRelease, SandboxWorkflowRun, WorkflowConclusion } from './types';

export interface Account {
  login: string;
  id: number;
  type: 'User' | 'Organization' | 'Bot';
  name: string | null;
  email: string | null;
  siteAdmin: boolean;
  createdAt: number;
}

export interface Membership {
  login: string;
  role: 'member' | 'maintainer';
  state: 'active' | 'pending';
}

export interface Team {
  id: number;
  org: Account;
  slug: string;
  name: string;
  description: string | null;
  createdAt: number;
  /** Lower-cased login → membership, in insertion order. */
  members: Map<string, Membership>;
}

export interface Blob {
  sha: string;
  content: Buffer;
}

export interface Commit {
  sha: string;
  treeSha: string;
  parents: string[];
  message: string;
  author: string;
  date: number;
  /** Path → blob: the whole tree at this commit. */
  tree: Map<string, Blob>;
}

export interface Label {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

export interface Repo {
  id: number;
  owner: Account;
  name: string;
  defaultBranch: string;
  private: boolean;
  description: string | null;
  createdAt: number;
  pushedAt: number;
  /** Full ref name → commit SHA. */
  refs: Map<string, string>;
  commits: Map<string, Commit>;
  labels: Map<string, Label>;
  releases: SandboxRelease[];
  pulls: SandboxPull[];
  deployments: SandboxDeployment[];
  nextNumber: number;
  /** GitHub Actions workflows (by file name) and their runs. */
  workflows?: Map<string, Workflow>;
  runs?: SandboxWorkflowRun[];
}

export interface Workflow {
  id: number;
  file: string;
  name: string;
  runName?: string;
  inputs: Record<string, { required?: boolean; default?: string }>;
  dispatchable: boolean;
  conclusion: WorkflowConclusion;
  durationMs: number;
  queuedMs: number;
  listDelayMs: number;
  runDetails: boolean;
  createdAt: number;
}

const ID_BASES: Record<string, number> = {
  user: 1000,
  team: 2_000_000,
  repo: 300_000_000,
  label: 400_000_000,
  release: 150_000_000,
  pull: 1_800_000_000,
  deployment: 700_000_000,
  status: 1_500_000_000,
  workflow: 90_000_000,
  run: 9_000_000_000,
};

/** In-memory GitHub: accounts, teams, repositories and their git data. */
export class World {
  readonly accounts = new Map<string, Account>();
  readonly teams = new Map<string, Team>();
  readonly repos = new Map<string, Repo>();
  private readonly counters = new Map<string, number>();
  private shaCounter = 0;
  /** Core rate-limit window. */
  rate = { used: 0, resetAt: Math.floor(Date.now() / 1000) + 3600 };
  searchRate = { used: 0, resetAt: Math.floor(Date.now() / 1000) + 60 };

  constructor(
    /** Base of API URLs in bodies and links (the sandbox's own URL). */
    public api: string,
    readonly viewer: string,
  ) {}

  nextId(kind: keyof typeof ID_BASES): number {
    const n = (this.counters.get(kind) ?? ID_BASES[kind]) + 1;
    this.counters.set(kind, n);
    return n;
  }

  newSha(seed: string): string {
    return createHash('sha1').update(`${seed}\0${++this.shaCounter}\0${Date.now()}`).digest('hex');
  }

  account(login: string): Account | undefined {
    return this.accounts.get(login.toLowerCase());
  }

  /** The account, created as a user when unknown. */
  ensureUser(login: string, opts: AddUserOptions = {}): Account {
    const existing = this.account(login);
    if (existing && existing.type !== 'Organization') {
      if (opts.name !== undefined) existing.name = opts.name;
      if (opts.email !== undefined) existing.email = opts.email;
      if (opts.type) existing.type = opts.type;
      if (opts.siteAdmin !== undefined) existing.siteAdmin = opts.siteAdmin;
      return existing;
    }
    if (existing) return existing;
    const acc: Account = {
      login,
      id: this.nextId('user'),
      type: opts.type ?? (login.endsWith('[bot]') ? 'Bot' : 'User'),
      name: opts.name ?? null,
      email: opts.email ?? null,
      siteAdmin: opts.siteAdmin ?? false,
      createdAt: Date.parse('2015-06-01T12:00:00Z'),
    };
    this.accounts.set(login.toLowerCase(), acc);
    return acc;
  }

  ensureOrg(login: string): Account {
    const existing = this.account(login);
    if (existing) {
      existing.type = 'Organization';
      return existing;
    }
    const acc: Account = {
      login,
      id: this.nextId('user'),
      type: 'Organization',
      name: login,
      email: null,
      siteAdmin: false,
      createdAt: Date.parse('2011-03-01T12:00:00Z'),
    };
    this.accounts.set(login.toLowerCase(), acc);
    return acc;
  }

  team(org: string, slug: string): Team | undefined {
    return this.teams.get(`${org}/${slug}`.toLowerCase());
  }

  repo(owner: string, name: string): Repo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  repoOr404(ctx: Ctx): Repo {
    const repo = this.repo(ctx.params.owner, ctx.params.repo);
    if (!repo) throw notFound();
    return repo;
  }

  /** A commit on top of `parent` with `changes` applied to its tree. */
  commit(repo: Repo, parent: string | undefined, message: string, author: string, changes: Record<string, string | Buffer> = {}): Commit {
    const tree = new Map(parent ? repo.commits.get(parent)?.tree : undefined);
    for (const [path, content] of Object.entries(changes)) {
      const buf = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
      tree.set(path, { sha: blobSha(buf), content: buf });
    }
    const treeSha = createHash('sha1')
      .update(
        [...tree.entries()]
          .map(([p, b]) => `${p}\0${b.sha}`)
          .sort()
          .join('\n'),
      )
      .digest('hex');
    const commit: Commit = {
      sha: this.newSha(`${repo.id}:${message}:${parent ?? ''}`),
      treeSha,
      parents: parent ? [parent] : [],
      message,
      author,
      date: Date.now(),
      tree,
    };
    repo.commits.set(commit.sha, commit);
    return commit;
  }

  /** SHA of a branch, tag, full ref or (abbreviated) commit SHA. */
  resolve(repo: Repo, commitish: string): string | undefined {
    for (const ref of [`refs/heads/${commitish}`, `refs/tags/${commitish}`, commitish]) {
      const sha = repo.refs.get(ref);
      if (sha) return sha;
    }
    if (/^[0-9a-f]{7,40}$/i.test(commitish)) {
      const hits = [...repo.commits.keys()].filter((sha) => sha.startsWith(commitish.toLowerCase()));
      if (hits.length === 1) return hits[0];
    }
    return undefined;
  }

  label(repo: Repo, name: string): Label {
    let label = repo.labels.get(name);
    if (!label) {
      const color = createHash('md5').update(name).digest('hex').slice(0, 6);
      label = { id: this.nextId('label'), name, color, description: null };
      repo.labels.set(name, label);
    }
    return label;
  }

  /** How GitHub relates `login` to the repository in `author_association`. */
  association(repo: Repo, login: string): string {
    if (repo.owner.login.toLowerCase() === login.toLowerCase()) return 'OWNER';
    for (const team of this.teams.values()) {
      if (team.org !== repo.owner) continue;
      if (team.members.get(login.toLowerCase())?.state === 'active') return 'MEMBER';
    }
    return repo.pulls.some((p) => p.mergedAt && p.user.toLowerCase() === login.toLowerCase()) ? 'CONTRIBUTOR' : 'NONE';
  }
}

function blobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}
