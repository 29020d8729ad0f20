/** The GitHub sandbox's public types: its options, faults, request log, the state tests set up and read. */

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
  /** Share (0–1) of writes (any method but GET and HEAD) answered 502; reads are spared. */
  writeErrorRate?: number;
  /** With `writeErrorRate`: the write is applied before its 502 (the answer was lost, not the change). */
  writeErrorsApplied?: boolean;
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
export type WorkflowConclusion = 'success' | 'failure' | 'cancelled' | 'timed_out' | 'neutral' | 'skipped' | 'action_required' | 'startup_failure' | 'stale';

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
  /** The merge commit on the base branch (e.g. from `addCommit`); default a made-up SHA. */
  mergeCommitSha?: string;
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
