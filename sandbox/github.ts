/**
 * GitHub sandbox: a local stand-in for the GitHub REST API (the endpoints Slipway calls),
 * with in-memory state that tests set up, fault injection and a request log. This file is
 * the server; its parts are in github/ (the contract check, routing, state, response
 * bodies, handlers).
 *
 * Every answer is checked against GitHub's published OpenAPI description (a pruned copy of
 * the dereferenced api.github.com document of `@octokit/openapi`: github/openapi.ts): the
 * operation's response schema for the status code, or GitHub's basic error shape for error
 * statuses the description leaves out. An answer that does not conform is replaced by a 500
 * carrying the validation errors and recorded in `contractViolations`, so the sandbox
 * cannot drift from the real API's shapes. Request bodies are checked against the
 * operation's request schema and refused with 422, as GitHub does.
 *
 *   const gh = await startGitHubSandbox({ token: 't0ken' });
 *   gh.addTeam('WordPress', 'openverse-maintainers', ['alice', 'bob'], { pending: ['carol'] });
 *   const octokit = new Octokit({ auth: 't0ken', baseUrl: gh.url });
 *
 * Adding an endpoint: write a handler, add one line to `ROUTES` (github/routes.ts) with the
 * method and the path exactly as the OpenAPI description spells it (its schemas are found by
 * that key), and run `npm run github-openapi` to add its operation to the pruned copy.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { seededRandom } from './random';
import { readBody } from './http';
import { Contract, type SpecOperation, loadContract } from './github/contract';
import { type Body, type CompiledRoute, HttpError, type Reply, compileRoute, matchRoute, unprocessable } from './github/router';
import { ROUTE_KEYS, ROUTES, UNMETERED } from './github/routes';
import { type Membership, type Repo, type Team, type Workflow, World } from './github/state';
import type {
  AddCommitOptions,
  AddMergedPullInput,
  AddRepoOptions,
  AddTeamOptions,
  AddUserOptions,
  AddWorkflowOptions,
  ContractViolation,
  GitHubFaults,
  GitHubMutation,
  GitHubRequest,
  GitHubSandbox,
  GitHubSandboxOptions,
  SandboxDeployment,
  SandboxPull,
  SandboxRelease,
  SandboxWorkflowRun,
} from './github/types';

export type * from './github/types';

const COMPILED_ROUTES = ROUTES.map(compileRoute);
const GENERIC_DOCS = 'https://docs.github.com/rest';
const RATE_LIMIT_DOCS = 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api';

class Sandbox implements GitHubSandbox {
  readonly requests: GitHubRequest[] = [];
  readonly contractViolations: ContractViolation[] = [];
  private readonly applied: GitHubMutation[] = [];
  private readonly world: World;
  private faults: GitHubFaults = {};
  private roll = seededRandom(1);
  private counted = 0;
  private readonly corruptions = new Map<string, (body: any) => unknown>();
  private readonly server: http.Server;
  port = 0;

  constructor(
    private readonly contract: Contract,
    readonly token: string,
    readonly login: string,
  ) {
    this.world = new World('http://127.0.0.1', login);
    this.world.ensureUser(login);
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ message: `GitHub sandbox failed: ${err instanceof Error ? err.message : String(err)}` }));
      });
    });
  }

  get url(): string {
    return this.world.api;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.world.api = `http://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // --- state set-up -------------------------------------------------------------------

  addUser(login: string, opts: AddUserOptions = {}): void {
    this.world.ensureUser(login, opts);
  }

  addTeam(org: string, slug: string, members: string[], opts: AddTeamOptions = {}): void {
    const orgAccount = this.world.ensureOrg(org);
    const team: Team = {
      id: this.world.team(org, slug)?.id ?? this.world.nextId('team'),
      org: orgAccount,
      slug,
      name: opts.name ?? slug,
      description: opts.description ?? null,
      createdAt: Date.parse('2019-01-15T09:00:00Z'),
      members: new Map(),
    };
    const put = (login: string, role: Membership['role'], state: Membership['state']) => {
      const acc = this.world.ensureUser(login);
      team.members.set(login.toLowerCase(), { login: acc.login, role, state });
    };
    for (const login of members) put(login, 'member', 'active');
    for (const login of opts.maintainers ?? []) put(login, 'maintainer', 'active');
    for (const login of opts.pending ?? []) put(login, 'member', 'pending');
    this.world.teams.set(`${org}/${slug}`.toLowerCase(), team);
  }

  addRepo(owner: string, name: string, opts: AddRepoOptions = {}): string {
    const w = this.world;
    const ownerAccount = w.account(owner) ?? w.ensureUser(owner);
    const now = Date.now();
    const repo: Repo = {
      id: w.nextId('repo'),
      owner: ownerAccount,
      name,
      defaultBranch: opts.defaultBranch ?? 'main',
      private: opts.private ?? false,
      description: opts.description ?? null,
      createdAt: Date.parse('2020-02-02T10:00:00Z'),
      pushedAt: now,
      refs: new Map(),
      commits: new Map(),
      labels: new Map(),
      releases: [],
      pulls: [],
      deployments: [],
      nextNumber: 1,
    };
    const first = w.commit(repo, undefined, 'Initial commit', w.viewer, { 'README.md': `# ${name}\n`, ...opts.files });
    repo.refs.set(`refs/heads/${repo.defaultBranch}`, first.sha);
    w.repos.set(`${owner}/${name}`.toLowerCase(), repo);
    return first.sha;
  }

  private repoOrThrow(owner: string, name: string): Repo {
    const repo = this.world.repo(owner, name);
    if (!repo) throw new Error(`GitHub sandbox: no repository ${owner}/${name} (addRepo first)`);
    return repo;
  }

  addCommit(owner: string, name: string, opts: AddCommitOptions = {}): string {
    const repo = this.repoOrThrow(owner, name);
    const branch = opts.branch ?? repo.defaultBranch;
    const parent = repo.refs.get(`refs/heads/${branch}`) ?? repo.refs.get(`refs/heads/${repo.defaultBranch}`);
    const c = this.world.commit(repo, parent, opts.message ?? 'Update', this.world.viewer, opts.files);
    for (const other of opts.merge ?? []) {
      if (!repo.commits.has(other)) throw new Error(`GitHub sandbox: cannot merge ${other}: no such commit in ${owner}/${name}`);
      c.parents.push(other);
    }
    repo.refs.set(`refs/heads/${branch}`, c.sha);
    repo.pushedAt = c.date;
    return c.sha;
  }

  addMergedPull(owner: string, name: string, input: AddMergedPullInput): number {
    const w = this.world;
    const repo = this.repoOrThrow(owner, name);
    const mergedAt = new Date(input.mergedAt).getTime();
    if (Number.isNaN(mergedAt)) throw new Error(`GitHub sandbox: invalid mergedAt ${String(input.mergedAt)}`);
    const number = input.number ?? repo.nextNumber;
    if (repo.pulls.some((p) => p.number === number)) throw new Error(`GitHub sandbox: ${owner}/${name}#${number} exists`);
    repo.nextNumber = Math.max(repo.nextNumber, number + 1);
    w.ensureUser(input.author);
    for (const l of input.labels ?? []) w.label(repo, l);
    const baseRef = input.base ?? repo.defaultBranch;
    const baseSha = repo.refs.get(`refs/heads/${baseRef}`) ?? w.newSha('base');
    const createdAt = input.createdAt !== undefined ? new Date(input.createdAt).getTime() : mergedAt - 3_600_000;
    repo.pulls.push({
      id: w.nextId('pull'),
      number,
      title: input.title,
      body: input.body ?? null,
      state: 'closed',
      user: input.author,
      headRef: input.head ?? `pr-${number}`,
      headSha: w.newSha(`head:${number}`),
      baseRef,
      baseSha,
      labels: [...(input.labels ?? [])],
      draft: false,
      createdAt,
      updatedAt: mergedAt,
      closedAt: mergedAt,
      mergedAt,
      mergeCommitSha: input.mergeCommitSha ?? w.newSha(`merge:${number}`),
      mergedBy: input.mergedBy ?? w.viewer,
    });
    return number;
  }

  // --- inspection -----------------------------------------------------------------------

  mutations(): GitHubMutation[] {
    return structuredClone(this.applied);
  }

  resetRequests(): void {
    this.requests.length = 0;
    this.applied.length = 0;
  }

  setFaults(faults: GitHubFaults): void {
    this.faults = { ...faults };
    this.roll = seededRandom(faults.seed ?? 1);
    this.counted = 0;
  }

  corruptNextResponse(operationId: string, mutate: (body: any) => unknown): void {
    if (![...this.contract.operations.values()].some((op) => op.operationId === operationId)) {
      throw new Error(`GitHub sandbox: no route serves ${operationId}`);
    }
    this.corruptions.set(operationId, mutate);
  }

  releases(owner: string, name: string): SandboxRelease[] {
    return structuredClone(this.repoOrThrow(owner, name).releases);
  }

  refs(owner: string, name: string): Record<string, string> {
    return Object.fromEntries(this.repoOrThrow(owner, name).refs);
  }

  pulls(owner: string, name: string): SandboxPull[] {
    return structuredClone(this.repoOrThrow(owner, name).pulls);
  }

  deployments(owner: string, name: string): SandboxDeployment[] {
    return structuredClone(this.repoOrThrow(owner, name).deployments);
  }

  addWorkflow(owner: string, name: string, file: string, opts: AddWorkflowOptions = {}): number {
    const repo = this.repoOrThrow(owner, name);
    if (!/^[\w.-]+\.ya?ml$/.test(file)) throw new Error(`GitHub sandbox: a workflow file name ends in .yml or .yaml, got '${file}'`);
    repo.workflows ??= new Map();
    const existing = repo.workflows.get(file);
    const wf: Workflow = {
      id: existing?.id ?? this.world.nextId('workflow'),
      file,
      name: opts.name ?? existing?.name ?? file.replace(/\.ya?ml$/, ''),
      runName: opts.runName ?? existing?.runName,
      inputs: { ...(opts.inputs ?? existing?.inputs ?? {}) },
      dispatchable: opts.dispatchable ?? existing?.dispatchable ?? true,
      conclusion: opts.conclusion ?? existing?.conclusion ?? 'success',
      durationMs: opts.durationMs ?? existing?.durationMs ?? 1000,
      queuedMs: opts.queuedMs ?? existing?.queuedMs ?? 0,
      listDelayMs: opts.listDelayMs ?? existing?.listDelayMs ?? 0,
      runDetails: opts.runDetails ?? existing?.runDetails ?? true,
      createdAt: existing?.createdAt ?? Date.now(),
    };
    repo.workflows.set(file, wf);
    return wf.id;
  }

  workflowRuns(owner: string, name: string): SandboxWorkflowRun[] {
    return structuredClone(this.repoOrThrow(owner, name).runs ?? []);
  }

  file(owner: string, name: string, path: string, ref?: string): string | undefined {
    const repo = this.repoOrThrow(owner, name);
    const sha = this.world.resolve(repo, ref ?? repo.defaultBranch);
    return sha ? repo.commits.get(sha)?.tree.get(path)?.content.toString('utf8') : undefined;
  }

  // --- request handling -----------------------------------------------------------------

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const authorization = req.headers.authorization;
    const raw = await readBody(req);
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', this.world.api);
    const record: GitHubRequest = { method, path: url.pathname, query: url.search, status: 0 };
    this.requests.push(record);
    const { reply, routeKey } = this.answer(method, url, raw, authorization, record);
    record.status = reply.status;
    if (routeKey !== undefined && method !== 'GET' && method !== 'HEAD' && reply.status >= 200 && reply.status < 300) {
      this.applied.push({ ...record, body: parseJson(raw) ?? null });
    }
    this.send(res, reply, url.pathname);
  }

  /** Authentication, routing, faults and the handler; then the contract check of whatever is answered. */
  private answer(method: string, url: URL, raw: string, authorization: string | undefined, record: GitHubRequest): { reply: Reply; routeKey?: string } {
    const match = matchRoute(COMPILED_ROUTES, method, url.pathname);
    const op = match ? this.contract.operation(match.route.key) : undefined;
    record.operationId = op?.operationId;
    const auth = /^(?:token|bearer)\s+(\S+)$/i.exec(authorization ?? '');
    let reply: Reply;
    if (!auth || auth[1] !== this.token) {
      reply = errorReply(401, authorization ? 'Bad credentials' : 'Requires authentication', GENERIC_DOCS);
    } else if (!match || !op) {
      reply = errorReply(404, 'Not Found', GENERIC_DOCS);
    } else {
      if (!UNMETERED.has(match.route.key)) {
        if (url.pathname.startsWith('/search/')) this.world.searchRate.used++;
        else this.world.rate.used++;
      }
      const fault = UNMETERED.has(match.route.key) ? undefined : this.fault(url.pathname, method);
      if (fault?.applied) this.run(match.route, op, match.params, method, url, raw);
      reply = fault?.reply ?? this.run(match.route, op, match.params, method, url, raw);
      const corrupt = this.corruptions.get(op.operationId);
      if (corrupt) {
        this.corruptions.delete(op.operationId);
        const out = corrupt(reply.body);
        if (out !== undefined) reply = { ...reply, body: out };
      }
    }

    const errors = match ? this.contract.checkResponse(match.route.key, reply.status, reply.body) : this.contract.checkError(reply.body);
    if (errors.length) {
      const operationId = op?.operationId ?? '(no operation)';
      this.contractViolations.push({ method, path: url.pathname, operationId, status: reply.status, errors });
      reply = {
        status: 500,
        body: {
          message: `GitHub sandbox: the ${reply.status} answer of ${operationId} does not conform to GitHub's OpenAPI description`,
          errors: errors.map((e) => ({ code: 'contract_violation', message: e })),
          documentation_url: op?.docsUrl ?? GENERIC_DOCS,
          status: '500',
        },
      };
    }
    return { reply, routeKey: match?.route.key };
  }

  /** The handler's answer (or the GitHub error it threw). */
  private run(route: CompiledRoute, op: SpecOperation, params: Record<string, string>, method: string, url: URL, raw: string): Reply {
    try {
      const body = parseJson(raw);
      if (raw.trim() && body === undefined) throw new HttpError(400, 'Problems parsing JSON');
      if (body !== undefined && (typeof body !== 'object' || body === null || Array.isArray(body))) {
        throw new HttpError(400, 'Body should be a JSON object');
      }
      const problems = method === 'GET' ? [] : this.contract.checkRequest(route.key, body);
      if (problems.length) throw unprocessable(`Invalid request.\n\n${problems.join('\n')}`);
      return route.handler(this.world, { params, query: url.searchParams, body: (body ?? {}) as Body, path: url.pathname });
    } catch (err) {
      if (err instanceof HttpError) {
        return {
          status: err.status,
          body: { message: err.message, ...(err.errors ? { errors: err.errors } : {}), documentation_url: op.docsUrl, status: String(err.status) },
          headers: err.headers,
        };
      }
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.contractViolations.push({ method, path: url.pathname, operationId: op.operationId, status: 500, errors: [`handler threw: ${message}`] });
      return errorReply(500, `GitHub sandbox handler for ${op.operationId} threw: ${String(err)}`, GENERIC_DOCS);
    }
  }

  /** An injected fault for this request, if the dice or the counter say so; `applied`: the request takes effect all the same. */
  private fault(pathname: string, method: string): { reply: Reply; applied?: boolean } | undefined {
    const reply = this.faultReply(pathname);
    if (reply) return { reply };
    const f = this.faults;
    if (f.writeErrorRate && method !== 'GET' && method !== 'HEAD' && this.roll() < f.writeErrorRate) {
      return { reply: errorReply(502, 'Server Error', GENERIC_DOCS), applied: f.writeErrorsApplied === true };
    }
    return undefined;
  }

  private faultReply(pathname: string): Reply | undefined {
    const f = this.faults;
    this.counted++;
    const now = Date.now();
    if (f.rateLimitEvery && this.counted % f.rateLimitEvery === 0) {
      const reset = Math.ceil((now + (f.rateLimitResetSeconds ?? 1) * 1000) / 1000);
      const viewer = this.world.account(this.login)!;
      return {
        ...errorReply(
          403,
          `API rate limit exceeded for user ID ${viewer.id}. If you reach out to GitHub Support for help, please include the request ID ${requestId()}.`,
          RATE_LIMIT_DOCS,
        ),
        headers: {
          'x-ratelimit-limit': '5000',
          'x-ratelimit-remaining': '0',
          'x-ratelimit-used': '5000',
          'x-ratelimit-reset': String(reset),
          'x-ratelimit-resource': pathname.startsWith('/search/') ? 'search' : 'core',
        },
      };
    }
    if (f.secondaryRateLimitRate && this.roll() < f.secondaryRateLimitRate) {
      const status = this.roll() < 0.5 ? 403 : 429;
      return {
        ...errorReply(
          status,
          `You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ${requestId()}.`,
          `${RATE_LIMIT_DOCS}#about-secondary-rate-limits`,
        ),
        headers: { 'retry-after': String(f.retryAfterSeconds ?? 1) },
      };
    }
    if (f.errorRate && this.roll() < f.errorRate) {
      return errorReply(502, 'Server Error', GENERIC_DOCS);
    }
    return undefined;
  }

  private send(res: http.ServerResponse, reply: Reply, pathname: string): void {
    const search = pathname.startsWith('/search/');
    const rate = search ? this.world.searchRate : this.world.rate;
    const limit = search ? 30 : 5000;
    const headers: Record<string, string> = {
      'x-github-api-version-selected': '2022-11-28',
      'x-github-media-type': 'github.v3; format=json',
      'x-github-request-id': requestId(),
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': String(Math.max(0, limit - rate.used)),
      'x-ratelimit-reset': String(rate.resetAt),
      'x-ratelimit-used': String(rate.used),
      'x-ratelimit-resource': search ? 'search' : 'core',
      ...reply.headers,
    };
    if (reply.body === undefined) {
      res.writeHead(reply.status, headers);
      res.end();
      return;
    }
    const text = JSON.stringify(reply.body);
    headers['content-type'] = 'application/json; charset=utf-8';
    headers['content-length'] = String(Buffer.byteLength(text));
    res.writeHead(reply.status, headers);
    res.end(text);
  }
}

function errorReply(status: number, message: string, docs: string): Reply {
  return { status, body: { message, documentation_url: docs, status: String(status) } };
}

function requestId(): string {
  const hex = createHash('md5').update(`${Math.random()}`).digest('hex').toUpperCase();
  return `${hex.slice(0, 4)}:${hex.slice(4, 10)}:${hex.slice(10, 17)}:${hex.slice(17, 24)}:${hex.slice(24, 32)}`;
}

function parseJson(raw: string): unknown {
  if (!raw.trim()) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/**
 * Starts the sandbox on 127.0.0.1 (a free port unless `port` is given). The first start in
 * a process reads the pruned OpenAPI description.
 */
export async function startGitHubSandbox(opts: GitHubSandboxOptions = {}): Promise<GitHubSandbox> {
  const contract = await loadContract(ROUTE_KEYS);
  const sandbox = new Sandbox(contract, opts.token ?? 'sandbox-token', opts.login ?? 'openverse-bot');
  await sandbox.listen(opts.port ?? 0);
  return sandbox;
}
