/**
 * GitHub sandbox: a local stand-in for the GitHub REST API (the endpoints Slipway calls),
 * with in-memory state that tests set up, fault injection and a request log.
 *
 * Every answer is checked against GitHub's published OpenAPI description
 * (`@octokit/openapi`, the dereferenced api.github.com document): the operation's response
 * schema for the status code, or GitHub's basic error shape for error statuses the
 * description leaves out. An answer that does not conform is replaced by a 500 carrying the
 * validation errors and recorded in `contractViolations`, so the sandbox cannot drift from
 * the real API's shapes. Request bodies are checked against the operation's request schema
 * and refused with 422, as GitHub does.
 *
 *   const gh = await startGitHubSandbox({ token: 't0ken' });
 *   gh.addTeam('WordPress', 'openverse-maintainers', ['alice', 'bob'], { pending: ['carol'] });
 *   const octokit = new Octokit({ auth: 't0ken', baseUrl: gh.url });
 *
 * Adding an endpoint: write a handler and add one line to `ROUTES` with the method and the
 * path exactly as the OpenAPI description spells it; its schemas are found by that key.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { seededRandom } from './random';

// ---------------------------------------------------------------------------------------
// Public types

export interface GitHubSandboxOptions {
  /** The token requests must carry (`Authorization: token <t>` or `Bearer <t>`). Default `sandbox-token`. */
  token?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Login of the token's owner: author of releases, pull requests and deployments. Default `openverse-bot`. */
  login?: string;
}

export interface GitHubFaults {
  /** Every Nth counted request gets a primary rate-limit 403 (`x-ratelimit-remaining: 0`, `x-ratelimit-reset`). */
  rateLimitEvery?: number;
  /** Seconds from now to the `x-ratelimit-reset` of those answers. Default 1. */
  rateLimitResetSeconds?: number;
  /** Share (0–1) of requests answered with a secondary rate limit: 403 or 429 with `retry-after`. */
  secondaryRateLimitRate?: number;
  /** `retry-after` of secondary rate limits, in seconds. Default 1. */
  retryAfterSeconds?: number;
  /** Share (0–1) of requests answered 502. */
  errorRate?: number;
  /** Seed of the fault dice, for repeatable runs. Default 1. */
  seed?: number;
}

/** One received request. `path` is the URL path as sent (percent-encoded), `query` the search string. */
export interface GitHubRequest {
  method: string;
  path: string;
  query: string;
  status: number;
  /** The OpenAPI operation it matched, if any. */
  operationId?: string;
}

/** An applied change: a non-GET request answered 2xx, with its JSON body. */
export interface GitHubMutation extends GitHubRequest {
  body: unknown;
}

/** An answer the sandbox was about to send that GitHub's OpenAPI description does not allow. */
export interface ContractViolation {
  method: string;
  path: string;
  operationId: string;
  status: number;
  errors: string[];
}

export interface SandboxRelease {
  id: number;
  tagName: string;
  targetCommitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  author: string;
  createdAt: number;
  publishedAt: number | null;
}

export interface SandboxPull {
  id: number;
  number: number;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  user: string;
  headRef: string;
  headSha: string;
  baseRef: string;
  baseSha: string;
  labels: string[];
  draft: boolean;
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
  mergedAt: number | null;
  mergeCommitSha: string | null;
  mergedBy: string | null;
}

export interface SandboxDeploymentStatus {
  id: number;
  state: string;
  description: string;
  environment: string;
  targetUrl: string;
  logUrl: string;
  environmentUrl: string;
  creator: string;
  createdAt: number;
}

export interface SandboxDeployment {
  id: number;
  sha: string;
  ref: string;
  task: string;
  payload: Record<string, unknown> | string;
  environment: string;
  originalEnvironment: string;
  description: string | null;
  creator: string;
  createdAt: number;
  updatedAt: number;
  transient: boolean;
  production: boolean;
  statuses: SandboxDeploymentStatus[];
}

/** How a GitHub Actions run ended. */
export type WorkflowConclusion =
  | 'success'
  | 'failure'
  | 'cancelled'
  | 'timed_out'
  | 'neutral'
  | 'skipped'
  | 'action_required'
  | 'startup_failure'
  | 'stale';

/** A GitHub Actions workflow of a repository: what its dispatched runs look like and how they end. */
export interface AddWorkflowOptions {
  /** The workflow's `name:`. Default: the file name without its extension. */
  name?: string;
  /**
   * The workflow's `run-name:`, the display title of its runs; `${{ inputs.<name> }}` is
   * replaced by the dispatch input. Default: the name.
   */
  runName?: string;
  /** Its `workflow_dispatch` inputs. Undeclared inputs are refused with 422, as GitHub does. Default none. */
  inputs?: Record<string, { required?: boolean; default?: string }>;
  /** Whether it has a `workflow_dispatch` trigger. Default true. */
  dispatchable?: boolean;
  /** How dispatched runs end. Default `success`. */
  conclusion?: WorkflowConclusion;
  /** Milliseconds from the dispatch until a run completes. Default 1000. */
  durationMs?: number;
  /** Milliseconds a run stays `queued` before it is `in_progress`. Default 0. */
  queuedMs?: number;
  /** Milliseconds after the dispatch before the run is listed or found (GitHub takes a few seconds). Default 0. */
  listDelayMs?: number;
  /**
   * Whether a dispatch asking for `return_run_details` gets the run's id (200). False: 204
   * regardless, as from a GitHub Enterprise Server that predates the parameter. Default true.
   */
  runDetails?: boolean;
}

/** A run of a workflow, created by a dispatch. */
export interface SandboxWorkflowRun {
  id: number;
  runNumber: number;
  workflowId: number;
  /** `.github/workflows/<file>`. */
  path: string;
  name: string;
  displayTitle: string;
  event: 'workflow_dispatch';
  /** The ref as dispatched (branch or tag name). */
  ref: string;
  headSha: string;
  /** The inputs as dispatched, with declared defaults filled in. */
  inputs: Record<string, string>;
  actor: string;
  createdAt: number;
  /** When it is (or was) listed, started and completed (epoch ms). */
  listedAt: number;
  startedAt: number;
  completesAt: number;
  conclusion: WorkflowConclusion;
  /** Set when the run was cancelled through the API before it completed. */
  cancelledAt?: number;
}

export interface AddUserOptions {
  name?: string | null;
  email?: string | null;
  /** `Bot` for app accounts. Default `User`. */
  type?: 'User' | 'Bot';
  siteAdmin?: boolean;
}

export interface AddTeamOptions {
  /** Invited, not yet accepted: the membership endpoint answers `state: "pending"`; not listed as members. */
  pending?: string[];
  /** Members with `role: "maintainer"` (also active members). */
  maintainers?: string[];
  name?: string;
  description?: string | null;
}

export interface AddRepoOptions {
  /** Default `main`. */
  defaultBranch?: string;
  description?: string | null;
  private?: boolean;
  /** Files of the initial commit (path → text). */
  files?: Record<string, string>;
}

export interface AddMergedPullInput {
  title: string;
  author: string;
  mergedAt: Date | string | number;
  labels?: string[];
  number?: number;
  body?: string | null;
  /** Default the repository's default branch. */
  base?: string;
  /** Default `pr-<number>`. */
  head?: string;
  mergedBy?: string;
  /** Default one hour before `mergedAt`. */
  createdAt?: Date | string | number;
}

export interface AddCommitOptions {
  /** Default the default branch; a new branch starts from the default branch's head. */
  branch?: string;
  message?: string;
  files?: Record<string, string>;
  /** Further parents after the branch's head (a merge commit). */
  merge?: string[];
}

export interface GitHubSandbox {
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** Login of the token's owner. */
  readonly login: string;
  close(): Promise<void>;
  /** Adds (or updates) a user account. */
  addUser(login: string, opts?: AddUserOptions): void;
  /** Adds a team to `org` (creating the organisation and unknown users). Replaces a team of that slug. */
  addTeam(org: string, slug: string, members: string[], opts?: AddTeamOptions): void;
  /** Adds a repository with one commit on its default branch. Returns that commit's SHA. */
  addRepo(owner: string, repo: string, opts?: AddRepoOptions): string;
  /** Adds a commit on top of `branch` (default: the default branch) and moves the branch. Returns its SHA. */
  addCommit(owner: string, repo: string, opts?: AddCommitOptions): string;
  /** Adds a closed, merged pull request (for release notes). Returns its number. */
  addMergedPull(owner: string, repo: string, pull: AddMergedPullInput): number;
  /** Every received request, in order. */
  readonly requests: GitHubRequest[];
  /** Applied changes (non-GET requests answered 2xx), in order. */
  mutations(): GitHubMutation[];
  resetRequests(): void;
  /** Answers that did not conform to GitHub's OpenAPI description (each was replaced by a 500). */
  readonly contractViolations: ContractViolation[];
  /** Replaces the fault settings (an empty object turns faults off). */
  setFaults(faults: GitHubFaults): void;
  /**
   * Test hook: the next answer of `operationId` (e.g. `users/get-by-username`) is passed
   * through `mutate` (which may change the body in place or return a new one) before it is
   * validated — to prove the validation is live.
   */
  corruptNextResponse(operationId: string, mutate: (body: any) => unknown): void;
  releases(owner: string, repo: string): SandboxRelease[];
  /** Full ref name (`refs/heads/main`, `refs/tags/…`) → commit SHA. */
  refs(owner: string, repo: string): Record<string, string>;
  pulls(owner: string, repo: string): SandboxPull[];
  deployments(owner: string, repo: string): SandboxDeployment[];
  /** Text of a file at a branch, tag or SHA (default: the default branch), or undefined. */
  file(owner: string, repo: string, path: string, ref?: string): string | undefined;
  /**
   * Adds a GitHub Actions workflow (`.github/workflows/<file>`) to a repository, or updates
   * the settings of one already added (keeping its id and runs). Returns its id.
   */
  addWorkflow(owner: string, repo: string, file: string, opts?: AddWorkflowOptions): number;
  /** Runs of a repository's workflows, oldest first. */
  workflowRuns(owner: string, repo: string): SandboxWorkflowRun[];
}

// ---------------------------------------------------------------------------------------
// The contract: GitHub's OpenAPI description

const SPEC_MODULE = '@octokit/openapi/generated/api.github.com.deref.json';
/** Where the description's generic error schema is read from. */
const BASIC_ERROR_SOURCE = 'GET /users/{username}';

interface SpecResponse {
  /** JSON schema of an `application/json` body, when the description gives one. */
  schema?: object;
}

interface SpecOperation {
  operationId: string;
  docsUrl: string;
  requestSchema?: object;
  responses: Map<number, SpecResponse>;
}

/** Compiles and caches validators for the operations the router serves. */
class Contract {
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(
    readonly operations: Map<string, SpecOperation>,
    private readonly basicError: object,
  ) {
    this.ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false, unicodeRegExp: false, logger: false });
    addFormats(this.ajv);
  }

  operation(key: string): SpecOperation {
    const op = this.operations.get(key);
    if (!op) throw new Error(`${key} is not in GitHub's OpenAPI description`);
    return op;
  }

  /** Problems with a response body; empty when it conforms. */
  checkResponse(key: string, status: number, body: unknown): string[] {
    const op = this.operation(key);
    const declared = op.responses.get(status);
    const empty = body === undefined;
    if (declared?.schema) {
      if (empty) return [`status ${status} must have a JSON body`];
      return this.run(`${key} ${status}`, declared.schema, body);
    }
    if (status === 204 || status === 304) return empty ? [] : [`status ${status} must not have a body`];
    if (status >= 400) return empty ? [] : this.run('basic-error', this.basicError, body);
    if (!declared) return [`status ${status} is not documented for ${op.operationId}`];
    return [];
  }

  /** Problems with an error body answered outside any operation (401, unknown route). */
  checkError(body: unknown): string[] {
    return this.run('basic-error', this.basicError, body);
  }

  /**
   * Problems with a request body, worded as GitHub words them (`"tag_name" wasn't
   * supplied.`); empty when it conforms or the operation takes no body.
   */
  checkRequest(key: string, body: unknown): string[] {
    const op = this.operation(key);
    if (!op.requestSchema) return [];
    const validate = this.compiled(`${key} request`, op.requestSchema);
    if (validate(body ?? {})) return [];
    const problems = new Set<string>();
    for (const e of validate.errors ?? []) {
      const missing = (e.params as { missingProperty?: string }).missingProperty;
      if (e.keyword === 'required' && !e.instancePath && missing) problems.add(`"${missing}" wasn't supplied.`);
      else if (e.keyword !== 'oneOf' && e.keyword !== 'anyOf') problems.add(`For '${e.instancePath.slice(1) || 'body'}', ${e.message ?? e.keyword}.`);
    }
    return [...problems];
  }

  private compiled(cacheKey: string, schema: object): ValidateFunction {
    let validate = this.validators.get(cacheKey);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.validators.set(cacheKey, validate);
    }
    return validate;
  }

  private run(cacheKey: string, schema: object, data: unknown): string[] {
    const validate = this.compiled(cacheKey, schema);
    return validate(data) ? [] : describeErrors(validate.errors ?? []);
  }
}

function describeErrors(errors: ErrorObject[]): string[] {
  const seen = new Set<string>();
  for (const e of errors) {
    const where = e.instancePath || '(body)';
    const extra =
      e.keyword === 'additionalProperties'
        ? ` (${String((e.params as { additionalProperty?: string }).additionalProperty)})`
        : e.keyword === 'enum'
          ? ` (${JSON.stringify((e.params as { allowedValues?: unknown }).allowedValues)})`
          : '';
    seen.add(`${where} ${e.message ?? e.keyword}${extra}`);
    if (seen.size >= 25) break;
  }
  return [...seen];
}

/**
 * The formats GitHub's description uses, registered by hand. `uri` also admits "": GitHub
 * answers an empty string for unset URLs (a deployment status's `target_url`, an
 * organisation's `blog`) where the description says `format: uri`.
 */
function addFormats(ajv: Ajv): void {
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i);
  ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
  ajv.addFormat('uri', /^(?:[a-z][a-z0-9+.-]*:\S*)?$/i);
  ajv.addFormat('uri-template', (s: string) => !/\s/.test(s) && balancedBraces(s));
  ajv.addFormat('email', /^[^\s@]+@[^\s@]+$/);
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('double', { type: 'number', validate: (n: number) => Number.isFinite(n) });
  ajv.addFormat('timestamp', true);
}

function balancedBraces(s: string): boolean {
  let depth = 0;
  for (const c of s) {
    if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Keys whose values are data, not subschemas. */
const VALUE_KEYWORDS = new Set(['enum', 'const', 'default', 'required']);
const DROPPED_KEYWORDS = new Set(['example', 'examples', 'description', 'externalDocs', 'discriminator']);

/**
 * Turns an OpenAPI 3.0 schema into plain JSON Schema: `nullable: true` becomes a `null`
 * type (or an `anyOf` with null when there is no `type`), and documentation-only keywords go.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node as Record<string, unknown>)) {
    if (DROPPED_KEYWORDS.has(k) || k.startsWith('x-')) continue;
    if (VALUE_KEYWORDS.has(k)) out[k] = v;
    else if (k === 'properties' || k === 'patternProperties') {
      out[k] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([p, s]) => [p, toJsonSchema(s)]));
    } else out[k] = toJsonSchema(v);
  }
  const nullable = out.nullable === true;
  delete out.nullable;
  if (!nullable) return out;
  if (typeof out.type === 'string') {
    out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    return out;
  }
  if (Array.isArray(out.type)) {
    if (!out.type.includes('null')) out.type = [...out.type, 'null'];
    return out;
  }
  return { anyOf: [out, { type: 'null' }] };
}

let contractPromise: Promise<Contract> | undefined;

/**
 * Reads the description once per process and keeps only the operations in `ROUTES` (the
 * whole document is ~70 MB; what is kept is a few hundred KB). Validators compile lazily.
 */
function loadContract(): Promise<Contract> {
  contractPromise ??= (async () => {
    const file = require.resolve(SPEC_MODULE);
    const doc = JSON.parse(await readFile(file, 'utf8')) as { paths: Record<string, Record<string, any>> };
    const keys = new Set([...ROUTES.map((r) => `${r.method} ${r.path}`), BASIC_ERROR_SOURCE]);
    const operations = new Map<string, SpecOperation>();
    for (const key of keys) {
      const [method, path] = key.split(' ');
      const raw = doc.paths[path]?.[method.toLowerCase()];
      if (!raw) throw new Error(`GitHub sandbox: ${key} is not in GitHub's OpenAPI description (${file})`);
      const responses = new Map<number, SpecResponse>();
      for (const [status, r] of Object.entries<any>(raw.responses ?? {})) {
        const schema = r?.content?.['application/json']?.schema;
        responses.set(Number(status), schema ? { schema: toJsonSchema(schema) as object } : {});
      }
      const requestSchema = raw.requestBody?.content?.['application/json']?.schema;
      operations.set(key, {
        operationId: String(raw.operationId),
        docsUrl: String(raw.externalDocs?.url ?? 'https://docs.github.com/rest'),
        requestSchema: requestSchema ? (toJsonSchema(requestSchema) as object) : undefined,
        responses,
      });
    }
    const basicError = operations.get(BASIC_ERROR_SOURCE)?.responses.get(404)?.schema;
    if (!basicError) throw new Error('GitHub sandbox: no basic error schema found in the OpenAPI description');
    return new Contract(operations, basicError);
  })();
  contractPromise.catch(() => {
    contractPromise = undefined;
  });
  return contractPromise;
}

// ---------------------------------------------------------------------------------------
// Requests, replies, routes

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/** A GitHub error answer thrown from a handler: `{ message, documentation_url, status, errors? }`. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, unknown>[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

const notFound = () => new HttpError(404, 'Not Found');
const validationFailed = (...errors: Record<string, unknown>[]) => new HttpError(422, 'Validation Failed', errors);
const unprocessable = (message: string) => new HttpError(422, message);

type Body = Record<string, any>;

interface Ctx {
  params: Record<string, string>;
  query: URLSearchParams;
  body: Body;
  /** The path as sent (percent-encoded), for pagination links. */
  path: string;
}

type Handler = (w: World, ctx: Ctx) => Reply;

interface Route {
  method: string;
  /** Exactly as in the OpenAPI description: the key of the operation's schemas. */
  path: string;
  handler: Handler;
}

/** Parameters that may span several path segments (`heads/feature/x`, `docs/a/b.md`) when last. */
const MULTI_SEGMENT_PARAMS = new Set(['ref', 'path']);

interface CompiledRoute extends Route {
  key: string;
  regex: RegExp;
  names: string[];
}

function compileRoute(route: Route): CompiledRoute {
  const names: string[] = [];
  const segments = route.path.split('/').map((seg, i, all) => {
    const m = /^\{(\w+)\}$/.exec(seg);
    if (!m) return seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    names.push(m[1]);
    return i === all.length - 1 && MULTI_SEGMENT_PARAMS.has(m[1]) ? '(.+)' : '([^/]+)';
  });
  return { ...route, key: `${route.method} ${route.path}`, regex: new RegExp(`^${segments.join('/')}/?$`), names };
}

function matchRoute(routes: CompiledRoute[], method: string, path: string): { route: CompiledRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const m = route.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    try {
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
    } catch {
      continue;
    }
    return { route, params };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// State

interface Account {
  login: string;
  id: number;
  type: 'User' | 'Organization' | 'Bot';
  name: string | null;
  email: string | null;
  siteAdmin: boolean;
  createdAt: number;
}

interface Membership {
  login: string;
  role: 'member' | 'maintainer';
  state: 'active' | 'pending';
}

interface Team {
  id: number;
  org: Account;
  slug: string;
  name: string;
  description: string | null;
  createdAt: number;
  /** Lower-cased login → membership, in insertion order. */
  members: Map<string, Membership>;
}

interface Blob {
  sha: string;
  content: Buffer;
}

interface Commit {
  sha: string;
  treeSha: string;
  parents: string[];
  message: string;
  author: string;
  date: number;
  /** Path → blob: the whole tree at this commit. */
  tree: Map<string, Blob>;
}

interface Label {
  id: number;
  name: string;
  color: string;
  description: string | null;
}

interface Repo {
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

interface Workflow {
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
class World {
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
      .update([...tree.entries()].map(([p, b]) => `${p}\0${b.sha}`).sort().join('\n'))
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

// ---------------------------------------------------------------------------------------
// Body factories: the objects GitHub answers with

const WEB = 'https://github.com';

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : iso(ms);
}

function nodeId(type: string, id: number | string): string {
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

function userByLogin(w: World, login: string) {
  return simpleUser(w, w.ensureUser(login));
}

function publicUser(w: World, a: Account) {
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

function teamFull(w: World, t: Team) {
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

function repository(w: World, r: Repo) {
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

function release(w: World, r: Repo, rel: SandboxRelease) {
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

function gitRef(w: World, r: Repo, ref: string, sha: string) {
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

function pullSimple(w: World, r: Repo, p: SandboxPull) {
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

function pullFull(w: World, r: Repo, p: SandboxPull) {
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

function searchItem(w: World, r: Repo, p: SandboxPull) {
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

function commitAuthor(w: World, login: string, date: number) {
  const a = w.ensureUser(login);
  return { name: a.name ?? a.login, email: a.email ?? `${a.id}+${a.login}@users.noreply.github.com`, date: iso(date) };
}

function fileCommit(w: World, r: Repo, branch: string, path: string, blob: Blob, c: Commit) {
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
function contentEntry(w: World, r: Repo, ref: string, path: string, entry: { type: 'file'; blob: Blob } | { type: 'dir'; sha: string }) {
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

function deployment(w: World, r: Repo, d: SandboxDeployment) {
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

function deploymentStatus(w: World, r: Repo, d: SandboxDeployment, s: SandboxDeploymentStatus) {
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

function rateLimitOverview(w: World) {
  const core = { limit: 5000, used: w.rate.used, remaining: 5000 - w.rate.used, reset: w.rate.resetAt };
  const search = { limit: 30, used: w.searchRate.used, remaining: 30 - w.searchRate.used, reset: w.searchRate.resetAt };
  const fresh = (limit: number) => ({ limit, used: 0, remaining: limit, reset: w.rate.resetAt });
  return {
    resources: { core, search, graphql: fresh(5000), integration_manifest: fresh(5000), code_search: fresh(10) },
    rate: core,
  };
}

// ---------------------------------------------------------------------------------------
// Handlers

function int(value: string | null): number | undefined {
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value);
}

/** One page of `items` and GitHub's `Link` header (first/prev/next/last), `per_page` ≤ 100. */
function paginate<T>(w: World, ctx: Ctx, items: T[], defaultPerPage = 30): { items: T[]; headers: Record<string, string> } {
  const requested = int(ctx.query.get('per_page'));
  const perPage = Math.min(100, requested && requested > 0 ? requested : defaultPerPage);
  const page = Math.max(1, int(ctx.query.get('page')) ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const link = (n: number, rel: string) => {
    const q = new URLSearchParams(ctx.query);
    q.set('per_page', String(perPage));
    q.set('page', String(n));
    return `<${w.api}${ctx.path}?${q}>; rel="${rel}"`;
  };
  const rels: string[] = [];
  if (page > 1) rels.push(link(Math.min(page - 1, last), 'prev'));
  if (page < last) rels.push(link(page + 1, 'next'), link(last, 'last'));
  if (page > 1) rels.push(link(1, 'first'));
  return {
    items: items.slice((page - 1) * perPage, page * perPage),
    headers: rels.length ? { link: rels.join(', ') } : {},
  };
}

function ok(body: unknown, headers?: Record<string, string>): Reply {
  return { status: 200, body, headers };
}

function created(body: unknown, location?: string): Reply {
  return { status: 201, body, headers: location ? { location } : undefined };
}

const getTeamMembership: Handler = (w, ctx) => {
  const team = w.team(ctx.params.org, ctx.params.team_slug);
  const m = team?.members.get(ctx.params.username.toLowerCase());
  if (!team || !m) throw notFound();
  return ok({ url: `${w.api}/organizations/${team.org.id}/team/${team.id}/memberships/${m.login}`, role: m.role, state: m.state });
};

const listTeamMembers: Handler = (w, ctx) => {
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

const getTeam: Handler = (w, ctx) => {
  const team = w.team(ctx.params.org, ctx.params.team_slug);
  if (!team) throw notFound();
  return ok(teamFull(w, team));
};

const getUser: Handler = (w, ctx) => {
  const a = w.account(ctx.params.username);
  if (!a) throw notFound();
  return ok(publicUser(w, a));
};

const getRateLimit: Handler = (w) => ok(rateLimitOverview(w));

const listReleases: Handler = (w, ctx) => {
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

const createRelease: Handler = (w, ctx) => {
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

const getReleaseByTag: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const rel = repo.releases.find((r) => r.tagName === ctx.params.tag && !r.draft);
  if (!rel) throw notFound();
  return ok(release(w, repo, rel));
};

const getRelease: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const rel = repo.releases.find((r) => String(r.id) === ctx.params.release_id);
  if (!rel) throw notFound();
  return ok(release(w, repo, rel));
};

const updateRelease: Handler = (w, ctx) => {
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

const createRef: Handler = (w, ctx) => {
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
const compareCommits: Handler = (w, ctx) => {
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

const getRef: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const ref = `refs/${ctx.params.ref.replace(/^refs\//, '')}`;
  const sha = repo.refs.get(ref);
  if (!sha) throw notFound();
  return ok(gitRef(w, repo, ref, sha));
};

/** Every ref whose full name starts with `refs/<ref>` (`tags/api-` → the `api-…` tags), sorted by name; `[]` when none. */
const listMatchingRefs: Handler = (w, ctx) => {
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

const listPulls: Handler = (w, ctx) => {
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

const createPull: Handler = (w, ctx) => {
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
const getContent: Handler = (w, ctx) => {
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

const putContents: Handler = (w, ctx) => {
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

const createDeployment: Handler = (w, ctx) => {
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

const listDeployments: Handler = (w, ctx) => {
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

const createDeploymentStatus: Handler = (w, ctx) => {
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

const listDeploymentStatuses: Handler = (w, ctx) => {
  const { repo, d } = findDeployment(w, ctx);
  const page = paginate(w, ctx, [...d.statuses].reverse());
  return ok(
    page.items.map((s) => deploymentStatus(w, repo, d, s)),
    page.headers,
  );
};

// --- GitHub Actions -----------------------------------------------------------------------

/** A workflow by numeric id or file name (`smoke.yml`), as the API takes `workflow_id`. */
function findWorkflow(repo: Repo, idOrFile: string): Workflow | undefined {
  for (const wf of repo.workflows?.values() ?? []) {
    if (String(wf.id) === idOrFile || wf.file === idOrFile || `.github/workflows/${wf.file}` === idOrFile) return wf;
  }
  return undefined;
}

/** Where a run is now: `queued`, `in_progress`, or `completed` with its conclusion. */
function runState(run: SandboxWorkflowRun, now = Date.now()): { status: 'queued' | 'in_progress' | 'completed'; conclusion: WorkflowConclusion | null; updatedAt: number } {
  if (run.cancelledAt !== undefined) return { status: 'completed', conclusion: 'cancelled', updatedAt: run.cancelledAt };
  if (now >= run.completesAt) return { status: 'completed', conclusion: run.conclusion, updatedAt: run.completesAt };
  if (now >= run.startedAt) return { status: 'in_progress', conclusion: null, updatedAt: run.startedAt };
  return { status: 'queued', conclusion: null, updatedAt: run.createdAt };
}

function workflowRun(w: World, r: Repo, run: SandboxWorkflowRun) {
  const u = `${w.api}/repos/${r.owner.login}/${r.name}`;
  const web = `${WEB}/${r.owner.login}/${r.name}`;
  const state = runState(run);
  const checkSuiteId = run.id + 1_000_000_000;
  const commit = r.commits.get(run.headSha);
  const author = commitAuthor(w, commit?.author ?? w.viewer, commit?.date ?? run.createdAt);
  return {
    id: run.id,
    name: run.name,
    node_id: nodeId('WorkflowRun', run.id),
    check_suite_id: checkSuiteId,
    check_suite_node_id: nodeId('CheckSuite', checkSuiteId),
    head_branch: run.ref.replace(/^refs\/(?:heads|tags)\//, ''),
    head_sha: run.headSha,
    path: run.path,
    display_title: run.displayTitle,
    run_number: run.runNumber,
    run_attempt: 1,
    referenced_workflows: [],
    event: run.event,
    status: state.status,
    conclusion: state.conclusion,
    workflow_id: run.workflowId,
    url: `${u}/actions/runs/${run.id}`,
    html_url: `${web}/actions/runs/${run.id}`,
    pull_requests: [],
    created_at: iso(run.createdAt),
    updated_at: iso(state.updatedAt),
    actor: userByLogin(w, run.actor),
    triggering_actor: userByLogin(w, run.actor),
    run_started_at: iso(run.createdAt),
    jobs_url: `${u}/actions/runs/${run.id}/jobs`,
    logs_url: `${u}/actions/runs/${run.id}/logs`,
    check_suite_url: `${u}/check-suites/${checkSuiteId}`,
    artifacts_url: `${u}/actions/runs/${run.id}/artifacts`,
    cancel_url: `${u}/actions/runs/${run.id}/cancel`,
    rerun_url: `${u}/actions/runs/${run.id}/rerun`,
    previous_attempt_url: null,
    workflow_url: `${u}/actions/workflows/${run.workflowId}`,
    head_commit: {
      id: run.headSha,
      tree_id: commit?.treeSha ?? run.headSha,
      message: commit?.message ?? '',
      timestamp: author.date,
      author: { name: author.name, email: author.email },
      committer: { name: 'GitHub', email: 'noreply@github.com' },
    },
    repository: repository(w, r),
    head_repository: repository(w, r),
    head_repository_id: r.id,
  };
}

/** `${{ inputs.x }}` and `${{ github.event.inputs.x }}` in a `run-name`, substituted. */
function renderRunName(template: string, inputs: Record<string, string>): string {
  return template.replace(/\$\{\{\s*(?:github\.event\.)?inputs\.([A-Za-z_][\w-]*)\s*\}\}/g, (_, name: string) => inputs[name] ?? '');
}

/** Creates a run, as GitHub does for a `workflow_dispatch` event; 204, or 200 with the run's id and URLs when asked. */
const dispatchWorkflow: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const wf = findWorkflow(repo, ctx.params.workflow_id);
  if (!wf) throw notFound();
  if (!wf.dispatchable) throw unprocessable("Workflow does not have 'workflow_dispatch' trigger");
  const b = ctx.body;
  const ref = String(b.ref);
  const sha = w.resolve(repo, ref);
  if (!sha) throw unprocessable(`No ref found for: ${ref}`);
  const given = (b.inputs ?? {}) as Record<string, unknown>;
  const unexpected = Object.keys(given).filter((name) => !(name in wf.inputs));
  if (unexpected.length) throw unprocessable(`Unexpected inputs provided: ${JSON.stringify(unexpected)}`);
  const inputs: Record<string, string> = {};
  for (const [name, spec] of Object.entries(wf.inputs)) {
    const value = given[name];
    if (value === undefined || value === null) {
      if (spec.required && spec.default === undefined) throw unprocessable(`Required input '${name}' not provided`);
      if (spec.default !== undefined) inputs[name] = spec.default;
    } else inputs[name] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  const now = Date.now();
  repo.runs ??= [];
  const run: SandboxWorkflowRun = {
    id: w.nextId('run'),
    runNumber: repo.runs.filter((r) => r.workflowId === wf.id).length + 1,
    workflowId: wf.id,
    path: `.github/workflows/${wf.file}`,
    name: wf.name,
    displayTitle: renderRunName(wf.runName ?? wf.name, inputs),
    event: 'workflow_dispatch',
    ref,
    headSha: sha,
    inputs,
    actor: w.viewer,
    createdAt: now,
    listedAt: now + wf.listDelayMs,
    startedAt: now + Math.min(wf.queuedMs, wf.durationMs),
    completesAt: now + wf.durationMs,
    conclusion: wf.conclusion,
  };
  repo.runs.push(run);
  if (b.return_run_details !== true || !wf.runDetails) return { status: 204 };
  const body = workflowRun(w, repo, run);
  return ok({ workflow_run_id: run.id, run_url: body.url, html_url: body.html_url });
};

/** Runs of one workflow, newest first, with GitHub's filters (`event`, `status` or conclusion, `branch`, `actor`, `head_sha`, `created`). */
const listWorkflowRuns: Handler = (w, ctx) => {
  const repo = w.repoOr404(ctx);
  const wf = findWorkflow(repo, ctx.params.workflow_id);
  if (!wf) throw notFound();
  const q = ctx.query;
  const created = q.get('created');
  const createdTest = created ? dateTest(created) : undefined;
  if (created && !createdTest) throw validationFailed({ resource: 'WorkflowRun', field: 'created', code: 'invalid' });
  const now = Date.now();
  const matches = (repo.runs ?? [])
    .filter((run) => {
      if (run.workflowId !== wf.id || run.listedAt > now) return false;
      const state = runState(run, now);
      const status = q.get('status');
      return (
        (!q.get('event') || run.event === q.get('event')) &&
        (!status || state.status === status || state.conclusion === status) &&
        (!q.get('branch') || run.ref.replace(/^refs\/(?:heads|tags)\//, '') === q.get('branch')) &&
        (!q.get('actor') || run.actor.toLowerCase() === q.get('actor')!.toLowerCase()) &&
        (!q.get('head_sha') || run.headSha === q.get('head_sha')) &&
        (!createdTest || createdTest(run.createdAt))
      );
    })
    .sort((a, b) => b.createdAt - a.createdAt || b.id - a.id);
  const page = paginate(w, ctx, matches);
  return ok({ total_count: matches.length, workflow_runs: page.items.map((run) => workflowRun(w, repo, run)) }, page.headers);
};

function findRun(w: World, ctx: Ctx): { repo: Repo; run: SandboxWorkflowRun } {
  const repo = w.repoOr404(ctx);
  const run = repo.runs?.find((r) => String(r.id) === ctx.params.run_id);
  if (!run) throw notFound();
  return { repo, run };
}

const getWorkflowRun: Handler = (w, ctx) => {
  const { repo, run } = findRun(w, ctx);
  return ok(workflowRun(w, repo, run));
};

const cancelWorkflowRun: Handler = (w, ctx) => {
  const { run } = findRun(w, ctx);
  if (runState(run).status === 'completed') throw new HttpError(409, 'Cannot cancel a workflow run that is completed.');
  run.cancelledAt = Date.now();
  return { status: 202, body: {} };
};

// --- search ----------------------------------------------------------------------------

interface SearchQuery {
  repos: string[];
  kind?: 'pr' | 'issue';
  state?: 'open' | 'closed';
  merged?: boolean;
  /** Each entry: any of these labels (a comma list); all entries must hold. */
  labels: string[][];
  notLabels: string[];
  authors: string[];
  base?: string;
  head?: string;
  dates: { field: 'merged' | 'created' | 'updated' | 'closed'; test: (ms: number) => boolean }[];
  text: string[];
}

/** `>2024-01-01T00:00:00Z`, `>=…`, `<…`, `<=…`, `a..b`, or a plain date (that day). */
function dateTest(value: string): ((ms: number) => boolean) | undefined {
  const dayOnly = (s: string) => /^\d{4}-\d{2}-\d{2}$/.test(s);
  const start = (s: string) => Date.parse(dayOnly(s) ? `${s}T00:00:00Z` : s);
  const end = (s: string) => (dayOnly(s) ? Date.parse(`${s}T00:00:00Z`) + 86_400_000 - 1 : Date.parse(s));
  const range = /^(.+)\.\.(.+)$/.exec(value);
  if (range) {
    const [a, b] = [range[1] === '*' ? -Infinity : start(range[1]), range[2] === '*' ? Infinity : end(range[2])];
    return Number.isNaN(a) || Number.isNaN(b) ? undefined : (ms) => ms >= a && ms <= b;
  }
  const m = /^(>=|<=|>|<)?(.+)$/.exec(value)!;
  const op = m[1] ?? '';
  const v = m[2];
  const [s, e] = [start(v), end(v)];
  if (Number.isNaN(s) || Number.isNaN(e)) return undefined;
  switch (op) {
    case '>':
      return (ms) => ms > e;
    case '>=':
      return (ms) => ms >= s;
    case '<':
      return (ms) => ms < s;
    case '<=':
      return (ms) => ms <= e;
    default:
      return (ms) => ms >= s && ms <= e;
  }
}

function parseSearch(q: string): SearchQuery {
  const out: SearchQuery = { repos: [], labels: [], notLabels: [], authors: [], dates: [], text: [] };
  const tokens = /(-?)([a-zA-Z_-]+):("[^"]*"(?:,"[^"]*")*|\S+)|"([^"]*)"|(\S+)/g;
  const unquote = (v: string) => v.split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/).map((x) => x.replace(/^"|"$/g, ''));
  for (const m of q.matchAll(tokens)) {
    if (m[4] !== undefined || m[5] !== undefined) {
      out.text.push((m[4] ?? m[5]).toLowerCase());
      continue;
    }
    const negated = m[1] === '-';
    const key = m[2].toLowerCase();
    const value = m[3];
    const values = unquote(value);
    if (key === 'repo') out.repos.push(values[0].toLowerCase());
    else if ((key === 'is' || key === 'type') && (value === 'pr' || value === 'issue')) out.kind = value;
    else if (key === 'is' && value === 'merged') out.merged = true;
    else if (key === 'is' && value === 'unmerged') out.merged = false;
    else if ((key === 'is' || key === 'state') && (value === 'open' || value === 'closed')) out.state = value;
    else if (key === 'label') (negated ? out.notLabels.push(...values) : out.labels.push(values));
    else if (key === 'author') out.authors.push(values[0].toLowerCase());
    else if (key === 'base') out.base = values[0];
    else if (key === 'head') out.head = values[0];
    else if (key === 'merged' || key === 'created' || key === 'updated' || key === 'closed') {
      const test = dateTest(value);
      if (!test) throw validationFailed({ resource: 'Search', field: 'q', code: 'invalid', message: `The date "${value}" is not valid.` });
      out.dates.push({ field: key, test });
    } else out.text.push(m[0].toLowerCase());
  }
  return out;
}

const searchIssues: Handler = (w, ctx) => {
  const q = ctx.query.get('q');
  if (!q) throw validationFailed({ resource: 'Search', field: 'q', code: 'missing' });
  const s = parseSearch(q);
  const hits: { repo: Repo; pull: SandboxPull }[] = [];
  for (const repo of w.repos.values()) {
    if (s.repos.length && !s.repos.includes(`${repo.owner.login}/${repo.name}`.toLowerCase())) continue;
    if (s.kind === 'issue') continue; // the sandbox holds pull requests only
    for (const pull of repo.pulls) {
      if (s.state && pull.state !== s.state) continue;
      if (s.merged !== undefined && (pull.mergedAt !== null) !== s.merged) continue;
      if (s.merged === false && pull.state !== 'closed') continue;
      if (!s.labels.every((anyOf) => anyOf.some((l) => pull.labels.some((x) => x.toLowerCase() === l.toLowerCase())))) continue;
      if (s.notLabels.some((l) => pull.labels.some((x) => x.toLowerCase() === l.toLowerCase()))) continue;
      if (s.authors.length && !s.authors.includes(pull.user.toLowerCase())) continue;
      if (s.base && pull.baseRef !== s.base) continue;
      if (s.head && pull.headRef !== s.head) continue;
      const when = { merged: pull.mergedAt, created: pull.createdAt, updated: pull.updatedAt, closed: pull.closedAt };
      if (!s.dates.every((d) => when[d.field] !== null && d.test(when[d.field]!))) continue;
      const haystack = `${pull.title}\n${pull.body ?? ''}`.toLowerCase();
      if (!s.text.every((t) => haystack.includes(t))) continue;
      hits.push({ repo, pull });
    }
  }
  const sort = ctx.query.get('sort');
  const sign = ctx.query.get('order') === 'asc' ? 1 : -1;
  const key = (p: SandboxPull) => (sort === 'created' ? p.createdAt : sort === 'updated' ? p.updatedAt : p.number);
  hits.sort((a, b) => sign * (key(a.pull) - key(b.pull) || a.pull.id - b.pull.id));
  const page = paginate(w, ctx, hits);
  return ok(
    {
      total_count: hits.length,
      incomplete_results: false,
      search_type: 'lexical',
      items: page.items.map((h) => searchItem(w, h.repo, h.pull)),
    },
    page.headers,
  );
};

/** The endpoints served, keyed by the OpenAPI description's method and path. More are one handler and one line each. */
const ROUTES: Route[] = [
  { method: 'GET', path: '/orgs/{org}/teams/{team_slug}/memberships/{username}', handler: getTeamMembership },
  { method: 'GET', path: '/orgs/{org}/teams/{team_slug}/members', handler: listTeamMembers },
  { method: 'GET', path: '/orgs/{org}/teams/{team_slug}', handler: getTeam },
  { method: 'GET', path: '/users/{username}', handler: getUser },
  { method: 'GET', path: '/rate_limit', handler: getRateLimit },
  { method: 'GET', path: '/repos/{owner}/{repo}/releases', handler: listReleases },
  { method: 'POST', path: '/repos/{owner}/{repo}/releases', handler: createRelease },
  { method: 'GET', path: '/repos/{owner}/{repo}/releases/tags/{tag}', handler: getReleaseByTag },
  { method: 'GET', path: '/repos/{owner}/{repo}/releases/{release_id}', handler: getRelease },
  { method: 'PATCH', path: '/repos/{owner}/{repo}/releases/{release_id}', handler: updateRelease },
  { method: 'POST', path: '/repos/{owner}/{repo}/git/refs', handler: createRef },
  { method: 'GET', path: '/repos/{owner}/{repo}/git/ref/{ref}', handler: getRef },
  { method: 'GET', path: '/repos/{owner}/{repo}/git/matching-refs/{ref}', handler: listMatchingRefs },
  { method: 'GET', path: '/repos/{owner}/{repo}/compare/{basehead}', handler: compareCommits },
  { method: 'GET', path: '/repos/{owner}/{repo}/pulls', handler: listPulls },
  { method: 'POST', path: '/repos/{owner}/{repo}/pulls', handler: createPull },
  { method: 'GET', path: '/repos/{owner}/{repo}/contents/{path}', handler: getContent },
  { method: 'PUT', path: '/repos/{owner}/{repo}/contents/{path}', handler: putContents },
  { method: 'POST', path: '/repos/{owner}/{repo}/deployments', handler: createDeployment },
  { method: 'GET', path: '/repos/{owner}/{repo}/deployments', handler: listDeployments },
  { method: 'POST', path: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', handler: createDeploymentStatus },
  { method: 'GET', path: '/repos/{owner}/{repo}/deployments/{deployment_id}/statuses', handler: listDeploymentStatuses },
  { method: 'POST', path: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', handler: dispatchWorkflow },
  { method: 'GET', path: '/repos/{owner}/{repo}/actions/workflows/{workflow_id}/runs', handler: listWorkflowRuns },
  { method: 'GET', path: '/repos/{owner}/{repo}/actions/runs/{run_id}', handler: getWorkflowRun },
  { method: 'POST', path: '/repos/{owner}/{repo}/actions/runs/{run_id}/cancel', handler: cancelWorkflowRun },
  { method: 'GET', path: '/search/issues', handler: searchIssues },
];

/** Routes not subject to rate limiting or injected faults (as on GitHub, checking the limit is free). */
const UNMETERED = new Set(['GET /rate_limit']);

// ---------------------------------------------------------------------------------------
// Server


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
      mergeCommitSha: w.newSha(`merge:${number}`),
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
  private answer(
    method: string,
    url: URL,
    raw: string,
    authorization: string | undefined,
    record: GitHubRequest,
  ): { reply: Reply; routeKey?: string } {
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
      reply = (!UNMETERED.has(match.route.key) && this.fault(url.pathname)) || this.run(match.route, op, match.params, method, url, raw);
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

  /** An injected fault for this request, if the dice or the counter say so. */
  private fault(pathname: string): Reply | undefined {
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

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/**
 * Starts the sandbox on 127.0.0.1 (a free port unless `port` is given). The first start in
 * a process reads GitHub's OpenAPI description (about a second).
 */
export async function startGitHubSandbox(opts: GitHubSandboxOptions = {}): Promise<GitHubSandbox> {
  const contract = await loadContract();
  const sandbox = new Sandbox(contract, opts.token ?? 'sandbox-token', opts.login ?? 'openverse-bot');
  await sandbox.listen(opts.port ?? 0);
  return sandbox;
}
