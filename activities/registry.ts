/**
 * A small client for the OCI distribution API (what GHCR, ECR, Docker Hub and the CNCF
 * registry share): does a tag exist, list tags, read a manifest's exact bytes, and put the
 * same bytes under a second tag, plus the registry activities built over it.
 *
 * Auth follows the registries' own handshake: a request goes out anonymously; a `401` with
 * `WWW-Authenticate: Bearer realm=…,service=…` makes the client fetch a token for the
 * request's scope from the realm (sending basic credentials when configured) and retry;
 * `WWW-Authenticate: Basic` makes it retry with basic credentials. Tokens are cached per
 * (host, scope) until they expire, and the host's challenge is remembered so later scopes
 * skip the anonymous round trip.
 *
 * Errors follow Slipway's retry contract: 5xx, 408, 429, timeouts and network faults are
 * `RegistryUnavailable` (retried); refused credentials are `Unauthorized`, a missing
 * repository or manifest `NotFound`, a malformed reference `BadInput`, any other 4xx
 * `ClientRejected`. No message ever carries a credential or a token.
 */
import { createHash } from 'node:crypto';
import { BadInput, ClientRejected, NotFound, Unauthorized } from '../domain/errors';
import { tagProblem } from '../domain/tags';
import { withHeartbeat } from './heartbeat';

/** The manifest media types the client accepts, most specific first. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
] as const;

const ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

/** Credentials for one registry host. */
export interface RegistryCredentials {
  /** With `password`: sent as basic auth to a Basic registry or to a Bearer registry's token realm (GHCR: a GitHub user and a PAT). */
  username?: string;
  password?: string;
  /** A ready-made bearer token, sent as is when the registry asks for Bearer (skips the token realm). */
  token?: string;
}

export interface RegistryClientOptions {
  /** Credentials for a registry host (`ghcr.io`, `127.0.0.1:5000`); anonymous when it returns undefined. */
  auth?: (host: string) => RegistryCredentials | undefined;
  /** Hosts spoken to over plain http, e.g. `127.0.0.1:5000`. Everything else is https. */
  insecureHosts?: string[];
  fetch?: typeof fetch;
  /** Per-request timeout (default 30 000 ms). */
  timeoutMs?: number;
  /** Names the credential to set for a host in `Unauthorized` messages (e.g. the environment variables the worker reads). */
  credentialHint?: (host: string) => string | undefined;
}

export interface Manifest {
  mediaType: string;
  /** `sha256:…` of `bytes`. */
  digest: string;
  /** The manifest exactly as the registry stores it. */
  bytes: Buffer;
}

export interface AliasResult {
  digest: string;
  /** False when the alias already pointed at this digest (nothing was written). */
  created: boolean;
}

export interface RegistryClient {
  tagExists(image: string, tag: string): Promise<boolean>;
  /** The digest a tag points at, or undefined when the tag does not exist. */
  tagDigest(image: string, tag: string): Promise<string | undefined>;
  /**
   * Every tag of the repository in the registry's order, following `Link: <…>; rel="next"`
   * pages of `pageSize` (default 1000; registries that do not paginate answer everything at once).
   */
  listTags(image: string, opts?: { pageSize?: number }): Promise<string[]>;
  /** `reference` is a tag or a digest. */
  getManifest(image: string, reference: string): Promise<Manifest>;
  /**
   * Puts the manifest of `fromTag` (image or image index, byte for byte) under `toTag` without
   * touching layers. Idempotent; refuses (`ClientRejected`) when `toTag` points elsewhere.
   */
  aliasTag(image: string, fromTag: string, toTag: string): Promise<AliasResult>;
}

/** The registry could not be reached or answered 5xx/408/429. Retryable. */
export class RegistryUnavailable extends Error {
  override name = 'RegistryUnavailable';
}

/** An image repository reference split into the parts the API needs. */
export interface ImageRef {
  /** As given: `ghcr.io/wordpress/openverse-api`. */
  image: string;
  /** Registry host as written, used for credentials and messages: `ghcr.io`. */
  host: string;
  /** Host the API is served from (differs only for Docker Hub). */
  apiHost: string;
  /** Repository name inside the registry: `wordpress/openverse-api`. */
  name: string;
}

const LABEL = '[a-z0-9](?:[a-z0-9-]*[a-z0-9])?';
const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})+(?::[0-9]+)?|${LABEL}:[0-9]+|localhost(?::[0-9]+)?|\\[[0-9a-f:]+\\](?::[0-9]+)?)$`);
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DIGEST = /^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

/** Splits `host/path/name` (no tag, no digest); throws `BadInput` when it is not one. */
export function parseImage(image: string): ImageRef {
  const bad = (why: string) => new BadInput(`${JSON.stringify(image)} is not an image repository: ${why} (expected host/path/name, like ghcr.io/wordpress/openverse-api)`);
  if (typeof image !== 'string' || image.length === 0) throw bad('it is empty');
  if (image.length > 255) throw bad('it is longer than 255 characters');
  const slash = image.indexOf('/');
  if (slash < 0) throw bad('it has no registry host');
  const host = image.slice(0, slash);
  let name = image.slice(slash + 1);
  if (!HOST.test(host)) throw bad(`${JSON.stringify(host)} is not a registry host (it needs a dot, a port or to be localhost)`);
  if (/[@:]/.test(name)) throw bad('give the repository without a tag or digest');
  if (!name.split('/').every((c) => COMPONENT.test(c))) throw bad('path components are lowercase letters and digits separated by ".", "_", "__" or "-"');
  let apiHost = host;
  if (host === 'docker.io' || host === 'index.docker.io') {
    apiHost = 'registry-1.docker.io';
    if (!name.includes('/')) name = `library/${name}`;
  }
  return { image, host, apiHost, name };
}

/** Throws `BadInput` unless `reference` is a well-formed tag or digest. */
function checkReference(reference: string): void {
  if (typeof reference === 'string' && DIGEST.test(reference)) return;
  const problem = tagProblem(reference);
  if (problem) throw new BadInput(problem);
}

/** `<algorithm>:<hex>` of `bytes`. */
export function digestOf(bytes: Uint8Array, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

interface Challenge {
  scheme: 'bearer' | 'basic';
  realm?: string;
  service?: string;
}

/** The first Bearer (else Basic) challenge of a `WWW-Authenticate` header. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const starts = [...header.matchAll(/(?:^|,)\s*(Bearer|Basic)(?:\s+|$|,)/gi)];
  const found = starts.map((m, i) => {
    const from = m.index! + m[0].length;
    const to = i + 1 < starts.length ? starts[i + 1].index! : header.length;
    const params: Record<string, string> = {};
    for (const p of header.slice(from, to).matchAll(/([A-Za-z_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
      params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
    }
    return { scheme: m[1].toLowerCase() as Challenge['scheme'], realm: params.realm, service: params.service };
  });
  return found.find((c) => c.scheme === 'bearer' && c.realm) ?? found.find((c) => c.scheme === 'basic');
}

/** What the caller should set when a host refuses it. */
function defaultHint(host: string): string {
  if (host === 'ghcr.io') return 'credentials for ghcr.io (a GitHub username and a personal access token with read:packages, and write:packages to alias tags)';
  if (/\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/.test(host)) return `credentials for ${host} (username AWS and the password from \`aws ecr get-login-password\`)`;
  if (host === 'docker.io' || host === 'index.docker.io') return 'credentials for docker.io (a Docker Hub username and access token)';
  return `credentials for ${host} (a username and password, or a token)`;
}

/** A summary of an OCI error body: `CODE: message; …`, else the start of the text. */
function errorDetail(text: string): string {
  try {
    const parsed = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
    if (Array.isArray(parsed.errors) && parsed.errors.length) {
      return parsed.errors
        .map((e) => [e.code, e.message].filter(Boolean).join(': '))
        .join('; ')
        .slice(0, 300);
    }
  } catch {
    // not JSON
  }
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}

interface Grant {
  header: Promise<string>;
  expiresAt: number;
}

interface Call {
  ref: ImageRef;
  action: 'pull' | 'push';
  method: 'GET' | 'HEAD' | 'PUT';
  path: string;
  /** What was being done, for messages: "reading manifest ghcr.io/a/b:tag". */
  what: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export function createRegistryClient(opts: RegistryClientOptions = {}): RegistryClient {
  const doFetch = opts.fetch ?? fetch;
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const insecure = new Set(opts.insecureHosts ?? []);
  /** The challenge each API host answered with. */
  const challenges = new Map<string, Challenge>();
  /** Authorization headers per `<apiHost> <scope>`. */
  const grants = new Map<string, Grant>();
  /** Every credential and token seen, to scrub from messages. */
  const secrets = new Set<string>();

  /** Releases an unread answer's connection. */
  const discard = (res: Response) => res.body?.cancel().catch(() => undefined);

  function redact(text: string): string {
    let out = text;
    for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
    return out;
  }

  function credentials(ref: ImageRef): RegistryCredentials | undefined {
    const c = opts.auth?.(ref.host);
    if (!c) return undefined;
    for (const s of [c.password, c.token])
      if (s) {
        secrets.add(s);
        secrets.add(Buffer.from(s).toString('base64'));
      }
    if (c.username && c.password) secrets.add(Buffer.from(`${c.username}:${c.password}`).toString('base64'));
    return c.username || c.password || c.token ? c : undefined;
  }

  function origin(ref: ImageRef): string {
    return `${insecure.has(ref.host) || insecure.has(ref.apiHost) ? 'http' : 'https'}://${ref.apiHost}`;
  }

  const scopeOf = (ref: ImageRef, action: Call['action']) => `repository:${ref.name}:${action === 'push' ? 'pull,push' : 'pull'}`;

  function unauthorized(call: Pick<Call, 'ref' | 'action' | 'what'>, answered: string): Unauthorized {
    const { ref } = call;
    const lead = credentials(ref) ? `the credentials configured for ${ref.host} were refused` : `${ref.host} wants credentials and none are configured`;
    const hint = opts.credentialHint?.(ref.host) ?? defaultHint(ref.host);
    const may = call.action === 'push' ? 'pull and push' : 'pull';
    return new Unauthorized(redact(`${call.what}: ${answered}; ${lead}. Set ${hint} that may ${may} ${ref.name}.`));
  }

  function unavailable(what: string, why: string): RegistryUnavailable {
    return new RegistryUnavailable(redact(`${what}: ${why}`));
  }

  /** One HTTP exchange; network faults and timeouts become `RegistryUnavailable`. */
  async function exchange(what: string, method: string, url: string, headers: Record<string, string>, body?: Buffer): Promise<Response> {
    try {
      return await doFetch(url, { method, headers, body, redirect: 'follow', signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw unavailable(what, `${method} ${url} failed: ${networkReason(err)}`);
    }
  }

  function networkReason(err: unknown): string {
    const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
    if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
    const cause = e?.cause?.code ?? e?.cause?.message;
    return [e?.message ?? String(err), cause].filter(Boolean).join(': ');
  }

  async function readBody(what: string, res: Response): Promise<Buffer> {
    try {
      return Buffer.from(await res.arrayBuffer());
    } catch (err) {
      throw unavailable(what, `reading the answer failed: ${networkReason(err)}`);
    }
  }

  /** A fresh Authorization header for (host, scope) after `challenge`. */
  async function obtain(call: Call, scope: string, challenge: Challenge): Promise<{ header: string; ttlMs: number }> {
    const creds = credentials(call.ref);
    if (challenge.scheme === 'basic') {
      if (!creds?.username || !creds.password) throw unauthorized(call, `${call.ref.host} asks for basic credentials`);
      return { header: `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`, ttlMs: Infinity };
    }
    if (creds?.token) return { header: `Bearer ${creds.token}`, ttlMs: Infinity };
    let realm: URL;
    try {
      realm = new URL(challenge.realm!);
    } catch {
      throw new ClientRejected(`${call.what}: ${call.ref.host} named a token realm that is not a URL`);
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && insecure.has(realm.host))) {
      throw new ClientRejected(`${call.what}: ${call.ref.host} named a token realm (${realm.origin}) that is not https; add its host to insecureHosts to allow it`);
    }
    if (challenge.service) realm.searchParams.set('service', challenge.service);
    realm.searchParams.set('scope', scope);
    const headers: Record<string, string> = {};
    if (creds?.username && creds.password) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
    const what = `${call.what} (token from ${realm.origin}${realm.pathname})`;
    const res = await exchange(what, 'GET', realm.href, headers);
    const text = (await readBody(what, res)).toString('utf8');
    if (res.status === 401 || res.status === 403) throw unauthorized({ ...call, what }, `the token service answered ${res.status}`);
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw unavailable(what, `the token service answered ${res.status}`);
    if (!res.ok) throw new ClientRejected(redact(`${what}: the token service answered ${res.status}: ${errorDetail(text)}`));
    let token: string | undefined;
    let expiresIn = 60;
    try {
      const parsed = JSON.parse(text) as { token?: string; access_token?: string; expires_in?: number };
      token = parsed.token || parsed.access_token;
      if (typeof parsed.expires_in === 'number' && parsed.expires_in > 0) expiresIn = parsed.expires_in;
    } catch {
      // handled below
    }
    if (!token) throw unavailable(what, 'the token service answered without a token');
    secrets.add(token);
    const ttlMs = expiresIn * 1000;
    return { header: `Bearer ${token}`, ttlMs: Math.max(ttlMs - 10_000, ttlMs / 2) };
  }

  /** The cached grant for (host, scope) if still valid, a new one if the host's challenge is known, else none. */
  function grantFor(call: Call, scope: string, rejected?: Grant): Grant | undefined {
    const challenge = challenges.get(call.ref.apiHost);
    if (!challenge) return undefined;
    const key = `${call.ref.apiHost} ${scope}`;
    const cached = grants.get(key);
    if (cached && cached !== rejected && cached.expiresAt > Date.now()) return cached;
    const grant: Grant = { header: Promise.resolve(''), expiresAt: Infinity };
    grant.header = obtain(call, scope, challenge).then(
      ({ header, ttlMs }) => {
        grant.expiresAt = Date.now() + ttlMs;
        return header;
      },
      (err) => {
        if (grants.get(key) === grant) grants.delete(key);
        throw err;
      },
    );
    grants.set(key, grant);
    return grant;
  }

  /** Sends `call`, answering one auth challenge; returns the final response unread. */
  async function send(call: Call): Promise<Response> {
    const scope = scopeOf(call.ref, call.action);
    const url = `${origin(call.ref)}${call.path}`;
    let grant = grantFor(call, scope);
    for (let attempt = 1; ; attempt++) {
      const headers: Record<string, string> = { ...call.headers };
      if (grant) headers.authorization = await grant.header;
      const res = await exchange(call.what, call.method, url, headers, call.body);
      if (res.status !== 401 || attempt > 1) return res;
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      if (!challenge) return res;
      await discard(res);
      challenges.set(call.ref.apiHost, challenge);
      grant = grantFor(call, scope, grant);
    }
  }

  /** Throws the error that `res` (not 2xx) stands for. */
  async function fail(call: Call, res: Response, notFound: () => string): Promise<never> {
    const detail = call.method === 'HEAD' ? '' : errorDetail((await readBody(call.what, res)).toString('utf8'));
    const answered = `${call.ref.host} answered ${res.status}${detail ? ` (${detail})` : ''}`;
    if (res.status === 401 || res.status === 403) throw unauthorized(call, answered);
    if (res.status === 404) throw new NotFound(redact(notFound()));
    if (res.status >= 500 || res.status === 429 || res.status === 408) {
      throw unavailable(call.what, `${call.method} ${call.path}: ${answered}; the registry is unavailable, try again`);
    }
    throw new ClientRejected(redact(`${call.what}: ${answered}`));
  }

  const manifestPath = (ref: ImageRef, reference: string) => `/v2/${ref.name}/manifests/${reference}`;

  /** HEAD (GET when HEAD is not allowed) of a manifest: undefined on 404, else its digest when known or needed. */
  async function probe(ref: ImageRef, tag: string, action: Call['action'], needDigest: boolean): Promise<{ digest?: string } | undefined> {
    let call: Call = { ref, action, method: 'HEAD', path: manifestPath(ref, tag), what: `checking ${ref.image}:${tag}`, headers: { accept: ACCEPT } };
    let res = await send(call);
    if (res.status === 405) {
      await discard(res);
      call = { ...call, method: 'GET' };
      res = await send(call);
    }
    if (res.status === 404) {
      await discard(res);
      return undefined;
    }
    if (!res.ok) return fail(call, res, () => `${ref.image}:${tag} not found`);
    let digest = res.headers.get('docker-content-digest') ?? undefined;
    if (call.method === 'GET' && !digest) digest = digestOf(await readBody(call.what, res));
    else await discard(res);
    if (!digest && needDigest) digest = (await fetchManifest(ref, tag, action)).digest;
    return { digest };
  }

  async function fetchManifest(ref: ImageRef, reference: string, action: Call['action']): Promise<Manifest> {
    const call: Call = { ref, action, method: 'GET', path: manifestPath(ref, reference), what: `reading manifest ${ref.image}:${reference}`, headers: { accept: ACCEPT } };
    const res = await send(call);
    if (!res.ok) return fail(call, res, () => `${ref.image}:${reference} not found: no such repository or manifest on ${ref.host}`);
    const bytes = await readBody(call.what, res);
    const header = res.headers.get('docker-content-digest');
    const computed = digestOf(bytes);
    let digest = computed;
    for (const claimed of [header, DIGEST.test(reference) ? reference : undefined]) {
      if (!claimed) continue;
      const algorithm = claimed.startsWith('sha512:') ? 'sha512' : claimed.startsWith('sha256:') ? 'sha256' : undefined;
      if (!algorithm) continue;
      if (digestOf(bytes, algorithm) !== claimed) {
        throw unavailable(call.what, `the manifest's bytes hash to ${digestOf(bytes, algorithm)}, not ${claimed}; the transfer was corrupted`);
      }
      if (algorithm === 'sha256') digest = claimed;
    }
    return { mediaType: mediaTypeOf(res.headers.get('content-type'), bytes), digest, bytes };
  }

  return {
    async tagExists(image, tag) {
      const ref = parseImage(image);
      checkReference(tag);
      return (await probe(ref, tag, 'pull', false)) !== undefined;
    },

    async tagDigest(image, tag) {
      const ref = parseImage(image);
      checkReference(tag);
      return (await probe(ref, tag, 'pull', true))?.digest;
    },

    async listTags(image, listOpts = {}) {
      const ref = parseImage(image);
      const pageSize = listOpts.pageSize ?? 1000;
      if (!Number.isInteger(pageSize) || pageSize < 1) throw new BadInput(`page size must be a positive integer, not ${pageSize}`);
      const base = origin(ref);
      let path = `/v2/${ref.name}/tags/list?n=${pageSize}`;
      const seen = new Set<string>();
      const tags = new Set<string>();
      while (!seen.has(path)) {
        seen.add(path);
        const call: Call = { ref, action: 'pull', method: 'GET', path, what: `listing the tags of ${ref.image}` };
        const res = await send(call);
        if (!res.ok) return fail(call, res, () => `repository ${ref.image} not found on ${ref.host}`);
        const text = (await readBody(call.what, res)).toString('utf8');
        let page: { tags?: string[] | null };
        try {
          page = JSON.parse(text);
        } catch {
          throw unavailable(call.what, `${ref.host} answered a tag list that is not JSON`);
        }
        for (const t of page.tags ?? []) tags.add(t);
        const next = /<([^>]*)>\s*;\s*rel="?next"?/i.exec(res.headers.get('link') ?? '');
        if (!next) break;
        const url = new URL(next[1], `${base}${path}`);
        if (url.origin !== base) throw new ClientRejected(`${call.what}: ${ref.host} sent a next-page link to another origin (${url.origin})`);
        path = `${url.pathname}${url.search}`;
      }
      return [...tags];
    },

    async getManifest(image, reference) {
      const ref = parseImage(image);
      checkReference(reference);
      return fetchManifest(ref, reference, 'pull');
    },

    async aliasTag(image, fromTag, toTag) {
      const ref = parseImage(image);
      checkReference(fromTag);
      checkReference(toTag);
      if (DIGEST.test(toTag)) throw new BadInput(`an alias must be a tag, not a digest (${toTag})`);
      // The push scope throughout: one token covers the reads and the write.
      const source = await fetchManifest(ref, fromTag, 'push');
      const current = (await probe(ref, toTag, 'push', true))?.digest;
      if (current === source.digest) return { digest: source.digest, created: false };
      if (current !== undefined) {
        throw new ClientRejected(
          `${ref.image}:${toTag} already points at ${current}, not at ${source.digest} (${fromTag}); an alias is never moved, remove it by hand if it must change`,
        );
      }
      const call: Call = {
        ref,
        action: 'push',
        method: 'PUT',
        path: manifestPath(ref, toTag),
        what: `tagging ${ref.image}:${fromTag} as ${toTag}`,
        headers: { 'content-type': source.mediaType },
        body: source.bytes,
      };
      const res = await send(call);
      if (!res.ok) return fail(call, res, () => `${ref.image} not found on ${ref.host}`);
      await discard(res);
      const stored = res.headers.get('docker-content-digest');
      if (stored && stored !== source.digest) {
        throw new ClientRejected(`${call.what}: ${ref.host} stored the manifest as ${stored}, not ${source.digest}`);
      }
      return { digest: source.digest, created: true };
    },
  };
}

/** The manifest's media type: the Content-Type the registry stored, else the document's own `mediaType`, else its shape. */
function mediaTypeOf(contentType: string | null, bytes: Buffer): string {
  const header = contentType?.split(';')[0].trim().toLowerCase();
  if (header && header.startsWith('application/vnd.')) return header;
  try {
    const doc = JSON.parse(bytes.toString('utf8')) as { mediaType?: string; manifests?: unknown };
    if (typeof doc.mediaType === 'string' && doc.mediaType) return doc.mediaType;
    return Array.isArray(doc.manifests) ? MANIFEST_MEDIA_TYPES[0] : MANIFEST_MEDIA_TYPES[1];
  } catch {
    return header || MANIFEST_MEDIA_TYPES[1];
  }
}

// ---------------------------------------------------------------------------------------
// Activities
// ---------------------------------------------------------------------------------------

export interface RegistryDeps {
  registry: RegistryClient;
}

/** An image of an app: its key in the config (`nginx`) and its repository (`ghcr.io/wordpress/openverse-api_nginx`). */
export interface AppImage {
  key: string;
  repository: string;
}

export interface CheckImageTagsInput {
  images: AppImage[];
  tag: string;
}

export interface AliasImageTagsInput {
  images: AppImage[];
  fromTag: string;
  toTag: string;
}

export interface AliasedImage {
  key: string;
  repository: string;
  digest: string;
  created: boolean;
}

/** The repository's last path segment: `openverse-api_nginx`. */
function imageName(repository: string): string {
  return repository.slice(repository.lastIndexOf('/') + 1);
}

function missingTag(tag: string, repository: string): string {
  return `'${tag}' does not appear to be a valid tag for the ${imageName(repository)} image.`;
}

function requireTag(tag: string): void {
  const problem = tagProblem(tag);
  if (problem) throw new BadInput(problem);
}

/** Runs `fn` over every item at once; throws the first failure in input order. */
async function each<T, R>(items: T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const settled = await Promise.allSettled(items.map(fn));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((s) => (s as PromiseFulfilledResult<R>).value);
}

export function createRegistryActivities({ registry }: RegistryDeps) {
  return {
    /** Throws `NotFound` naming every image that lacks `tag`. */
    async checkImageTags({ images, tag }: CheckImageTagsInput): Promise<void> {
      requireTag(tag);
      const found = await withHeartbeat(() => each(images, (i) => registry.tagExists(i.repository, tag)));
      const missing = images.filter((_, n) => !found[n]);
      if (missing.length) throw new NotFound(missing.map((i) => missingTag(tag, i.repository)).join(' '));
    },

    async listImageTags({ repository }: { repository: string }): Promise<string[]> {
      return withHeartbeat(() => registry.listTags(repository));
    },

    /**
     * Tags each image's `fromTag` manifest as `toTag`. Checks every image first and writes
     * nothing when any lacks `fromTag` (`NotFound`) or already has `toTag` elsewhere
     * (`ClientRejected`), so an alias is never half applied for a reason known up front.
     */
    async aliasImageTags({ images, fromTag, toTag }: AliasImageTagsInput): Promise<AliasedImage[]> {
      requireTag(fromTag);
      requireTag(toTag);
      return withHeartbeat(async () => {
        const plan = await each(images, async (i) => ({
          image: i,
          from: await registry.tagDigest(i.repository, fromTag),
          to: await registry.tagDigest(i.repository, toTag),
        }));
        const missing = plan.filter((p) => p.from === undefined);
        if (missing.length) throw new NotFound(missing.map((p) => missingTag(fromTag, p.image.repository)).join(' '));
        const moved = plan.filter((p) => p.to !== undefined && p.to !== p.from);
        if (moved.length) {
          throw new ClientRejected(
            moved
              .map((p) => `${p.image.repository}:${toTag} already points at ${p.to}, not at ${p.from} (${fromTag}).`)
              .concat('An alias is never moved; nothing was tagged.')
              .join(' '),
          );
        }
        return each(images, async (i) => {
          const { digest, created } = await registry.aliasTag(i.repository, fromTag, toTag);
          return { key: i.key, repository: i.repository, digest, created };
        });
      });
    },
  };
}
