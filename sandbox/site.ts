/**
 * The sandbox's public web sites: one HTTP server on 127.0.0.1 serving several virtual
 * sites by path prefix (`/api-staging/version`, `/frontend-production/version.json`, …).
 * Version endpoints report what the ECS sandbox really runs: the image tag of the app's
 * main container in the task definition of the service's PRIMARY deployment — or, while a
 * BLUE_GREEN, LINEAR or CANARY deployment is in progress, of the revision the listener sends
 * traffic to: the production listener (`url`) stays on the old revision until production
 * traffic is fully shifted; the test listener (`testUrl`, its own port, the same paths)
 * moves to the new revision once test traffic is shifted.
 *
 *   const site = await startSite({ ecs, sites: openverseSites });
 *   await fetch(`${site.url}/api-staging/version`); // {"release": "<tag>", "environment": "staging"}
 *   site.override('api-staging', { release: 'stale' }); // a CDN serving an old answer
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EcsSandbox } from './ecs';

/** `api`: `/version` with `environment`, health at `/healthcheck/`. `frontend`: `/version` and `/version.json`, health at `/healthcheck`, an HTML home page. */
export type SiteStyle = 'api' | 'frontend';

/** The two spellings of a version endpoint. */
export type VersionPath = 'version' | 'version.json';

export interface SiteSpec {
  /** First path segment the site answers under, e.g. `api-staging`. */
  prefix: string;
  cluster: string;
  service: string;
  /** The container whose image tag is the release (`django`, `nuxt`). */
  container: string;
  env: string;
  style: SiteStyle;
  /** App name for `siteUrls`. Default: the prefix minus a trailing `-<env>`. */
  app?: string;
  /** Version endpoint spellings served. Default: api `['version']`, frontend both. */
  versionPaths?: VersionPath[];
  /** Page title of a frontend home page. Default `Openverse`. */
  title?: string;
}

/** How a site misbehaves until cleared; applies to every path of the site. */
export interface SiteOverride {
  /** Report this release regardless of ECS (a stale CDN). */
  release?: string;
  /** Answer with this status (with a small HTML error page unless `body` is given). */
  status?: number;
  /** Answer with this body (sent as text/html unless it parses as JSON). */
  body?: string;
  /** Hold each answer this long. */
  delayMs?: number;
  /** The override spares the version endpoint: the pages break, the version still answers. */
  pagesOnly?: boolean;
  /** The override answers this many requests, then clears itself (a passing fault). */
  times?: number;
  /** Only through this listener (default: both). */
  listener?: 'production' | 'test';
}

/** One received request. */
export interface SiteRequest {
  method: string;
  path: string;
  /** The site it was addressed to, if any. */
  prefix?: string;
  /** Epoch milliseconds when it arrived. */
  at: number;
  /** Status answered (undefined while the answer is pending or if the client went away first). */
  status?: number;
  /** Set for requests to the test listener. */
  listener?: 'test';
}

/** Which listener of a blue/green load balancer a request came through. */
type Listener = 'production' | 'test';

export interface StartSiteOptions {
  ecs: EcsSandbox;
  sites: SiteSpec[];
  /**
   * Which deployment's release a site reports. `primary` (default): the PRIMARY deployment's,
   * from the moment UpdateService is applied. `completed`: the newest deployment whose rollout
   * COMPLETED (the PRIMARY's once its rollout completes), so a failing rollout never shows.
   */
  serve?: 'primary' | 'completed';
  /** Default 0 (any free port). */
  port?: number;
}

export interface SandboxSite {
  /** `http://127.0.0.1:<port>` (no trailing slash): the production listener. */
  readonly url: string;
  readonly port: number;
  /** The test listener (same paths): what a blue/green deployment puts on test traffic. */
  readonly testUrl: string;
  readonly sites: readonly SiteSpec[];
  /** Every received request, in order. */
  readonly requests: SiteRequest[];
  /** Makes one site misbehave (replacing its previous override). */
  override(prefix: string, override: SiteOverride): void;
  clearOverrides(prefix?: string): void;
  /** The release a site's version endpoint would report now, ignoring overrides. */
  release(prefix: string): string;
  close(): Promise<void>;
}

/** Openverse's four sites, over the services `seedOpenverse` creates. */
export const openverseSites: readonly SiteSpec[] = [
  { prefix: 'api-staging', app: 'api', cluster: 'staging-default', service: 'staging-api', container: 'django', env: 'staging', style: 'api' },
  { prefix: 'api-production', app: 'api', cluster: 'production-default', service: 'production-api', container: 'django', env: 'production', style: 'api' },
  { prefix: 'frontend-staging', app: 'frontend', cluster: 'staging-default', service: 'staging-nuxt', container: 'nuxt', env: 'staging', style: 'frontend' },
  { prefix: 'frontend-production', app: 'frontend', cluster: 'production-default', service: 'production-nuxt', container: 'nuxt', env: 'production', style: 'frontend' },
];

/** Per app and environment, the `url` and `versionEndpoint` to put in a config. */
export function siteUrls(site: Pick<SandboxSite, 'url' | 'sites'>): Record<string, Record<string, { url: string; versionEndpoint: string }>> {
  const out: Record<string, Record<string, { url: string; versionEndpoint: string }>> = {};
  for (const spec of site.sites) {
    const base = `${site.url}/${spec.prefix}`;
    const paths = versionPaths(spec);
    // Frontends are configured with the older `/version.json` spelling, as Openverse's is.
    const path = spec.style === 'frontend' && paths.includes('version.json') ? 'version.json' : paths[0];
    (out[appOf(spec)] ??= {})[spec.env] = { url: base, versionEndpoint: `${base}/${path}` };
  }
  return out;
}

/** Starts the sites on 127.0.0.1. */
export async function startSite(opts: StartSiteOptions): Promise<SandboxSite> {
  const { ecs } = opts;
  const specs = new Map<string, SiteSpec>();
  for (const spec of opts.sites) {
    if (!/^[A-Za-z0-9._~-]+$/.test(spec.prefix)) throw new Error(`site prefix must be one path segment, got '${spec.prefix}'`);
    if (specs.has(spec.prefix)) throw new Error(`two sites with prefix '${spec.prefix}'`);
    specs.set(spec.prefix, { ...spec });
  }
  const overrides = new Map<string, SiteOverride>();
  const requests: SiteRequest[] = [];
  const pending = new Set<NodeJS.Timeout>();

  function site(prefix: string): SiteSpec {
    const spec = specs.get(prefix);
    if (!spec) throw new Error(`no site '${prefix}' (have ${[...specs.keys()].join(', ')})`);
    return spec;
  }

  /** What the service runs behind `listener`, or why it cannot answer. */
  function running(spec: SiteSpec, listener: Listener = 'production'): { release: string } | { down: string } {
    let snapshot;
    try {
      snapshot = ecs.service(spec.cluster, spec.service);
    } catch {
      return { down: `no service ${spec.service} in cluster ${spec.cluster}` };
    }
    if (!snapshot.taskDefinition) return { down: `service ${spec.service} has no PRIMARY deployment` };
    if (snapshot.runningCount === 0) return { down: `service ${spec.service} has no running tasks` };
    const completed = opts.serve === 'completed' ? snapshot.deployments.find((d) => d.rolloutState === 'COMPLETED') : undefined;
    let arn = completed?.taskDefinition ?? snapshot.taskDefinition;
    // A staged deployment in progress: each listener sends traffic where ECS's weights say.
    const sd = snapshot.serviceDeployments.find((d) => d.arn === snapshot.currentServiceDeployment);
    if (sd?.lifecycleStage && (sd.status === 'PENDING' || sd.status === 'IN_PROGRESS')) {
      const onNew = (listener === 'test' ? sd.testTraffic : sd.productionTraffic) >= 100;
      arn = onNew ? sd.taskDefinition : (sd.sourceTaskDefinitions[0] ?? arn);
    }
    const td = ecs.taskDefinitions(familyOf(arn)).find((t) => t.arn === arn);
    const image = td?.images[spec.container];
    if (!image) return { down: `task definition ${arn} has no container ${spec.container}` };
    return { release: imageTag(image) };
  }

  function answer(req: http.IncomingMessage, res: http.ServerResponse, entry: SiteRequest, listener: Listener): void {
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    const [, prefix = '', ...rest] = path.split('/');
    const spec = specs.get(prefix);
    if (!spec) return send(res, entry, 404, 'text/plain', `no site at /${prefix}\n`);
    entry.prefix = prefix;
    const sub = rest.join('/');
    const set = overrides.get(prefix);
    let over = set && (set.listener === undefined || set.listener === listener) ? set : {};
    if (over.pagesOnly && versionPaths(spec).some((p) => sub === p)) over = {};
    if (over.times !== undefined && (over.status !== undefined || over.body !== undefined)) {
      if (--over.times <= 0) overrides.delete(prefix);
    }

    if (over.status !== undefined || over.body !== undefined) {
      const status = over.status ?? 200;
      const body = over.body ?? errorPage(status);
      return send(res, entry, status, isJson(body) ? 'application/json' : 'text/html; charset=utf-8', body);
    }
    const state = running(spec, listener);
    if ('down' in state) return send(res, entry, 503, 'text/html; charset=utf-8', errorPage(503, state.down));
    const release = over.release ?? state.release;

    if (versionPaths(spec).some((p) => sub === p)) {
      const body = spec.style === 'api' ? { release, environment: spec.env } : { release };
      return send(res, entry, 200, 'application/json', JSON.stringify(body));
    }
    if (spec.style === 'api') {
      if (sub === 'healthcheck/') return send(res, entry, 200, 'text/plain', 'OK');
      // Django's APPEND_SLASH.
      if (sub === 'healthcheck') return send(res, entry, 301, 'text/plain', '', { location: `/${prefix}/healthcheck/` });
    } else {
      if (sub === 'healthcheck') return send(res, entry, 200, 'text/plain', 'OK');
      if (sub === '') return send(res, entry, 200, 'text/html; charset=utf-8', homePage(spec, release));
    }
    send(res, entry, 404, 'text/html; charset=utf-8', errorPage(404));
  }

  const serve = (listener: Listener) => (req: http.IncomingMessage, res: http.ServerResponse) => {
    const entry: SiteRequest = { method: req.method ?? 'GET', path: req.url ?? '/', at: Date.now(), ...(listener === 'test' && { listener }) };
    requests.push(entry);
    req.resume();
    const path = new URL(req.url ?? '/', 'http://site').pathname;
    const delay = overrides.get(path.split('/')[1] ?? '')?.delayMs ?? 0;
    const go = () => {
      try {
        answer(req, res, entry, listener);
      } catch (err) {
        send(res, entry, 500, 'text/plain', err instanceof Error ? err.message : String(err));
      }
    };
    if (delay <= 0) return go();
    const timer = setTimeout(() => {
      pending.delete(timer);
      go();
    }, delay);
    timer.unref();
    pending.add(timer);
  };
  const server = http.createServer(serve('production'));
  const testServer = http.createServer(serve('test'));

  const listen = (srv: http.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(port, '127.0.0.1', () => {
        srv.off('error', reject);
        resolve((srv.address() as AddressInfo).port);
      });
    });
  const port = await listen(server, opts.port ?? 0);
  const testPort = await listen(testServer, 0);

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    testUrl: `http://127.0.0.1:${testPort}`,
    sites: [...specs.values()],
    requests,
    override(prefix, override) {
      site(prefix);
      overrides.set(prefix, { ...override });
    },
    clearOverrides(prefix) {
      if (prefix === undefined) overrides.clear();
      else overrides.delete(prefix);
    },
    release(prefix) {
      const state = running(site(prefix));
      if ('down' in state) throw new Error(state.down);
      return state.release;
    },
    async close() {
      for (const t of pending) clearTimeout(t);
      pending.clear();
      await Promise.all(
        [server, testServer].map(
          (srv) =>
            new Promise<void>((resolve) => {
              srv.close(() => resolve());
              srv.closeAllConnections();
            }),
        ),
      );
    },
  };
}

function appOf(spec: SiteSpec): string {
  return spec.app ?? (spec.prefix.endsWith(`-${spec.env}`) ? spec.prefix.slice(0, -spec.env.length - 1) : spec.prefix);
}

function versionPaths(spec: SiteSpec): VersionPath[] {
  if (spec.versionPaths?.length) return spec.versionPaths;
  return spec.style === 'api' ? ['version'] : ['version', 'version.json'];
}

/** `arn:…:task-definition/<family>:<revision>` → family. */
function familyOf(arn: string): string | undefined {
  return /:task-definition\/([^:]+):\d+$/.exec(arn)?.[1];
}

/** The tag of an image reference (`repo:tag`, `host:port/repo:tag`, `repo@sha256:…` → the digest). */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  if (at >= 0) return image.slice(at + 1);
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/') ? image.slice(colon + 1) : 'latest';
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function send(res: http.ServerResponse, entry: SiteRequest, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  entry.status = status;
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}

function errorPage(status: number, detail?: string): string {
  const text = http.STATUS_CODES[status] ?? 'Error';
  return `<!doctype html>\n<html><head><title>${status} ${text}</title></head>` + `<body><h1>${status} ${text}</h1>${detail ? `<p>${escapeHtml(detail)}</p>` : ''}</body></html>\n`;
}

function homePage(spec: SiteSpec, release: string): string {
  const title = `${spec.title ?? 'Openverse'} (${spec.env})`;
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
  <header><h1>${escapeHtml(spec.title ?? 'Openverse')}</h1></header>
  <main>
    <form role="search" action="search" method="get">
      <label for="q">Search for content</label>
      <input id="q" name="q" type="search" placeholder="Search for content">
      <button type="submit">Search</button>
    </form>
  </main>
  <footer><p data-testid="release">Release <code>${escapeHtml(release)}</code> (${escapeHtml(spec.env)})</p></footer>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
