/**
 * The container setup, checked without a Docker engine:
 * docker-compose.yml is valid for docker-compose and starts in the right order, the build
 * context holds what the Dockerfile copies, the Dockerfile's compile step emits a worker
 * that runs on production dependencies only, the compose search attributes equal the
 * ones the workflows write. (The example GitHub workflows: test/action.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { freePort, startDevServer, type DevServer } from '../sandbox/temporal';
import { REPO_ROOT, toolPath } from '../sandbox/tools';
import { SEARCH_ATTRIBUTE_DECLARATIONS } from '../contract';

const read = (p: string) => readFileSync(join(REPO_ROOT, p), 'utf8');

// ---------------------------------------------------------------- Dockerfile and .dockerignore

interface Dockerfile {
  /** Sources of COPY instructions that read the build context (not --from another stage). */
  contextCopies: string[];
  /** ENV of the final stage. */
  env: Record<string, string>;
  expose: string[];
  cmd: string[];
}

function parseDockerfile(text: string): Dockerfile {
  const lines = text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const out: Dockerfile = { contextCopies: [], env: {}, expose: [], cmd: [] };
  for (const line of lines) {
    const [instr, ...rest] = line.split(/\s+/);
    switch (instr.toUpperCase()) {
      case 'FROM':
        out.env = {};
        out.expose = [];
        break;
      case 'COPY': {
        if (rest.some((a) => a.startsWith('--from'))) break;
        const args = rest.filter((a) => !a.startsWith('--'));
        out.contextCopies.push(...args.slice(0, -1));
        break;
      }
      case 'ENV':
        for (const m of rest.join(' ').matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S+)/g)) out.env[m[1]] = m[2].replace(/^"|"$/g, '');
        break;
      case 'EXPOSE':
        out.expose.push(...rest);
        break;
      case 'CMD':
        out.cmd = JSON.parse(rest.join(' '));
        break;
    }
  }
  return out;
}

/** .dockerignore as Docker reads it (moby/patternmatcher): comments, cleaning, `!` exceptions, last match wins. */
function dockerignore(text: string): (path: string) => boolean {
  const patterns: { re: RegExp; exclude: boolean }[] = [];
  for (const raw of text.split('\n')) {
    if (raw.startsWith('#')) continue;
    let p = raw.trim();
    if (!p) continue;
    const exclude = !p.startsWith('!');
    if (!exclude) p = p.slice(1).trim();
    p = p.replace(/\/+/g, '/').replace(/\/$/, '').replace(/^\//, '').replace(/^\.\//, '');
    let re = '^';
    for (let i = 0; i < p.length; i++) {
      const c = p[i];
      if (c === '*' && p[i + 1] === '*') {
        i++;
        if (p[i + 1] === '/') i++;
        re += i + 1 >= p.length ? '.*' : '(.*/)?';
      } else if (c === '*') re += '[^/]*';
      else if (c === '?') re += '[^/]';
      else if (c === '\\') re += `\\${p[++i] ?? ''}`;
      else if ('.+()|{}$^'.includes(c)) re += `\\${c}`;
      else re += c;
    }
    patterns.push({ re: new RegExp(`${re}$`), exclude });
  }
  return (path) => {
    const parts = path.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const { re, exclude } of patterns) {
      if (candidates.some((c) => re.test(c))) excluded = exclude;
    }
    return excluded;
  };
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(REPO_ROOT, dir), { recursive: true, encoding: 'utf8' })
    .map((f) => `${dir}/${f}`)
    .filter((f) => statSync(join(REPO_ROOT, f)).isFile());
}

const dockerfile = parseDockerfile(read('Dockerfile'));
const ignored = dockerignore(read('.dockerignore'));
/** Source directories the build stage compiles (tsconfig.build.json `include`). */
const buildInclude: string[] = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.build.json'), ts.sys.readFile).config.include;

describe('Dockerfile build context', () => {
  it('copies everything the build needs, and .dockerignore keeps all of it', () => {
    for (const f of ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      assert.ok(dockerfile.contextCopies.includes(f), `Dockerfile copies ${f}`);
    }
    for (const dir of ['contract', 'workflows', 'activities', 'domain', 'worker', 'client']) {
      assert.ok(dockerfile.contextCopies.includes(dir), `Dockerfile copies ${dir}/`);
      assert.ok(buildInclude.includes(dir), `tsconfig.build.json compiles ${dir}/`);
    }
    for (const dir of buildInclude) assert.ok(dockerfile.contextCopies.includes(dir), `tsconfig.build.json compiles ${dir}/, which the Dockerfile must copy`);
    for (const src of dockerfile.contextCopies) {
      assert.ok(existsSync(join(REPO_ROOT, src)), `COPY ${src}: missing from the build context`);
      assert.ok(!ignored(src), `COPY ${src}: excluded by .dockerignore`);
      if (statSync(join(REPO_ROOT, src)).isDirectory()) {
        for (const f of filesUnder(src).filter((f) => /\.(ts|json)$/.test(f))) assert.ok(!ignored(f), `${f} is excluded by .dockerignore`);
      }
    }
  });

  it('leaves installed packages, local tools, state and secrets out of the context', () => {
    for (const p of [
      'node_modules',
      'node_modules/yaml/package.json',
      'client/node_modules/x',
      '.tools',
      '.tools/env',
      '.slipway',
      '.slipway/cache/bundle.js',
      '.git/HEAD',
      'dist/worker/main.js',
      '.env',
      'test/deploy.test.ts',
      'sandbox/ecs.ts',
    ]) {
      assert.ok(ignored(p), `${p} should be excluded by .dockerignore`);
    }
  });

  it('the pattern matcher follows Docker: parents, **, and exceptions', () => {
    const m = dockerignore('# c\n/a\n**/b\nc/*.md\n!c/keep.md\n');
    assert.ok(m('a/x/y') && m('b') && m('x/y/b/z') && m('c/r.md'));
    assert.ok(!m('c/keep.md') && !m('ab') && !m('x/a') && !m('c/d/r.md'));
  });

  it('the final stage runs the compiled worker with the prebuilt bundle, config path and metrics port', () => {
    assert.deepEqual(dockerfile.cmd, ['node', 'dist/worker/main.js']);
    assert.equal(dockerfile.env.SLIPWAY_CONFIG, '/etc/slipway/slipway.yaml');
    assert.equal(dockerfile.env.SLIPWAY_WORKFLOW_BUNDLE, '/app/dist/workflow-bundle.js');
    assert.equal(dockerfile.env.SLIPWAY_METRICS_BIND, '0.0.0.0:9464');
    // The memory settings the fleet benchmark measures the worker with (bench/stack.ts reads them here).
    assert.equal(dockerfile.env.NODE_OPTIONS, '--max-semi-space-size=2');
    assert.equal(dockerfile.env.MALLOC_ARENA_MAX, '1');
    assert.deepEqual(dockerfile.expose, ['9464']);
    const text = read('Dockerfile');
    assert.match(text, /^FROM \$\{NODE_IMAGE\}\s*$/m, 'final stage from the node image');
    assert.match(text, /^ARG NODE_IMAGE=node:24-bookworm-slim$/m);
    assert.match(text, /^USER node$/m, 'runs unprivileged');
    assert.match(text, /npm ci --omit=dev/, 'production dependencies only');
    assert.doesNotMatch(text, /^HEALTHCHECK/m);
  });
});

// ---------------------------------------------------------------- the compile step, run here

describe('the image build, without an engine', () => {
  let dir: string;
  let dist: string;
  before(() => {
    // Inside the repository, so the compiled files resolve node_modules as they do in /app.
    mkdirSync(join(REPO_ROOT, '.slipway'), { recursive: true });
    dir = mkdtempSync(join(REPO_ROOT, '.slipway', 'image-build-'));
    dist = join(dir, 'dist');
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', dist], { cwd: REPO_ROOT, encoding: 'utf8' });
    assert.equal(tsc.status, 0, `tsc -p tsconfig.build.json failed:\n${tsc.stdout}${tsc.stderr}`);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('emits the worker, the workflows and the CLI, from copied sources only', () => {
    for (const f of ['worker/main.js', 'workflows/index.js', 'client/cli.js', 'worker/bundle.js']) assert.ok(existsSync(join(dist, f)), `dist/${f}`);
    const top = readdirSync(dist).filter((f) => statSync(join(dist, f)).isDirectory());
    for (const d of top) assert.ok(dockerfile.contextCopies.includes(d), `the build compiles ${d}/ (imported from the copied sources) but the Dockerfile does not copy it`);
  });

  it('the compiled code needs production dependencies only (the final stage omits dev ones)', () => {
    const pkg = JSON.parse(read('package.json')) as { dependencies: Record<string, string> };
    const builtins = new Set(builtinModules);
    const missing: string[] = [];
    for (const f of readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'))) {
      for (const m of readFileSync(join(dist, f), 'utf8').matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
        const spec = m[1];
        if (spec.startsWith('.') || spec.startsWith('node:') || builtins.has(spec.split('/')[0])) continue;
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!pkg.dependencies[name]) missing.push(`${f} requires ${spec}`);
      }
    }
    assert.deepEqual(missing, [], 'move these packages to dependencies, or keep them out of the worker and CLI');
  });

  it('the compiled CLI runs', () => {
    const r = spawnSync(process.execPath, [join(dist, 'client', 'cli.js'), '--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^Usage: slipway <command>/m);
  });

  describe('the compiled worker', () => {
    let temporal: DevServer;
    before(async () => {
      temporal = await startDevServer();
    });
    after(async () => temporal?.stop());

    it('starts on the prebuilt bundle, serves metrics, and stops cleanly on SIGTERM', async () => {
      // The Dockerfile's bundle step.
      const bundle = spawnSync(process.execPath, ['--import', 'tsx', 'worker/bundle.ts'], { cwd: REPO_ROOT, encoding: 'utf8' });
      assert.equal(bundle.status, 0, bundle.stderr);
      const bundlePath = bundle.stdout.trim();
      assert.ok(existsSync(bundlePath) && statSync(bundlePath).size > 0, bundlePath);

      const metricsPort = await freePort();
      // The container's environment, with placeholder secrets.
      const child = spawn(process.execPath, [join(dist, 'worker', 'main.js')], {
        cwd: dir,
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          NODE_ENV: 'production',
          SLIPWAY_CONFIG: join(REPO_ROOT, 'config', 'openverse.yaml'),
          SLIPWAY_WORKFLOW_BUNDLE: bundlePath,
          SLIPWAY_METRICS_BIND: `127.0.0.1:${metricsPort}`,
          SLIPWAY_TASK_QUEUE: `compose-test-${process.pid}`,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_NAMESPACE: 'default',
          GITHUB_TOKEN: 'placeholder',
          GHCR_USERNAME: 'placeholder',
          GHCR_TOKEN: 'placeholder',
          SLACK_WEBHOOK_URL: 'http://127.0.0.1:9/placeholder',
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'placeholder',
          AWS_SECRET_ACCESS_KEY: 'placeholder',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let log = '';
      child.stdout.on('data', (d) => (log += d));
      child.stderr.on('data', (d) => (log += d));
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      try {
        const deadline = Date.now() + 60_000;
        while (!log.includes('slipway worker started')) {
          if (child.exitCode !== null) assert.fail(`worker exited with ${child.exitCode}:\n${log}`);
          if (Date.now() > deadline) assert.fail(`worker did not start within 60 s:\n${log}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const started = log.split('\n').find((l) => l.includes('slipway worker started'))!;
        assert.doesNotThrow(() => JSON.parse(started), 'logs are JSON lines');
        const metrics = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        assert.equal(metrics.status, 200);
        await metrics.text();
      } finally {
        child.kill('SIGTERM');
      }
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const code = await exited;
      clearTimeout(timer);
      assert.equal(code, 0, `worker exit after SIGTERM:\n${log}`);
    });
  });
});

// ---------------------------------------------------------------- docker-compose.yml

interface ComposeService {
  image?: string;
  build?: { context: string; dockerfile?: string };
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  environment?: Record<string, string | null>;
  volumes?: string[];
  ports?: string[];
  restart?: string;
  entrypoint?: string[];
  command?: string[];
}

describe('docker-compose.yml', () => {
  let services: Record<string, ComposeService>;
  before(() => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COMPOSE_')));
    mkdirSync(join(REPO_ROOT, '.slipway'), { recursive: true });
    const r = spawnSync(toolPath('DOCKER_COMPOSE_PATH'), ['-f', 'docker-compose.yml', 'config'], { cwd: REPO_ROOT, encoding: 'utf8', env });
    assert.equal(r.status, 0, `docker-compose config:\n${r.stderr}`);
    services = parseYaml(r.stdout).services;
  });

  it('is valid for docker-compose and has the whole stack', () => {
    assert.deepEqual(Object.keys(services).sort(), ['postgresql', 'slipway-setup', 'slipway-worker', 'temporal', 'temporal-schema', 'temporal-ui']);
    assert.equal(services.postgresql.image, 'postgres:16');
    assert.match(services.temporal.image!, /^temporalio\/server:\d+\.\d+\.\d+$/);
    assert.match(services['temporal-ui'].image!, /^temporalio\/ui:\d+\.\d+\.\d+$/);
    const adminTools = services['temporal-schema'].image!;
    assert.match(adminTools, /^temporalio\/admin-tools:\d+\.\d+\.\d+$/);
    assert.equal(services['slipway-setup'].image, adminTools);
    assert.equal(adminTools.split(':')[1], services.temporal.image!.split(':')[1], 'admin-tools and server versions move together');
  });

  it('runs the Temporal server and UI versions of the dev server', () => {
    const r = spawnSync(toolPath('TEMPORAL_CLI_PATH'), ['--version'], { encoding: 'utf8' });
    const m = /Server (\d+\.\d+\.\d+), UI (\d+\.\d+\.\d+)/.exec(r.stdout);
    assert.ok(m, `temporal --version: ${r.stdout}${r.stderr}`);
    assert.equal(services.temporal.image, `temporalio/server:${m[1]}`);
    assert.equal(services['temporal-schema'].image, `temporalio/admin-tools:${m[1]}`);
    assert.equal(services['temporal-ui'].image, `temporalio/ui:${m[2]}`);
  });

  it("checks the worker's health on its metrics endpoint", async () => {
    const worker = services['slipway-worker'];
    const [kind, ...cmd] = worker.healthcheck?.test ?? [];
    assert.equal(kind, 'CMD');
    assert.equal(cmd[0], 'node');
    const check = (bind: string) => spawnSync(process.execPath, cmd.slice(1), { env: { ...process.env, SLIPWAY_METRICS_BIND: bind }, encoding: 'utf8', timeout: 20_000 }).status;
    assert.equal(worker.environment?.SLIPWAY_METRICS_BIND, '0.0.0.0:9464');
    const down = await freePort();
    assert.equal(check(`0.0.0.0:${down}`), 1, 'unhealthy while nothing serves metrics');
    const dir = mkdtempSync(join(REPO_ROOT, '.slipway', 'health-'));
    const server = spawn(
      process.execPath,
      ['-e', `require('node:http').createServer((q, s) => s.end('temporal_up 1')).listen(+process.argv[1], '127.0.0.1', () => console.log('up'))`, String(down)],
      { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise((r) => server.stdout!.once('data', r));
      assert.equal(check(`0.0.0.0:${down}`), 0, 'healthy while the metrics endpoint answers');
    } finally {
      server.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('starts in order: healthchecks where waited on, one-shot jobs that exit', () => {
    const deps = Object.fromEntries(Object.entries(services).map(([name, s]) => [name, Object.fromEntries(Object.entries(s.depends_on ?? {}).map(([d, c]) => [d, c.condition]))]));
    assert.deepEqual(deps, {
      postgresql: {},
      'temporal-schema': { postgresql: 'service_healthy' },
      temporal: { 'temporal-schema': 'service_completed_successfully' },
      'slipway-setup': { temporal: 'service_healthy' },
      'temporal-ui': { temporal: 'service_healthy' },
      'slipway-worker': { 'slipway-setup': 'service_completed_successfully' },
    });
    for (const [name, conds] of Object.entries(deps)) {
      for (const [dep, cond] of Object.entries(conds)) {
        if (cond === 'service_healthy') assert.ok(services[dep].healthcheck?.test?.length, `${name} waits for ${dep} to be healthy: ${dep} needs a healthcheck`);
        if (cond === 'service_completed_successfully') assert.ok(!['always', 'unless-stopped'].includes(services[dep].restart ?? 'no'), `${dep} is a one-shot job`);
      }
    }
  });

  it('registers exactly the search attributes the workflows write', () => {
    const declared = (services['slipway-setup'].environment?.SLIPWAY_SEARCH_ATTRIBUTES ?? '').split(/\s+/).filter(Boolean);
    assert.equal(new Set(declared).size, declared.length, 'no duplicates');
    assert.deepEqual([...declared].sort(), [...SEARCH_ATTRIBUTE_DECLARATIONS].sort());
  });

  /** Runs a service's inline script with stub commands that log their arguments; returns the log. */
  function runScript(service: string, stubs: Record<string, string>, rewrite: (script: string) => string = (s) => s): { log: string[]; dir: string } {
    const s = services[service];
    assert.deepEqual(s.entrypoint, ['/bin/sh', '-ec']);
    const script = rewrite(s.command![0].replace(/\$\$/g, '$'));
    const dir = mkdtempSync(join(REPO_ROOT, '.slipway', 'compose-script-'));
    const logFile = join(dir, 'calls.log');
    for (const [name, body] of Object.entries(stubs)) {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\necho "${name} $*" >> '${logFile}'\n${body}\n`);
      chmodSync(path, 0o755);
    }
    const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, v ?? '']));
    const r = spawnSync('/bin/sh', ['-ec', script], { env: { ...env, PATH: `${dir}:${process.env.PATH}` }, encoding: 'utf8' });
    assert.equal(r.status, 0, `${service} script:\n${r.stdout}${r.stderr}`);
    return { log: existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n') : [], dir };
  }

  it('temporal-schema creates and migrates both databases', () => {
    const { log, dir } = runScript('temporal-schema', { 'temporal-sql-tool': 'exit 0' });
    rmSync(dir, { recursive: true, force: true });
    const base = 'temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u temporal';
    assert.deepEqual(log, [
      `${base} --db temporal create`,
      `${base} --db temporal setup-schema -v 0.0`,
      `${base} --db temporal update-schema -d /etc/temporal/schema/postgresql/v12/temporal/versioned`,
      `${base} --db temporal_visibility create`,
      `${base} --db temporal_visibility setup-schema -v 0.0`,
      `${base} --db temporal_visibility update-schema -d /etc/temporal/schema/postgresql/v12/visibility/versioned`,
    ]);
  });

  it('temporal writes a valid dynamic config, then runs the image entrypoint', () => {
    let written = '';
    const { dir } = runScript('temporal', {}, (script) => {
      assert.match(script, /^exec \/etc\/temporal\/entrypoint\.sh$/m);
      written = join(REPO_ROOT, '.slipway', `dynamicconfig-${process.pid}.yaml`);
      return script.replaceAll('/tmp/dynamicconfig.yaml', written).replace(/^exec .*$/m, 'true');
    });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(services.temporal.environment?.DYNAMIC_CONFIG_FILE_PATH, '/tmp/dynamicconfig.yaml');
    const config = parseYaml(readFileSync(written, 'utf8'));
    rmSync(written, { force: true });
    for (const [key, values] of Object.entries<any>(config)) {
      assert.ok(Array.isArray(values) && values.every((v) => 'value' in v), `dynamic config ${key}: a list of { value, constraints }`);
    }
    // Rollbacks and production deploys go first on the ECS task queues: task-queue priority needs the priority matcher.
    assert.deepEqual(config['matching.useNewMatcher'], [{ value: true, constraints: {} }]);
  });

  it('slipway-setup creates the namespace and each search attribute once Temporal answers', () => {
    const { log, dir } = runScript('slipway-setup', {
      getent: "echo '10.1.2.3      STREAM temporal'",
      temporal: 'case "$*" in *"namespace describe"*) exit 1 ;; esac; exit 0',
    });
    rmSync(dir, { recursive: true, force: true });
    const calls = log.filter((l) => l.startsWith('temporal '));
    assert.ok(
      calls.every((l) => l.includes('--address 10.1.2.3:7233')),
      calls.join('\n'),
    );
    assert.ok(calls.some((l) => l.includes('operator cluster health')));
    assert.ok(
      calls.some((l) => / operator namespace create .*-n default --retention 720h/.test(l)),
      calls.join('\n'),
    );
    const created = calls.filter((l) => l.includes('search-attribute create')).map((l) => `${/--name (\S+)/.exec(l)![1]}=${/--type (\S+)/.exec(l)![1]}`);
    assert.deepEqual(created.sort(), [...SEARCH_ATTRIBUTE_DECLARATIONS].sort());
  });

  it('builds the worker from the Dockerfile and wires config, secrets, Temporal and metrics', () => {
    const w = services['slipway-worker'];
    assert.equal(w.build?.context, REPO_ROOT);
    assert.equal(w.build?.dockerfile ?? 'Dockerfile', 'Dockerfile');
    const env = w.environment ?? {};
    assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233');
    assert.equal(env.SLIPWAY_CONFIG, dockerfile.env.SLIPWAY_CONFIG);
    assert.ok(
      (w.volumes ?? []).some((v) => v.split(':')[1] === dockerfile.env.SLIPWAY_CONFIG && v.split(':')[0].startsWith(join(REPO_ROOT, 'config'))),
      'the config from ./config is mounted where SLIPWAY_CONFIG points',
    );
    assert.ok(
      (w.volumes ?? []).some((v) => v.split(':')[1] === '/home/node/.aws'),
      'an AWS profile directory is mounted',
    );
    for (const k of ['GITHUB_TOKEN', 'SLACK_WEBHOOK_URL', 'AWS_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      assert.ok(k in env, `${k} is passed through`);
    }
    const metricsPort = env.SLIPWAY_METRICS_BIND?.split(':')[1];
    assert.equal(metricsPort, '9464');
    assert.ok(
      (w.ports ?? []).some((p) => p.includes(`:${metricsPort}:${metricsPort}`)),
      'metrics port published',
    );
    assert.ok(
      (services['temporal-ui'].ports ?? []).some((p) => p.includes(':8080:8080')),
      'Temporal UI on 8080',
    );
    assert.ok(
      (services.temporal.ports ?? []).some((p) => p.includes(':7233:7233')),
      'Temporal gRPC published for the CLI',
    );
  });
});
