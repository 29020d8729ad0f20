/**
 * The sandbox sites and the version activities: endpoints report what the ECS sandbox runs,
 * follow a rollout made through the real @aws-sdk/client-ecs, and misbehave on request
 * (stale, slow, error pages, 503) the way readVersion/awaitVersion must cope with.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { DescribeTaskDefinitionCommand, ECSClient, RegisterTaskDefinitionCommand, type RegisterTaskDefinitionRequest, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { MockActivityEnvironment } from '@temporalio/testing';
import { type AwaitedVersion, type AwaitVersionProgress, createVersionActivities, forbiddenAddress, VersionEndpointUnavailable, VersionMismatch } from '../activities/version';
import { BadInput } from '../domain/errors';
import { type EcsSandbox, startEcsSandbox } from '../sandbox/ecs';
import { seedOpenverse } from '../sandbox/openverse';
import { openverseSites, type SandboxSite, siteUrls, startSite } from '../sandbox/site';

const TIMING = { taskStartMs: 60, healthyMs: 60, drainMs: 30 };
const INITIAL = '1111111111111111111111111111111111111111';
const NEXT = '2222222222222222222222222222222222222222';
const BROKEN = '3333333333333333333333333333333333333333';

/** Polls until `fn` returns a truthy value. */
async function until<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 10_000, everyMs = 20): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof Error, `rejected with a non-Error: ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

async function json(url: string): Promise<unknown> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url} answered ${res.status}`);
  return res.json();
}

describe('sandbox sites and version activities', () => {
  let ecs: EcsSandbox;
  let site: SandboxSite;
  let client: ECSClient;
  const versions = createVersionActivities({ timeoutMs: 1000 });

  before(async () => {
    ecs = await startEcsSandbox({ timing: TIMING, tickMs: 10 });
    await seedOpenverse(ecs, INITIAL);
    site = await startSite({ ecs, sites: [...openverseSites] });
    client = new ECSClient({ endpoint: ecs.url, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  });
  after(async () => {
    client?.destroy();
    await site?.close();
    await ecs?.close();
  });
  beforeEach(() => site.clearOverrides());

  /** Registers a copy of the service's current task definition with every image at `tag` and points the service at it. */
  async function rollOut(cluster: string, service: string, tag: string): Promise<string> {
    const running = ecs.service(cluster, service);
    const described = await client.send(new DescribeTaskDefinitionCommand({ taskDefinition: running.taskDefinition }));
    const current = described.taskDefinition!;
    const request: RegisterTaskDefinitionRequest = {
      family: current.family!,
      taskRoleArn: current.taskRoleArn,
      executionRoleArn: current.executionRoleArn,
      networkMode: current.networkMode,
      requiresCompatibilities: current.requiresCompatibilities,
      cpu: current.cpu,
      memory: current.memory,
      volumes: current.volumes,
      containerDefinitions: current.containerDefinitions!.map((c) => ({ ...c, image: c.image!.replace(/:[^:/@]+$/, `:${tag}`) })),
    };
    const registered = await client.send(new RegisterTaskDefinitionCommand(request));
    const arn = registered.taskDefinition!.taskDefinitionArn!;
    await client.send(new UpdateServiceCommand({ cluster, service, taskDefinition: arn }));
    return arn;
  }

  it('reports the seeded tag on every version endpoint, with the environment on the API', async () => {
    const urls = siteUrls(site);
    assert.deepEqual(Object.keys(urls).sort(), ['api', 'frontend']);
    assert.equal(urls.api.staging.versionEndpoint, `${site.url}/api-staging/version`);
    assert.equal(urls.frontend.production.versionEndpoint, `${site.url}/frontend-production/version.json`);
    assert.equal(urls.frontend.staging.url, `${site.url}/frontend-staging`);

    assert.deepEqual(await json(`${site.url}/api-staging/version`), { release: INITIAL, environment: 'staging' });
    assert.deepEqual(await json(`${site.url}/api-production/version`), { release: INITIAL, environment: 'production' });
    assert.deepEqual(await json(`${site.url}/frontend-staging/version`), { release: INITIAL });
    assert.deepEqual(await json(`${site.url}/frontend-production/version.json`), { release: INITIAL });

    assert.deepEqual(await versions.readVersion({ url: urls.api.production.versionEndpoint }), {
      release: INITIAL,
      environment: 'production',
      url: urls.api.production.versionEndpoint,
    });
    assert.deepEqual(await versions.readVersion({ url: urls.frontend.staging.versionEndpoint }), {
      release: INITIAL,
      url: urls.frontend.staging.versionEndpoint,
    });
  });

  it('serves health endpoints and a frontend home page showing the release', async () => {
    assert.equal((await fetch(`${site.url}/api-staging/healthcheck/`)).status, 200);
    assert.equal((await fetch(`${site.url}/frontend-production/healthcheck`)).status, 200);
    const redirect = await fetch(`${site.url}/api-staging/healthcheck`, { redirect: 'manual' });
    assert.equal(redirect.status, 301);
    assert.equal(redirect.headers.get('location'), '/api-staging/healthcheck/');
    assert.equal((await fetch(`${site.url}/api-staging/version.json`)).status, 404, 'the API has no /version.json');

    const home = await fetch(`${siteUrls(site).frontend.staging.url}/`);
    assert.equal(home.status, 200);
    const html = await home.text();
    assert.match(html, /<title>Openverse \(staging\)<\/title>/);
    assert.match(html, /<input[^>]*name="q"/);
    assert.ok(html.includes(INITIAL), 'the home page shows the release');
  });

  it('reports the new tag once an UpdateService rollout to a new revision completes', async () => {
    const arn = await rollOut('staging-default', 'staging-api', NEXT);
    await until('the rollout to complete', () => {
      const s = ecs.service('staging-default', 'staging-api');
      return s.steady && s.taskDefinition === arn && s.deployments.length === 1;
    });
    const url = siteUrls(site).api.staging.versionEndpoint;
    assert.deepEqual(await versions.readVersion({ url }), { release: NEXT, environment: 'staging', url });
    assert.deepEqual(await json(`${site.url}/api-production/version`), { release: INITIAL, environment: 'production' }, 'production untouched');
    assert.equal(site.release('api-staging'), NEXT);
  });

  it("with serve: 'completed', a failing rollout never shows and a good one shows once complete", async () => {
    const completed = await startSite({ ecs, sites: [...openverseSites], serve: 'completed' });
    try {
      const primary = await startSite({ ecs, sites: [...openverseSites] });
      const at = (s: SandboxSite) => `${s.url}/frontend-staging/version`;
      try {
        ecs.failImage(`:${BROKEN}`);
        const failing = await rollOut('staging-default', 'staging-nuxt', BROKEN);
        assert.deepEqual(await json(at(primary)), { release: BROKEN }, 'primary mode reports the PRIMARY at once');
        const seen = new Set<unknown>();
        await until('the rollback to complete', async () => {
          seen.add(((await json(at(completed))) as { release: unknown }).release);
          const s = ecs.service('staging-default', 'staging-nuxt');
          return s.steady && s.taskDefinition !== failing;
        });
        assert.deepEqual([...seen], [INITIAL], 'completed mode never reported the failing release');
      } finally {
        ecs.clearFailures();
        await primary.close();
      }
      const good = await rollOut('staging-default', 'staging-nuxt', NEXT);
      await until('the rollout to complete', () => {
        const s = ecs.service('staging-default', 'staging-nuxt');
        return s.steady && s.taskDefinition === good;
      });
      assert.deepEqual(await json(at(completed)), { release: NEXT });
    } finally {
      await completed.close();
    }
  });

  it('falls back between /version and /version.json and says which answered', async () => {
    const api = await versions.readVersion({ url: `${site.url}/api-production/version.json` });
    assert.equal(api.url, `${site.url}/api-production/version`);
    assert.equal(api.release, INITIAL);

    const legacy = await startSite({
      ecs,
      sites: [
        { prefix: 'legacy', cluster: 'production-default', service: 'production-nuxt', container: 'nuxt', env: 'production', style: 'frontend', versionPaths: ['version.json'] },
      ],
    });
    try {
      const read = await versions.readVersion({ url: `${legacy.url}/legacy/version?x=1` });
      assert.deepEqual(read, { release: INITIAL, url: `${legacy.url}/legacy/version.json?x=1` });
      const missing = await rejection(versions.readVersion({ url: `${legacy.url}/nowhere/version` }));
      assert.equal(missing.name, 'VersionEndpointUnavailable');
      assert.match(missing.message, /404.*\/nowhere\/version\.json/);
    } finally {
      await legacy.close();
    }
  });

  it('awaitVersion fails with VersionMismatch while a stale release is served', async () => {
    const url = siteUrls(site).api.production.versionEndpoint;
    site.override('api-production', { release: 'stale' });
    const err = await rejection(versions.awaitVersion({ url, expected: INITIAL, budgetSeconds: 1, everyMs: 100 }));
    assert.ok(err instanceof VersionMismatch);
    assert.equal(err.name, 'VersionMismatch');
    assert.equal(err.message, `not serving the new version: ${url} still reports 'stale' after 1 s (expected '${INITIAL}')`);
    assert.equal(err.last, 'stale');
  });

  it('awaitVersion reports the last error when the endpoint never answered', async () => {
    const url = siteUrls(site).frontend.production.versionEndpoint;
    site.override('frontend-production', { status: 503 });
    const err = await rejection(versions.awaitVersion({ url, expected: INITIAL, budgetSeconds: 1, everyMs: 100 }));
    assert.equal(err.name, 'VersionMismatch');
    assert.ok(err.message.startsWith(`not serving the new version: ${url} did not report a release within 1 s (expected '${INITIAL}'); last error:`), err.message);
    assert.match(err.message, /503/);
  });

  it('a slow endpoint is a retryable error naming the URL', async () => {
    const quick = createVersionActivities({ timeoutMs: 150 });
    const url = siteUrls(site).api.staging.versionEndpoint;
    site.override('api-staging', { delayMs: 3000 });
    const err = await rejection(quick.readVersion({ url }));
    assert.ok(err instanceof VersionEndpointUnavailable);
    assert.equal(err.name, 'VersionEndpointUnavailable');
    assert.equal(err.message, `version endpoint ${url} did not answer within 0.15 s`);
  });

  it('a refused connection is a retryable error naming the URL', async () => {
    const server = http.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((r) => server.close(() => r()));
    const url = `http://127.0.0.1:${port}/version`;
    const err = await rejection(versions.readVersion({ url }));
    assert.equal(err.name, 'VersionEndpointUnavailable');
    assert.equal(err.message, `version endpoint ${url} refused the connection`);
  });

  it('a non-JSON answer is retryable and quoted with its content type', async () => {
    const url = siteUrls(site).frontend.staging.versionEndpoint;
    const page = `<!doctype html>\n<html><head><title>Maintenance</title></head><body>${'We will be back soon. '.repeat(10)}</body></html>`;
    site.override('frontend-staging', { body: page });
    const err = await rejection(versions.readVersion({ url }));
    assert.equal(err.name, 'VersionEndpointUnavailable');
    assert.ok(err.message.startsWith(`version endpoint ${url} answered 200 with text/html; charset=utf-8 that is not JSON: `), err.message);
    assert.ok(err.message.includes('"<!doctype html> <html><head><title>Maintenance</title></head><body>We will be ba…"'), err.message);

    site.override('frontend-staging', { body: '{"status": "ok"}' });
    const noRelease = await rejection(versions.readVersion({ url }));
    assert.equal(noRelease.name, 'VersionEndpointUnavailable');
    assert.match(noRelease.message, /application\/json JSON without a string "release": "\{\\"status\\": \\"ok\\"\}"$/);
  });

  it('a 503 is retryable', async () => {
    const url = siteUrls(site).api.production.versionEndpoint;
    site.override('api-production', { status: 503 });
    const err = await rejection(versions.readVersion({ url }));
    assert.ok(err instanceof VersionEndpointUnavailable);
    assert.match(err.message, new RegExp(`^version endpoint ${url.replace(/[.?]/g, '\\$&')} answered 503 Service Unavailable \\(text/html; charset=utf-8\\): "<!doctype html>`));
  });

  it('awaitVersion succeeds when the site switches mid-wait, heartbeating the last seen release', async () => {
    const url = siteUrls(site).frontend.production.versionEndpoint;
    site.override('frontend-production', { release: 'old' });
    const env = new MockActivityEnvironment();
    const beats: AwaitVersionProgress[] = [];
    env.on('heartbeat', (d: AwaitVersionProgress) => beats.push(d));
    const requestsBefore = site.requests.length;

    const waiting: Promise<AwaitedVersion> = env.run(versions.awaitVersion, { url, expected: INITIAL, budgetSeconds: 3, everyMs: 50 });
    await until('a stale answer', () => site.requests.slice(requestsBefore).some((r) => r.prefix === 'frontend-production' && r.status === 200));
    await until('a heartbeat with the stale release', () => beats.some((b) => b.lastRelease === 'old'));
    site.clearOverrides();

    const done = await waiting;
    assert.equal(done.release, INITIAL);
    assert.equal(done.url, url);
    assert.ok(done.attempts >= 2, `attempts ${done.attempts}`);
    assert.equal(beats.at(-1)?.lastRelease, INITIAL);
  });
});

/** A local HTTP server that answers from `routes` and counts every request it receives. */
async function countingServer(routes: (path: string, self: string) => { status: number; headers?: Record<string, string>; body?: string | Buffer }) {
  const server = http.createServer((req, res) => {
    counter.hits++;
    const a = routes(req.url ?? '/', counter.origin);
    res.writeHead(a.status, a.headers ?? {});
    res.end(a.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const counter = {
    hits: 0,
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
  return counter;
}

describe('the version endpoint is not a way into the network', () => {
  let site: Awaited<ReturnType<typeof countingServer>>;
  let other: Awaited<ReturnType<typeof countingServer>>;
  let versions: ReturnType<typeof createVersionActivities>;
  const release = JSON.stringify({ release: NEXT });

  before(async () => {
    other = await countingServer(() => ({ status: 200, headers: { 'content-type': 'application/json' }, body: release }));
    site = await countingServer((path) => {
      const to = (location: string) => ({ status: 302, headers: { location } });
      switch (path) {
        case '/version':
          return { status: 200, headers: { 'content-type': 'application/json' }, body: release };
        case '/moved/version':
          return to('/version');
        case '/elsewhere/version':
          return to(`${other.origin}/version`);
        case '/metadata/version':
          return to('http://169.254.169.254/latest/meta-data/iam/security-credentials/');
        case '/metadata-v6/version':
          return to('http://[fd00:ec2::254]/latest/meta-data/');
        case '/mapped/version':
          return to('http://[::ffff:169.254.169.254]/latest/meta-data/');
        case '/huge/version':
          return { status: 200, headers: { 'content-type': 'text/html' }, body: Buffer.alloc(8 * 1024 * 1024, 'x') };
        default:
          return { status: 404 };
      }
    });
    versions = createVersionActivities({ timeoutMs: 1000, origins: () => new Set([site.origin]) });
  });
  after(async () => {
    await site?.close();
    await other?.close();
  });

  it('a redirect within the configured origin is followed', async () => {
    const r = await versions.readVersion({ url: `${site.origin}/moved/version` });
    assert.equal(r.release, NEXT);
  });

  it('a redirect to another host is refused, and nothing is fetched there', async () => {
    const err = await rejection(versions.readVersion({ url: `${site.origin}/elsewhere/version` }));
    assert.ok(err instanceof BadInput, `${err.name}: ${err.message}`);
    assert.match(err.message, /redirected to "http:\/\/127\.0\.0\.1:\d+", another host: a version endpoint is read only at its configured origin/);
    // awaitVersion does not keep trying until its budget: the refusal is final.
    const started = Date.now();
    const again = await rejection(new MockActivityEnvironment().run(versions.awaitVersion, { url: `${site.origin}/elsewhere/version`, expected: NEXT, budgetSeconds: 30 }));
    assert.ok(again instanceof BadInput);
    assert.ok(Date.now() - started < 10_000);
    assert.equal(other.hits, 0, 'the other host was never asked');
  });

  for (const [name, path] of [
    ['169.254.169.254', '/metadata/version'],
    ['fd00:ec2::254', '/metadata-v6/version'],
    ['::ffff:169.254.169.254', '/mapped/version'],
  ]) {
    it(`a redirect to the instance-metadata address ${name} is refused`, async () => {
      const err = await rejection(versions.readVersion({ url: `${site.origin}${path}` }));
      assert.ok(err instanceof BadInput, `${err.name}: ${err.message}`);
      assert.match(err.message, /redirected to .*another host/);
    });
  }

  it('a link-local address is refused even where it is the configured one', async () => {
    const anywhere = createVersionActivities({ timeoutMs: 1000 });
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/version', 'http://[fe80::1]/version', 'http://100.100.100.200/version']) {
      const err = await rejection(anywhere.readVersion({ url }));
      assert.ok(err instanceof BadInput, `${url}: ${err.name}: ${err.message}`);
      assert.match(err.message, /a link-local or instance-metadata address: Slipway never reads those/);
    }
    // Loopback (the sandbox site) stays readable where it is configured.
    assert.equal((await anywhere.readVersion({ url: `${site.origin}/version` })).release, NEXT);
  });

  it('only the configured origins are read', async () => {
    const err = await rejection(versions.readVersion({ url: `${other.origin}/version` }));
    assert.ok(err instanceof BadInput);
    assert.match(err.message, /is not at a configured origin/);
    const scheme = await rejection(versions.readVersion({ url: 'file:///etc/passwd' }));
    assert.ok(scheme instanceof BadInput);
    assert.match(scheme.message, /only http and https are read/);
    assert.equal(other.hits, 0);
  });

  it('what is quoted of a body is bounded, however large the body', async () => {
    const err = await rejection(versions.readVersion({ url: `${site.origin}/huge/version` }));
    assert.ok(err instanceof VersionEndpointUnavailable);
    assert.match(err.message, /that is not JSON: "x{80}…"$/);
    assert.ok(err.message.length < 300, `${err.message.length} characters`);
  });

  it('forbidden addresses', () => {
    const table: [string, boolean][] = [
      ['169.254.169.254', true],
      ['169.254.0.1', true],
      ['100.100.100.200', true],
      ['0.0.0.0', true],
      ['fd00:ec2::254', true],
      ['fe80::1', true],
      ['::ffff:169.254.169.254', true],
      ['::', true],
      ['127.0.0.1', false],
      ['::1', false],
      ['10.0.0.5', false],
      ['93.184.216.34', false],
      ['fd00::1', false],
    ];
    for (const [address, forbidden] of table) assert.equal(forbiddenAddress(address), forbidden, address);
  });
});
