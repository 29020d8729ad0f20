/**
 * Version endpoint activities: read the release an environment serves, and wait until it
 * serves the one just deployed. Endpoints answer JSON `{"release": "<tag>"}`, API ones with
 * `environment` too; both `/version` and `/version.json` spellings are tolerated.
 */
import { Context } from '@temporalio/activity';

/** The endpoint could not tell the release (down, slow, 5xx, an error page). Retryable. */
export class VersionEndpointUnavailable extends Error {
  override name = 'VersionEndpointUnavailable';
  constructor(
    message: string,
    readonly url: string,
  ) {
    super(message);
  }
}

/** The endpoint did not report the expected release within the budget. Never retried. */
export class VersionMismatch extends Error {
  override name = 'VersionMismatch';
  constructor(
    message: string,
    readonly url: string,
    readonly expected: string,
    /** The release last reported, if it ever answered. */
    readonly last?: string,
  ) {
    super(message);
  }
}

export interface VersionDeps {
  fetch?: typeof fetch;
  /** Per request, in ms. Default 5000. */
  timeoutMs?: number;
}

export interface ReadVersionInput {
  url: string;
}

export interface VersionReading {
  release: string;
  environment?: string;
  /** The URL that answered: the configured one, or its other spelling when that one was 404. */
  url: string;
}

export interface AwaitVersionInput {
  url: string;
  expected: string;
  budgetSeconds: number;
  /** Poll interval. Default 2000. */
  everyMs?: number;
}

export interface AwaitedVersion {
  release: string;
  attempts: number;
  url: string;
}

/** What awaitVersion heartbeats; a retried attempt resumes its budget from `startedAt`. */
export interface AwaitVersionProgress {
  startedAt: number;
  attempts: number;
  url: string;
  lastRelease?: string;
  lastError?: string;
}

const QUOTE_CHARS = 80;

export function createVersionActivities(deps: VersionDeps = {}) {
  const doFetch = deps.fetch ?? fetch;
  const timeoutMs = deps.timeoutMs ?? 5000;

  /** One GET of `url`, with the timeout and the activity's cancellation. */
  async function get(url: string, ms: number): Promise<{ status: number; statusText: string; contentType: string; text: string }> {
    const cancel = activityContext()?.cancellationSignal;
    const timeout = AbortSignal.timeout(ms);
    const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
    try {
      const res = await doFetch(url, { signal, headers: { accept: 'application/json' }, redirect: 'follow' });
      const text = await res.text();
      return { status: res.status, statusText: res.statusText, contentType: res.headers.get('content-type') ?? '(none)', text };
    } catch (err) {
      if (cancel?.aborted) throw cancel.reason ?? err;
      throw new VersionEndpointUnavailable(`version endpoint ${url} ${describeFetchError(err, timeout.aborted, ms)}`, url);
    }
  }

  async function read(url: string, ms: number): Promise<VersionReading> {
    let answered = url;
    let res = await get(url, ms);
    const other = otherSpelling(url);
    if (res.status === 404 && other) {
      const second = await get(other, ms);
      if (second.status === 404) {
        throw new VersionEndpointUnavailable(`version endpoint ${url} answered 404 Not Found, and so did ${other}: is the versionEndpoint right?`, url);
      }
      answered = other;
      res = second;
    }
    if (res.status < 200 || res.status >= 300) {
      throw new VersionEndpointUnavailable(
        `version endpoint ${answered} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''} (${res.contentType}): ${quote(res.text)}`,
        answered,
      );
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(res.text);
    } catch {
      throw new VersionEndpointUnavailable(
        `version endpoint ${answered} answered ${res.status} with ${res.contentType} that is not JSON: ${quote(res.text)}`,
        answered,
      );
    }
    const body = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
    if (typeof body.release !== 'string' || body.release.trim() === '') {
      throw new VersionEndpointUnavailable(
        `version endpoint ${answered} answered ${res.status} with ${res.contentType} JSON without a string "release": ${quote(res.text)}`,
        answered,
      );
    }
    return {
      release: body.release.trim(),
      ...(typeof body.environment === 'string' ? { environment: body.environment } : {}),
      url: answered,
    };
  }

  return {
    /** The release `url` reports now; a 404 there is retried once at the other spelling (`/version` ↔ `/version.json`). */
    async readVersion(input: ReadVersionInput): Promise<VersionReading> {
      return read(input.url, timeoutMs);
    },

    /**
     * Polls `url` until it reports `expected`, heartbeating the last seen release. Transient
     * failures are retried until the budget ends; then it throws VersionMismatch.
     */
    async awaitVersion(input: AwaitVersionInput): Promise<AwaitedVersion> {
      const everyMs = input.everyMs ?? 2000;
      const ctx = activityContext();
      const resumed = progressFrom(ctx?.info.heartbeatDetails, input.url);
      const progress: AwaitVersionProgress = resumed ?? { startedAt: Date.now(), attempts: 0, url: input.url };
      const deadline = progress.startedAt + input.budgetSeconds * 1000;
      const beat = () => ctx?.heartbeat({ ...progress });
      const ticker = ctx ? setInterval(beat, Math.max(250, Math.min(everyMs, 1000))) : undefined;
      try {
        for (;;) {
          progress.attempts += 1;
          beat();
          const remaining = deadline - Date.now();
          try {
            const reading = await read(progress.url, Math.min(timeoutMs, Math.max(remaining, 100)));
            progress.url = reading.url;
            progress.lastRelease = reading.release;
            delete progress.lastError;
            if (reading.release === input.expected) {
              beat();
              return { release: reading.release, attempts: progress.attempts, url: reading.url };
            }
          } catch (err) {
            if (!(err instanceof VersionEndpointUnavailable)) throw err;
            progress.lastError = err.message;
          }
          beat();
          const left = deadline - Date.now();
          if (left <= 0) break;
          await sleep(Math.min(everyMs, left), ctx?.cancellationSignal);
        }
      } finally {
        if (ticker) clearInterval(ticker);
      }
      throw mismatch(input, progress);
    },
  };
}

export type VersionActivities = ReturnType<typeof createVersionActivities>;

function mismatch(input: AwaitVersionInput, p: AwaitVersionProgress): VersionMismatch {
  const head = 'not serving the new version: ';
  const expected = `(expected '${input.expected}')`;
  if (p.lastRelease === undefined) {
    return new VersionMismatch(
      `${head}${p.url} did not report a release within ${input.budgetSeconds} s ${expected}; last error: ${p.lastError ?? 'none'}`,
      p.url,
      input.expected,
    );
  }
  const tail = p.lastError ? `; the last attempt failed: ${p.lastError}` : '';
  return new VersionMismatch(
    `${head}${p.url} still reports '${p.lastRelease}' after ${input.budgetSeconds} s ${expected}${tail}`,
    p.url,
    input.expected,
    p.lastRelease,
  );
}

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeat details of an earlier attempt of the same wait, if they fit. */
function progressFrom(details: unknown, url: string): AwaitVersionProgress | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const d = details as Partial<AwaitVersionProgress>;
  if (typeof d.startedAt !== 'number' || typeof d.attempts !== 'number') return undefined;
  return {
    startedAt: d.startedAt,
    attempts: d.attempts,
    url: typeof d.url === 'string' ? d.url : url,
    ...(typeof d.lastRelease === 'string' ? { lastRelease: d.lastRelease } : {}),
    ...(typeof d.lastError === 'string' ? { lastError: d.lastError } : {}),
  };
}

/** `…/version` ↔ `…/version.json`, keeping base and query; undefined for other paths. */
export function otherSpelling(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return undefined;
  }
  if (u.pathname.endsWith('/version.json')) u.pathname = u.pathname.slice(0, -'.json'.length);
  else if (u.pathname.endsWith('/version')) u.pathname = `${u.pathname}.json`;
  else return undefined;
  return u.toString();
}

function describeFetchError(err: unknown, timedOut: boolean, ms: number): string {
  if (timedOut) return `did not answer within ${formatSeconds(ms)}`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused the connection';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'closed the connection before answering';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'has a host name that does not resolve';
    case 'ETIMEDOUT':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'could not be connected to in time';
  }
  const message = cause?.message ?? (err instanceof Error ? err.message : String(err));
  return `could not be fetched: ${message}`;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(2))} s`;
}

/** The first characters of a body, on one line, quoted. */
function quote(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return JSON.stringify(flat.length > QUOTE_CHARS ? `${flat.slice(0, QUOTE_CHARS)}…` : flat);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
