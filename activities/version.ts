/**
 * Version endpoint activities: read the release an environment serves, and wait until it
 * serves the one just deployed. Endpoints answer JSON `{"release": "<tag>"}`, API ones with
 * `environment` too; both `/version` and `/version.json` spellings are tolerated.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { Context } from '@temporalio/activity';
import { BadInput } from '../domain/errors';

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
  /** Per request, in ms. Default 5000. */
  timeoutMs?: number;
  /**
   * The origins (`scheme://host[:port]`) requests may go to: those of the configured
   * version endpoints. Without it, any http(s) origin (still never a link-local one).
   */
  origins?: () => ReadonlySet<string>;
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
/** A version answer is a few dozen bytes; more than this is not read. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_REDIRECTS = 5;

export function createVersionActivities(deps: VersionDeps = {}) {
  const timeoutMs = deps.timeoutMs ?? 5000;

  /**
   * One GET of `url`, with the timeout and the activity's cancellation. Redirects are
   * followed only within the same origin; the configured origins and no link-local or
   * instance-metadata address are ever connected to (checked on the address connected to).
   */
  async function get(url: string, ms: number): Promise<{ status: number; statusText: string; contentType: string; text: string }> {
    const cancel = activityContext()?.cancellationSignal;
    const timeout = AbortSignal.timeout(ms);
    const signal = cancel ? AbortSignal.any([timeout, cancel]) : timeout;
    let current = destination(url, deps.origins?.());
    try {
      for (let hop = 0; ; hop++) {
        const res = await request(current, signal);
        const location = res.location;
        if (res.status >= 300 && res.status < 400 && location !== undefined) {
          let next: URL;
          try {
            next = new URL(location, current);
          } catch {
            throw new BadInput(`version endpoint ${url} redirected to ${quote(location)}, which is not a URL`);
          }
          if (next.origin !== current.origin) {
            throw new BadInput(
              `version endpoint ${url} redirected to ${quote(next.origin)}, another ${next.protocol === current.protocol ? 'host' : 'scheme'}: a version endpoint is read only at its configured origin (${current.origin}); point versionEndpoint at where it answers`,
            );
          }
          if (hop >= MAX_REDIRECTS) throw new BadInput(`version endpoint ${url} redirected more than ${MAX_REDIRECTS} times`);
          current = next;
          continue;
        }
        return res;
      }
    } catch (err) {
      if (err instanceof BadInput) throw err;
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
      throw new VersionEndpointUnavailable(`version endpoint ${answered} answered ${res.status} with ${res.contentType} that is not JSON: ${quote(res.text)}`, answered);
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
    return new VersionMismatch(`${head}${p.url} did not report a release within ${input.budgetSeconds} s ${expected}; last error: ${p.lastError ?? 'none'}`, p.url, input.expected);
  }
  const tail = p.lastError ? `; the last attempt failed: ${p.lastError}` : '';
  return new VersionMismatch(`${head}${p.url} still reports '${p.lastRelease}' after ${input.budgetSeconds} s ${expected}${tail}`, p.url, input.expected, p.lastRelease);
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

/** `url` as a request may go to it: http(s), a configured origin, not a link-local address. */
function destination(url: string, origins: ReadonlySet<string> | undefined): URL {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BadInput(`version endpoint ${quote(url)} is not a URL`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new BadInput(`version endpoint ${u.origin}: only http and https are read`);
  if (origins && !origins.has(u.origin)) {
    throw new BadInput(`version endpoint ${quote(url)} is not at a configured origin (${[...origins].join(', ') || 'none is configured'})`);
  }
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) && forbiddenAddress(literal)) throw new BadInput(forbiddenMessage(url, literal));
  return u;
}

/**
 * Addresses a version endpoint never is: link-local (169.254.0.0/16, fe80::/10), where
 * clouds serve instance metadata and credentials (169.254.169.254, fd00:ec2::254,
 * Alibaba's 100.100.100.200), and the unspecified 0.0.0.0/8 and ::.
 */
export function forbiddenAddress(address: string): boolean {
  let a = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) a = mapped[1];
  if (isIP(a) === 4) {
    const [x, y] = a.split('.').map(Number);
    return (x === 169 && y === 254) || x === 0 || a === '100.100.100.200';
  }
  if (isIP(a) === 6) {
    const first = parseInt(a.split(':')[0] || '0', 16);
    return (first & 0xffc0) === 0xfe80 || a === 'fd00:ec2::254' || a === '::';
  }
  return false;
}

function forbiddenMessage(url: string, address: string): string {
  return `version endpoint ${url} resolves to ${address}, a link-local or instance-metadata address: Slipway never reads those`;
}

/** DNS look-up that refuses forbidden addresses: the check holds for the address actually connected to. */
function guardedLookup(url: string) {
  return (hostname: string, options: object, callback: (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const bad = addresses.find((a) => forbiddenAddress(a.address));
      if (bad) return callback(Object.assign(new BadInput(forbiddenMessage(url, bad.address)), { code: 'EFORBIDDEN' }), '', 0);
      if ((options as { all?: boolean }).all) return callback(null, addresses);
      callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

interface Answer {
  status: number;
  statusText: string;
  contentType: string;
  text: string;
  location?: string;
}

/** One GET, reading at most MAX_BODY_BYTES of the body. */
function request(u: URL, signal: AbortSignal): Promise<Answer> {
  const mod = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.request(u, { method: 'GET', headers: { accept: 'application/json' }, signal, lookup: guardedLookup(u.href) as never }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () =>
        resolve({
          status: res.statusCode ?? 0,
          statusText: res.statusMessage ?? '',
          contentType: String(res.headers['content-type'] ?? '(none)'),
          text: Buffer.concat(chunks).toString('utf8'),
          ...(typeof res.headers.location === 'string' && { location: res.headers.location }),
        });
      res.on('data', (chunk: Buffer) => {
        if (size >= MAX_BODY_BYTES) return;
        chunks.push(chunk.subarray(0, MAX_BODY_BYTES - size));
        size += chunk.length;
        if (size >= MAX_BODY_BYTES) {
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', reject);
    });
    req.on('error', (err) => reject((err as { cause?: unknown }).cause instanceof BadInput ? (err as { cause: unknown }).cause : err));
    req.end();
  });
}

function describeFetchError(err: unknown, timedOut: boolean, ms: number): string {
  if (timedOut) return `did not answer within ${formatSeconds(ms)}`;
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown } | undefined)?.code;
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
  if (code === 'ECONNABORTED' || (err as { name?: string })?.name === 'AbortError') return 'was aborted';
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
