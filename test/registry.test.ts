/**
 * The registry client and activities against the real CNCF distribution registry, with a
 * small auth proxy in front of it (node:http) that plays the registry's auth handshake
 * (Bearer with a token endpoint, or Basic), pages tag lists, counts requests and injects
 * faults, so the client's HTTP is exercised for real.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createRegistryActivities, createRegistryClient, digestOf, parseImage, type RegistryClientOptions } from '../activities/registry';
import { BadInput, ClientRejected, NON_RETRYABLE, NotFound, Unauthorized } from '../domain/errors';
import { OCI_INDEX, OCI_MANIFEST, pushImage, pushIndex, seedImages, startRegistry, type SandboxRegistry } from '../sandbox/registry';
import { freePort } from '../sandbox/temporal';

const PASSWORD = 'pat-ghp_s3cr3tvalue1234567890';

interface ProxyUser {
  password: string;
  canPush: boolean;
}

interface ProxyOptions {
  mode: 'none' | 'bearer' | 'basic';
  users?: Record<string, ProxyUser>;
  /** Answer HEAD with 405 (some registries do). */
  headNotAllowed?: boolean;
}

interface Seen {
  method: string;
  path: string;
  authorization?: string;
}

/** An auth proxy in front of the real registry; see the file comment. */
interface Proxy {
  host: string;
  url: string;
  requests: Seen[];
  tokenRequests: { scope: string | null; service: string | null; authorization?: string }[];
  issued: string[];
  /** Answer the next `count` API requests with `status`. */
  failNext(status: number, count?: number): void;
  /** Hold the next API request without answering (until close). */
  hangNext(): void;
  /** Forget every issued token (the registry now refuses them). */
  revokeTokens(): void;
  reset(): void;
  close(): Promise<void>;
}

async function startProxy(upstream: SandboxRegistry, opts: ProxyOptions): Promise<Proxy> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const users = opts.users ?? {};
  const tokens = new Map<string, { repo: string; actions: string[] }>();
  const requests: Seen[] = [];
  const tokenRequests: Proxy['tokenRequests'] = [];
  const issued: string[] = [];
  const hanging: ServerResponse[] = [];
  let faults: { status: number; count: number } | undefined;
  let hang = false;

  const userOf = (authorization: string | undefined): string | undefined | null => {
    if (!authorization?.startsWith('Basic ')) return undefined;
    const [user, ...rest] = Buffer.from(authorization.slice(6), 'base64').toString().split(':');
    return users[user]?.password === rest.join(':') ? user : null;
  };

  function token(req: IncomingMessage, res: ServerResponse, url: URL) {
    const authorization = req.headers.authorization;
    const scope = url.searchParams.get('scope');
    tokenRequests.push({ scope, service: url.searchParams.get('service'), authorization });
    const user = userOf(authorization);
    if (user === null) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"incorrect username or password"}');
      return;
    }
    const [, repo = '', wanted = ''] = /^repository:(.+):([a-z,]+)$/.exec(scope ?? '') ?? [];
    const granted = wanted.split(',').filter((a) => a === 'pull' || (a === 'push' && user && users[user].canPush));
    const t = `tok-${randomBytes(12).toString('hex')}`;
    tokens.set(t, { repo, actions: granted });
    issued.push(t);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: t, expires_in: 300 }));
  }

  /** Whether the request may go on; answers 401/403 itself when not. */
  function admitted(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (opts.mode === 'none') return true;
    const repo = /^\/v2\/(.+?)\/(?:manifests|tags|blobs)\//.exec(path)?.[1];
    const action = req.method === 'GET' || req.method === 'HEAD' ? 'pull' : 'push';
    const authorization = req.headers.authorization;
    if (opts.mode === 'basic') {
      const user = userOf(authorization);
      if (!user) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="sandbox registry"', 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return false;
      }
      if (action === 'push' && !users[user].canPush) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}');
        return false;
      }
      return true;
    }
    const grant = authorization?.startsWith('Bearer ') ? tokens.get(authorization.slice(7)) : undefined;
    if (grant && (!repo || (grant.repo === repo && grant.actions.includes(action)))) return true;
    const scope = `repository:${repo ?? ''}:${action === 'push' ? 'pull,push' : 'pull'}`;
    res.writeHead(401, {
      'www-authenticate': `Bearer realm="http://${host}/token",service="sandbox-registry",scope="${scope}"`,
      'content-type': 'application/json',
    });
    res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    return false;
  }

  /** Tag lists paged by `n` and `last`, with `Link` headers, the way paginating registries answer. */
  async function pagedTags(res: ServerResponse, url: URL) {
    const up = await fetch(`${upstream.url}${url.pathname}`);
    const text = await up.text();
    if (up.status !== 200 || !url.searchParams.has('n')) {
      res.writeHead(up.status, { 'content-type': 'application/json' }).end(text);
      return;
    }
    const n = Number(url.searchParams.get('n'));
    const last = url.searchParams.get('last');
    const all = ((JSON.parse(text).tags as string[]) ?? []).sort();
    const rest = last ? all.filter((t) => t > last) : all;
    const page = rest.slice(0, n);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (rest.length > n) headers.link = `<${url.pathname}?n=${n}&last=${encodeURIComponent(page[page.length - 1])}>; rel="next"`;
    res.writeHead(200, headers).end(JSON.stringify({ name: JSON.parse(text).name, tags: page }));
  }

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${host}`);
    if (url.pathname === '/token') return token(req, res, url);
    requests.push({ method: req.method ?? '', path: `${url.pathname}${url.search}`, authorization: req.headers.authorization });
    if (hang) {
      hang = false;
      hanging.push(res);
      return;
    }
    if (faults && faults.count > 0) {
      faults.count--;
      res.writeHead(faults.status, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return;
    }
    if (!admitted(req, res, url.pathname)) return;
    if (opts.headNotAllowed && req.method === 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (req.method === 'GET' && url.pathname.endsWith('/tags/list')) {
      pagedTags(res, url).catch((e) => res.writeHead(502).end(String(e)));
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const up = httpRequest({ host: '127.0.0.1', port: upstream.port, method: req.method, path: req.url, headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', (e) => res.writeHead(502).end(String(e)));
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    host,
    url: `http://${host}`,
    requests,
    tokenRequests,
    issued,
    failNext(status, count = 1) {
      faults = { status, count };
    },
    hangNext() {
      hang = true;
    },
    revokeTokens() {
      tokens.clear();
    },
    reset() {
      requests.length = 0;
      tokenRequests.length = 0;
    },
    async close() {
      for (const r of hanging) r.destroy();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The error `promise` rejects with (fails the test when it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (e) {
    return e as Error;
  }
  assert.fail('expected a rejection');
}

const isRetryable = (e: Error) => !(NON_RETRYABLE as readonly string[]).includes(e.name);

describe('registry client', () => {
  let registry: SandboxRegistry;
  const proxies: Proxy[] = [];
  const API = () => `${registry.host}/wordpress/openverse-api`;
  const NGINX = () => `${registry.host}/wordpress/openverse-api_nginx`;
  const direct = (extra: RegistryClientOptions = {}) => createRegistryClient({ insecureHosts: [registry.host], ...extra });

  async function proxy(opts: ProxyOptions): Promise<Proxy> {
    const p = await startProxy(registry, opts);
    proxies.push(p);
    return p;
  }

  before(async () => {
    registry = await startRegistry();
    await seedImages(registry.url, [API(), NGINX()], ['both', 'stable-src']);
    await pushImage(registry.url, API(), 'only-api');
  });
  after(async () => {
    for (const p of proxies) await p.close();
    await registry?.close();
  });

  describe('reading', () => {
    it('tells whether a tag exists', async () => {
      const c = direct();
      assert.equal(await c.tagExists(API(), 'both'), true);
      assert.equal(await c.tagExists(API(), 'missing'), false);
      assert.equal(await c.tagExists(`${registry.host}/wordpress/no-such-repo`, 'both'), false);
    });

    it('falls back to GET when HEAD is not allowed', async () => {
      const p = await proxy({ mode: 'none', headNotAllowed: true });
      const c = createRegistryClient({ insecureHosts: [p.host] });
      assert.equal(await c.tagExists(`${p.host}/wordpress/openverse-api`, 'both'), true);
      assert.equal(await c.tagExists(`${p.host}/wordpress/openverse-api`, 'missing'), false);
      assert.deepEqual(
        p.requests.map((r) => r.method),
        ['HEAD', 'GET', 'HEAD', 'GET'],
      );
    });

    it('returns the exact bytes of a manifest and their digest', async () => {
      const pushed = await pushImage(registry.url, API(), 'exact', { content: 'exact bytes' });
      const m = await direct().getManifest(API(), 'exact');
      assert.equal(m.mediaType, OCI_MANIFEST);
      assert.ok(m.bytes.equals(pushed.bytes));
      assert.equal(m.digest, pushed.digest);
      assert.equal(m.digest, digestOf(pushed.bytes));
      const byDigest = await direct().getManifest(API(), pushed.digest);
      assert.ok(byDigest.bytes.equals(pushed.bytes));
    });

    it('refuses a manifest whose bytes do not match the digest the registry claims', async () => {
      const tampering: typeof fetch = async (input, init) => {
        const res = await fetch(input, init);
        const headers = new Headers(res.headers);
        if (headers.has('docker-content-digest')) headers.set('docker-content-digest', `sha256:${'0'.repeat(64)}`);
        return new Response(init?.method === 'HEAD' ? null : await res.arrayBuffer(), { status: res.status, headers });
      };
      const e = await rejection(direct({ fetch: tampering }).getManifest(API(), 'both'));
      assert.equal(e.name, 'RegistryUnavailable');
      assert.match(e.message, /corrupted/);
    });

    it('lists every tag of a registry that answers at once', async () => {
      const tags = await direct().listTags(NGINX(), { pageSize: 1 });
      assert.deepEqual([...tags].sort(), ['both', 'stable-src']);
    });

    it('follows Link pages of n tags', async () => {
      const many = Array.from({ length: 8 }, (_, i) => `page-${i}`);
      await seedImages(registry.url, [`${registry.host}/wordpress/paged`], many);
      const p = await proxy({ mode: 'none' });
      const tags = await createRegistryClient({ insecureHosts: [p.host] }).listTags(`${p.host}/wordpress/paged`, { pageSize: 3 });
      assert.deepEqual(tags, many);
      const lists = p.requests.filter((r) => r.path.includes('/tags/list'));
      assert.equal(lists.length, 3);
      assert.ok(
        lists.every((r) => /[?&]n=3(&|$)/.test(r.path)),
        lists.map((r) => r.path).join('\n'),
      );
    });

    it('reports a missing repository as NotFound', async () => {
      const e = await rejection(direct().listTags(`${registry.host}/wordpress/no-such-repo`));
      assert.ok(e instanceof NotFound, String(e));
      const m = await rejection(direct().getManifest(API(), 'missing'));
      assert.ok(m instanceof NotFound, String(m));
    });

    it('refuses malformed references as BadInput', async () => {
      const c = direct();
      for (const image of ['openverse-api', 'wordpress/openverse-api', 'ghcr.io/WordPress/openverse-api', 'ghcr.io/wordpress/openverse-api:latest', '']) {
        const e = await rejection(c.tagExists(image, 'both'));
        assert.ok(e instanceof BadInput, `${image}: ${String(e)}`);
      }
      const e = await rejection(c.tagExists(API(), 'bad tag'));
      assert.ok(e instanceof BadInput, String(e));
      assert.deepEqual(parseImage('docker.io/nginx'), { image: 'docker.io/nginx', host: 'docker.io', apiHost: 'registry-1.docker.io', name: 'library/nginx' });
    });
  });

  describe('aliasing', () => {
    it('copies a single manifest byte for byte, once', async () => {
      const p = await proxy({ mode: 'none' });
      const c = createRegistryClient({ insecureHosts: [p.host] });
      const image = `${p.host}/wordpress/openverse-api`;
      const source = await c.getManifest(image, 'stable-src');
      const first = await c.aliasTag(image, 'stable-src', 'alias-single');
      assert.deepEqual(first, { digest: source.digest, created: true });
      const res = await fetch(`${registry.url}/v2/wordpress/openverse-api/manifests/alias-single`, { headers: { accept: OCI_MANIFEST } });
      assert.equal(res.headers.get('content-type'), OCI_MANIFEST);
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(source.bytes));
      assert.equal(p.requests.filter((r) => r.method === 'PUT').length, 1);

      p.reset();
      const second = await c.aliasTag(image, 'stable-src', 'alias-single');
      assert.deepEqual(second, { digest: source.digest, created: false });
      assert.equal(p.requests.filter((r) => r.method === 'PUT').length, 0);
      assert.ok(p.requests.every((r) => r.method === 'GET' || r.method === 'HEAD'));
    });

    it('copies a multi-platform image index byte for byte', async () => {
      const pushed = await pushIndex(registry.url, API(), 'multi', ['linux/amd64', 'linux/arm64/v8']);
      const c = direct();
      const result = await c.aliasTag(API(), 'multi', 'multi-alias');
      assert.deepEqual(result, { digest: pushed.digest, created: true });
      const copy = await c.getManifest(API(), 'multi-alias');
      assert.equal(copy.mediaType, OCI_INDEX);
      assert.equal(copy.digest, pushed.digest);
      assert.ok(copy.bytes.equals(pushed.bytes));
      for (const m of pushed.manifests) assert.equal((await c.getManifest(API(), m.digest)).digest, m.digest);
    });

    it('never moves an alias', async () => {
      const c = direct();
      await c.aliasTag(API(), 'both', 'pinned');
      const e = await rejection(c.aliasTag(API(), 'only-api', 'pinned'));
      assert.ok(e instanceof ClientRejected, String(e));
      assert.match(e.message, /already points at sha256:/);
      assert.equal(await c.tagDigest(API(), 'pinned'), await c.tagDigest(API(), 'both'));
    });
  });

  describe('activities', () => {
    const images = () => [
      { key: 'django', repository: API() },
      { key: 'nginx', repository: NGINX() },
    ];
    const activities = () => createRegistryActivities({ registry: direct() });

    it('checkImageTags passes when every image has the tag', async () => {
      await activities().checkImageTags({ images: images(), tag: 'both' });
    });

    it('checkImageTags names the image that lacks the tag', async () => {
      const e = await rejection(activities().checkImageTags({ images: images(), tag: 'only-api' }));
      assert.ok(e instanceof NotFound, String(e));
      assert.equal(e.message, "'only-api' does not appear to be a valid tag for the openverse-api_nginx image.");
    });

    it('checkImageTags names every image that lacks the tag', async () => {
      const e = await rejection(activities().checkImageTags({ images: images(), tag: 'nowhere' }));
      assert.ok(e instanceof NotFound, String(e));
      assert.equal(
        e.message,
        "'nowhere' does not appear to be a valid tag for the openverse-api image. 'nowhere' does not appear to be a valid tag for the openverse-api_nginx image.",
      );
    });

    it('checkImageTags refuses a malformed tag', async () => {
      const e = await rejection(activities().checkImageTags({ images: images(), tag: '../etc' }));
      assert.ok(e instanceof BadInput, String(e));
    });

    it('listImageTags lists a repository', async () => {
      const tags = await activities().listImageTags({ repository: NGINX() });
      assert.ok(tags.includes('both') && tags.includes('stable-src'), tags.join(','));
    });

    it('aliasImageTags aliases every image, idempotently', async () => {
      const a = activities();
      const first = await a.aliasImageTags({ images: images(), fromTag: 'stable-src', toTag: 'stable' });
      assert.deepEqual(
        first.map((r) => [r.repository, r.created]),
        [
          [API(), true],
          [NGINX(), true],
        ],
      );
      const again = await a.aliasImageTags({ images: images(), fromTag: 'stable-src', toTag: 'stable' });
      assert.deepEqual(
        again.map((r) => [r.repository, r.created]),
        [
          [API(), false],
          [NGINX(), false],
        ],
      );
      assert.deepEqual(
        again.map((r) => r.digest),
        first.map((r) => r.digest),
      );
    });

    it('aliasImageTags writes nothing when one alias would move', async () => {
      await pushImage(registry.url, API(), 'taken', { content: 'something else' });
      const e = await rejection(activities().aliasImageTags({ images: images(), fromTag: 'both', toTag: 'taken' }));
      assert.ok(e instanceof ClientRejected, String(e));
      assert.equal(await direct().tagExists(NGINX(), 'taken'), false);
    });
  });

  describe('auth', () => {
    it('Bearer: anonymous first, then a token fetched with basic credentials and cached per scope', async () => {
      const p = await proxy({ mode: 'bearer', users: { alice: { password: PASSWORD, canPush: true } } });
      const c = createRegistryClient({ insecureHosts: [p.host], auth: (h) => (h === p.host ? { username: 'alice', password: PASSWORD } : undefined) });
      const image = `${p.host}/wordpress/openverse-api`;
      assert.equal(await c.tagExists(image, 'both'), true);
      assert.equal(await c.tagExists(image, 'missing'), false);
      await c.getManifest(image, 'both');
      assert.ok((await c.listTags(image)).includes('both'));

      assert.equal(p.tokenRequests.length, 1);
      const [t] = p.tokenRequests;
      assert.equal(t.scope, 'repository:wordpress/openverse-api:pull');
      assert.equal(t.service, 'sandbox-registry');
      assert.equal(t.authorization, `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`);
      assert.equal(p.requests[0].authorization, undefined);
      assert.ok(p.requests.slice(1).every((r) => r.authorization === `Bearer ${p.issued[0]}`));
      assert.equal(p.requests.length, 5); // one anonymous 401, then four calls

      // Pushing asks for its own scope; later reads of another repository reuse the known challenge.
      const alias = await c.aliasTag(image, 'both', 'bearer-alias');
      assert.equal(alias.created, true);
      assert.equal(p.tokenRequests[1].scope, 'repository:wordpress/openverse-api:pull,push');
      p.reset();
      assert.equal(await c.tagExists(`${p.host}/wordpress/openverse-api_nginx`, 'both'), true);
      assert.equal(p.requests.length, 1);
      assert.equal(p.tokenRequests.length, 1);
    });

    it('Bearer: a refused cached token is renewed once', async () => {
      const p = await proxy({ mode: 'bearer', users: { alice: { password: PASSWORD, canPush: true } } });
      const c = createRegistryClient({ insecureHosts: [p.host], auth: () => ({ username: 'alice', password: PASSWORD }) });
      const image = `${p.host}/wordpress/openverse-api`;
      assert.equal(await c.tagExists(image, 'both'), true);
      p.revokeTokens();
      assert.equal(await c.tagExists(image, 'both'), true);
      assert.equal(p.tokenRequests.length, 2);
    });

    it('Bearer: anonymous pulls work without credentials', async () => {
      const p = await proxy({ mode: 'bearer' });
      const c = createRegistryClient({ insecureHosts: [p.host] });
      assert.equal(await c.tagExists(`${p.host}/wordpress/openverse-api`, 'both'), true);
      assert.equal(p.tokenRequests[0].authorization, undefined);
    });

    it('Bearer: bad credentials are Unauthorized, naming the registry and never the secret', async () => {
      const p = await proxy({ mode: 'bearer', users: { alice: { password: PASSWORD, canPush: true } } });
      const c = createRegistryClient({ insecureHosts: [p.host], auth: () => ({ username: 'alice', password: 'wrong-password-123' }) });
      const e = await rejection(c.tagExists(`${p.host}/wordpress/openverse-api`, 'both'));
      assert.ok(e instanceof Unauthorized, String(e));
      assert.ok(e.message.includes(p.host), e.message);
      assert.match(e.message, /credentials/);
      assert.ok(!e.message.includes('wrong-password-123'), e.message);
    });

    it('Bearer: a token without push is Unauthorized on alias, and no token shows in the message', async () => {
      const p = await proxy({ mode: 'bearer', users: { bob: { password: PASSWORD, canPush: false } } });
      const c = createRegistryClient({
        insecureHosts: [p.host],
        auth: () => ({ username: 'bob', password: PASSWORD }),
        credentialHint: (h) => `SLIPWAY_REGISTRY_USER and SLIPWAY_REGISTRY_PASSWORD for ${h}`,
      });
      const e = await rejection(c.aliasTag(`${p.host}/wordpress/openverse-api`, 'both', 'bob-alias'));
      assert.ok(e instanceof Unauthorized, String(e));
      assert.match(e.message, /SLIPWAY_REGISTRY_USER/);
      assert.match(e.message, /pull and push wordpress\/openverse-api/);
      assert.ok(p.issued.length > 0);
      for (const secret of [PASSWORD, ...p.issued]) assert.ok(!e.message.includes(secret), e.message);
      assert.equal(await direct().tagExists(API(), 'bob-alias'), false);
    });

    it('Basic: credentials after the first challenge, then straight away', async () => {
      const p = await proxy({ mode: 'basic', users: { alice: { password: PASSWORD, canPush: true } } });
      const c = createRegistryClient({ insecureHosts: [p.host], auth: () => ({ username: 'alice', password: PASSWORD }) });
      const image = `${p.host}/wordpress/openverse-api`;
      assert.equal(await c.tagExists(image, 'both'), true);
      assert.equal((await c.aliasTag(image, 'both', 'basic-alias')).created, true);
      const basic = `Basic ${Buffer.from(`alice:${PASSWORD}`).toString('base64')}`;
      assert.equal(p.requests[0].authorization, undefined);
      assert.ok(p.requests.slice(1).every((r) => r.authorization === basic));
      assert.equal(p.tokenRequests.length, 0);
    });

    it('Basic: missing or wrong credentials are Unauthorized', async () => {
      const p = await proxy({ mode: 'basic', users: { alice: { password: PASSWORD, canPush: true } } });
      const image = `${p.host}/wordpress/openverse-api`;
      const none = await rejection(createRegistryClient({ insecureHosts: [p.host] }).tagExists(image, 'both'));
      assert.ok(none instanceof Unauthorized, String(none));
      assert.match(none.message, /none are configured/);
      const wrong = await rejection(createRegistryClient({ insecureHosts: [p.host], auth: () => ({ username: 'alice', password: 'nope-nope-nope' }) }).tagExists(image, 'both'));
      assert.ok(wrong instanceof Unauthorized, String(wrong));
      assert.ok(!wrong.message.includes('nope-nope-nope'), wrong.message);
    });
  });

  describe('faults', () => {
    it('5xx and 429 are retryable RegistryUnavailable', async () => {
      const p = await proxy({ mode: 'bearer', users: { alice: { password: PASSWORD, canPush: true } } });
      const c = createRegistryClient({ insecureHosts: [p.host], auth: () => ({ username: 'alice', password: PASSWORD }) });
      const image = `${p.host}/wordpress/openverse-api`;
      await c.tagExists(image, 'both');
      for (const status of [500, 503, 429]) {
        p.failNext(status);
        const e = await rejection(c.getManifest(image, 'both'));
        assert.equal(e.name, 'RegistryUnavailable');
        assert.ok(isRetryable(e));
        assert.ok(e.message.includes(String(status)), e.message);
        for (const secret of [PASSWORD, ...p.issued]) assert.ok(!e.message.includes(secret), e.message);
      }
      assert.equal(await c.tagExists(image, 'both'), true);
    });

    it('a closed port and a silent server are retryable RegistryUnavailable', async () => {
      const closed = `127.0.0.1:${await freePort()}`;
      const e = await rejection(createRegistryClient({ insecureHosts: [closed] }).tagExists(`${closed}/a/b`, 'x'));
      assert.equal(e.name, 'RegistryUnavailable');
      assert.ok(isRetryable(e));

      const p = await proxy({ mode: 'none' });
      p.hangNext();
      const t = await rejection(createRegistryClient({ insecureHosts: [p.host], timeoutMs: 200 }).tagExists(`${p.host}/wordpress/openverse-api`, 'both'));
      assert.equal(t.name, 'RegistryUnavailable');
      assert.match(t.message, /no answer within 200 ms/);
    });
  });
});
