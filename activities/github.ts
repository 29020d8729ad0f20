/**
 * GitHub: a client with bounded, logged retries, and the activities built over it —
 * authorising the actor of an operation by team membership.
 *
 * The token comes from the worker's environment (GITHUB_TOKEN), never from workflow input,
 * and is never logged: the client's own request log (which sees headers) is discarded and
 * retry messages name the route template only.
 *
 * Retries inside the client, each logged:
 *  - primary rate limit (403/429 with `x-ratelimit-remaining: 0`): waits until the
 *    `x-ratelimit-reset` the API gives, at most `rateLimitRetries` times and only when the
 *    reset is within `maxRateLimitWaitSeconds`;
 *  - secondary rate limit (403 or 429 with `retry-after`): waits `retry-after`, same bounds;
 *  - 5xx and network failures: `serverErrorRetries` times with growing back-off.
 * When those run out the activity fails with a retryable error (`GitHubRateLimited`,
 * `GitHubUnavailable`) and Temporal's retry policy takes over.
 */
import { createRequire } from 'node:module';
import { normalizeLogin } from '../domain/identity';
import { setTimeout as sleep } from 'node:timers/promises';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { Octokit } from '@octokit/rest';
import { BadInput, ClientRejected, NotFound, Unauthorized } from '../domain/errors';
import { withHeartbeat } from './heartbeat';
import { SILENT_LOG, stderrLog } from './log';

/** Where the client reports retries and give-ups (Temporal's runtime logger fits). */
export interface GitHubLog {
  debug(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  error(message: string, meta?: Record<string, unknown>): void;
}

export interface GitHubClientOptions {
  /** GITHUB_TOKEN of the worker. Needs `read:org` (classic) or Members: read (fine-grained) for team checks. */
  token: string;
  /** Default `https://api.github.com` (GHES: `https://<host>/api/v3`; tests: the sandbox). */
  baseUrl?: string;
  log?: GitHubLog;
  /** In-client retries of a rate-limited request. Default 3. */
  rateLimitRetries?: number;
  /** Longest rate-limit wait sat out in the client, in seconds; a later reset fails retryably at once. Default 60. */
  maxRateLimitWaitSeconds?: number;
  /** In-client retries of 5xx answers and network failures. Default 3. */
  serverErrorRetries?: number;
  /**
   * Milliseconds per second of waiting: every wait the client makes (rate-limit resets,
   * `retry-after`, back-off, write and search pacing) is in these units. 1000 for real;
   * tests shrink it so honouring a one-second reset does not cost a second.
   */
  secondMs?: number;
}

/** GitHub's rate limit still held after the client's own retries. Retryable. */
export class GitHubRateLimited extends Error {
  override name = 'GitHubRateLimited';
}

/** GitHub answered 5xx or could not be reached, after the client's own retries. Retryable. */
export class GitHubUnavailable extends Error {
  override name = 'GitHubUnavailable';
}

/** Without an injected logger, warnings and errors go to stderr; nothing else is printed. */
const STDERR_LOG = stderrLog('github');

interface SlipwayOptions {
  log: GitHubLog;
  serverErrorRetries: number;
}

/**
 * Logs each failed attempt. Registered before the retry plugin, so its hook sits inside
 * the retries and sees every attempt, not just the last.
 */
const attemptLog: Parameters<typeof Octokit.plugin>[0] = (octokit, options) => {
  const cfg = options.slipway as SlipwayOptions | undefined;
  if (!cfg) return;
  octokit.hook.error('request', (error: any, opts: any) => {
    const status: number | undefined = error?.status;
    if (status === undefined || status >= 500) {
      const attempt = (opts?.request?.retryCount ?? 0) + 1;
      const more = attempt <= cfg.serverErrorRetries;
      cfg.log.warn(
        `GitHub ${String(opts?.method ?? '')} ${String(opts?.url ?? '')} failed with ${status ?? 'a network error'} ` +
          `(attempt ${attempt} of ${cfg.serverErrorRetries + 1})${more ? '; retrying' : '; giving up'}`,
        { status, attempt },
      );
    }
    throw error;
  });
};

const SlipwayOctokit = Octokit.plugin(attemptLog, retry, throttling);

/** Bottleneck, as the throttling plugin itself resolves it (for pacing groups in shrunk time). */
function bottleneck(): any {
  const from = require.resolve('@octokit/plugin-throttling');
  return createRequire(from)('bottleneck/light');
}

/** An Octokit for GitHub's REST API with bounded, logged retries of rate limits and server errors. */
export function createGitHubClient(opts: GitHubClientOptions): Octokit {
  const log = opts.log ?? STDERR_LOG;
  const rateLimitRetries = opts.rateLimitRetries ?? 3;
  const maxWait = opts.maxRateLimitWaitSeconds ?? 60;
  const serverErrorRetries = opts.serverErrorRetries ?? 3;
  const secondMs = opts.secondMs ?? 1000;

  /** Whether to sit out a rate limit of `retryAfter` seconds; logs either way. */
  const waitOut = (kind: string, retryAfter: number, options: { method?: string; url?: string }, retryCount: number) => {
    const where = `${options.method ?? ''} ${options.url ?? ''}`.trim();
    if (retryCount >= rateLimitRetries) {
      log.warn(`GitHub ${kind} on ${where}: giving up after ${retryCount} retries`, { retryAfterSeconds: retryAfter });
      return false;
    }
    if (retryAfter > maxWait) {
      log.warn(`GitHub ${kind} on ${where}: resets in ${retryAfter}s, longer than the ${maxWait}s waited in-client; failing for a later retry`, {
        retryAfterSeconds: retryAfter,
      });
      return false;
    }
    log.warn(`GitHub ${kind} on ${where}: retrying in ${retryAfter}s (retry ${retryCount + 1} of ${rateLimitRetries})`, {
      retryAfterSeconds: retryAfter,
    });
    return true;
  };

  // The throttling plugin paces writes (1 s apart) and searches (2 s) as GitHub asks; in
  // shrunk time those paces shrink too.
  const pacing =
    secondMs === 1000
      ? {}
      : (() => {
          const Bottleneck = bottleneck();
          return {
            write: new Bottleneck.Group({ maxConcurrent: 1, minTime: secondMs }),
            search: new Bottleneck.Group({ maxConcurrent: 1, minTime: 2 * secondMs }),
            notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: 3 * secondMs }),
          };
        })();

  const octokit = new SlipwayOctokit({
    auth: opts.token,
    ...(opts.baseUrl ? { baseUrl: opts.baseUrl.replace(/\/+$/, '') } : {}),
    userAgent: 'slipway',
    // Octokit's own request log includes request options (headers too): never forwarded.
    log: { ...SILENT_LOG, warn: (m: string) => log.warn(m), error: (m: string) => log.error(m) },
    slipway: { log, serverErrorRetries } satisfies SlipwayOptions,
    retry: {
      retries: serverErrorRetries,
      retryAfterBaseValue: secondMs,
      // 429 is a rate limit: waited out with its retry-after below, not blind back-off.
      doNotRetry: [400, 401, 403, 404, 410, 422, 429, 451],
    },
    throttle: {
      retryAfterBaseValue: secondMs,
      fallbackSecondaryRateRetryAfter: 60,
      ...pacing,
      onRateLimit: (retryAfter: number, options: any, _o: unknown, retryCount: number) => waitOut('rate limit', retryAfter, options, retryCount),
      onSecondaryRateLimit: (retryAfter: number, options: any, _o: unknown, retryCount: number) => waitOut('secondary rate limit', retryAfter, options, retryCount),
    },
  });

  // plugin-throttling 8 handles 403 only; GitHub also answers rate limits with 429.
  octokit.hook.wrap('request', async (request: any, options: any) => {
    for (let retryCount = 0; ; retryCount++) {
      try {
        return await request(options);
      } catch (err: any) {
        if (err?.status !== 429) throw err;
        const headers = err.response?.headers ?? {};
        const reset = Number(headers['x-ratelimit-reset']);
        const retryAfter = Number(headers['retry-after']) || (headers['x-ratelimit-remaining'] === '0' && reset ? Math.max(Math.ceil(reset - Date.now() / 1000) + 1, 0) : 60);
        const kind = headers['retry-after'] || headers['x-ratelimit-remaining'] !== '0' ? 'secondary rate limit' : 'rate limit';
        if (!waitOut(kind, retryAfter, options, retryCount)) throw err;
        await sleep(retryAfter * secondMs, undefined, { signal: options.request?.signal });
      }
    }
  });

  return octokit;
}

// ---------------------------------------------------------------------------------------
// Errors

interface RequestErrorLike {
  status?: number;
  message?: string;
  response?: { headers?: Record<string, string | undefined>; data?: any };
}

function isRateLimited(e: RequestErrorLike): boolean {
  if (e.status === 429) return true;
  if (e.status !== 403) return false;
  const h = e.response?.headers ?? {};
  return h['x-ratelimit-remaining'] === '0' || h['retry-after'] !== undefined || /rate limit/i.test(apiMessage(e));
}

function apiMessage(e: RequestErrorLike): string {
  const m = e.response?.data?.message;
  return typeof m === 'string' ? m : (e.message ?? String(e));
}

export interface RethrowOptions {
  /** Message for a 404 (default: `<what>: not found`). */
  notFound?: string;
  /** What the token needs for this call, named when GitHub refuses it. Default `read:org`. */
  tokenNeeds?: string;
}

/**
 * Rethrows a GitHub error in the shape Temporal's retry policy understands: refused token
 * → Unauthorized (check GITHUB_TOKEN), 404 → NotFound, other 4xx → ClientRejected, rate
 * limits → GitHubRateLimited and 5xx/network → GitHubUnavailable (both retryable).
 */
export function rethrowGitHub(err: unknown, what: string, opts: RethrowOptions = {}): never {
  if (err instanceof BadInput || err instanceof NotFound || err instanceof Unauthorized || err instanceof ClientRejected) throw err;
  const e = (err ?? {}) as RequestErrorLike;
  const status = e.status;
  const needs = opts.tokenNeeds ?? 'the read:org scope (classic token) or Members: read (fine-grained token)';
  if (status === undefined || status >= 500) {
    throw new GitHubUnavailable(`${what}: GitHub ${status ? `answered ${status}` : 'could not be reached'}: ${apiMessage(e)}`);
  }
  if (isRateLimited(e)) {
    const h = e.response?.headers ?? {};
    const reset = Number(h['x-ratelimit-reset']);
    const when = h['retry-after'] ? `retry after ${h['retry-after']}s` : reset ? `the limit resets at ${new Date(reset * 1000).toISOString()}` : 'no reset time given';
    throw new GitHubRateLimited(`${what}: GitHub rate limit still exceeded after retrying (${when}): ${apiMessage(e)}`);
  }
  if (status === 401) {
    throw new Unauthorized(`${what}: GitHub rejected the worker's GITHUB_TOKEN (401 ${apiMessage(e)}). Check that GITHUB_TOKEN is set, valid and not expired; it needs ${needs}.`);
  }
  if (status === 403) {
    throw new Unauthorized(`${what}: GitHub refused the worker's GITHUB_TOKEN (403 ${apiMessage(e)}). Check GITHUB_TOKEN's scopes: it needs ${needs}.`);
  }
  if (status === 404) throw new NotFound(opts.notFound ?? `${what}: not found`);
  throw new ClientRejected(`${what}: GitHub refused the request (${status} ${apiMessage(e)})`);
}

// ---------------------------------------------------------------------------------------
// Activities

/** Who may run operations: active members of one team, or listed bot accounts. */
export interface AuthorizationPolicy {
  org: string;
  team: string;
  /** Logins allowed without team membership (bots, e.g. `openverse-bot`). */
  allow: string[];
}

export interface GitHubDeps {
  /** From `createGitHubClient` (the worker's GITHUB_TOKEN). */
  github: Octokit;
  policy: AuthorizationPolicy;
  /** Page size when listing team members. Default 100 (GitHub's maximum). */
  pageSize?: number;
}

export interface CheckAuthorizedInput {
  /** GitHub login of who asked (a leading `@` is ignored). */
  actor: string;
  /** What they asked for, for the refusal message: e.g. `rollback api production`. */
  operation: string;
}

export interface Authorization {
  actor: string;
  via: 'team' | 'allow-list';
  /** `<org>/<team>` when authorised by membership. */
  team?: string;
}

/** GitHub logins: alphanumerics and hyphens, up to 39 characters; app accounts end in `[bot]`. */
const LOGIN = /^[A-Za-z0-9][A-Za-z0-9-]{0,38}(?:\[bot\])?$/;

function statusOf(err: unknown): number | undefined {
  return (err as RequestErrorLike | undefined)?.status;
}

export function createGitHubActivities(deps: GitHubDeps) {
  const { github, policy } = deps;
  const teamName = `${policy.org}/${policy.team}`;
  const teamNotFound = `GitHub team ${teamName} was not found, or GITHUB_TOKEN cannot see it (it needs the read:org scope)`;
  const allowed = new Set(policy.allow.map(normalizeLogin));

  function refuse(actor: string, operation: string, detail = ''): Unauthorized {
    const bots = policy.allow.length ? ` (or the allowed bots: ${policy.allow.map((b) => `@${b.replace(/^@/, '')}`).join(', ')})` : '';
    return new Unauthorized(`@${actor} may not ${operation}: only members of ${teamName}${bots} may${detail}`);
  }

  return {
    /**
     * Authorises `actor` for `operation`: an allow-listed login passes without asking
     * GitHub; anyone else must be an active member of the policy's team (a pending
     * invitation is not membership). Refusal: Unauthorized, naming who may.
     */
    async checkAuthorized(input: CheckAuthorizedInput): Promise<Authorization> {
      const actor = String(input.actor ?? '')
        .trim()
        .replace(/^@/, '');
      if (!LOGIN.test(actor)) throw new BadInput(`"${input.actor}" is not a GitHub login`);
      if (allowed.has(normalizeLogin(actor))) return { actor, via: 'allow-list' };
      if (actor.endsWith('[bot]')) throw refuse(actor, input.operation);

      return withHeartbeat(async (signal) => {
        const what = `checking @${actor}'s membership of ${teamName}`;
        let state: string;
        try {
          const res = await github.rest.teams.getMembershipForUserInOrg({
            org: policy.org,
            team_slug: policy.team,
            username: actor,
            request: { signal },
          });
          state = res.data.state;
        } catch (err) {
          if (statusOf(err) !== 404) rethrowGitHub(err, what);
          // 404 means "not a member" — or no such team, or a token that cannot see it.
          try {
            await github.rest.teams.getByName({ org: policy.org, team_slug: policy.team, request: { signal } });
          } catch (teamErr) {
            rethrowGitHub(teamErr, `looking up ${teamName}`, { notFound: teamNotFound });
          }
          throw refuse(actor, input.operation);
        }
        if (state !== 'active') {
          throw refuse(actor, input.operation, ` (@${actor}'s invitation to ${teamName} is ${state}, not accepted)`);
        }
        return { actor, via: 'team', team: teamName };
      });
    },

    /** Logins of the team's active members, every page of them. */
    async listTeamMembers(): Promise<string[]> {
      return withHeartbeat(async (signal) => {
        try {
          const members = await github.paginate(github.rest.teams.listMembersInOrg, {
            org: policy.org,
            team_slug: policy.team,
            per_page: deps.pageSize ?? 100,
            request: { signal },
          });
          return members.map((m) => m.login);
        } catch (err) {
          rethrowGitHub(err, `listing the members of ${teamName}`, { notFound: teamNotFound });
        }
      });
    },
  };
}

export type GitHubActivities = ReturnType<typeof createGitHubActivities>;
