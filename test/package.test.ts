/**
 * The package as users get it: `npm pack` of this repository, installed into an empty folder
 * with production dependencies only, runs `slipway --version`, `slipway help deploy`, loads
 * every command, and deploys against the sandbox world (real Temporal dev server, worker, ECS
 * sandbox, registry, version endpoints) with plain node — no tsx, no dev dependencies.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../sandbox/tools';
import { freshTaskQueue, runProcess, startStack, startWorker, type ProcessRun as Run, type RunningWorker, type Stack } from './harness';

const A = '1'.repeat(40);
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };

describe('the npm package', () => {
  let dir: string;
  let bin: string;
  let stack: Stack;
  let worker: RunningWorker;
  let env: NodeJS.ProcessEnv;

  const slipway = (args: string[]) => runProcess(bin, args, { cwd: dir, env });
  const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'slipway-pkg-'));
    // dist/ is fresh: scripts/setup.sh builds it, as `prepack` would.
    const npm = (args: string[], cwd: string) => {
      const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, npm_config_loglevel: 'error' } });
      assert.equal(r.status, 0, `npm ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
      return r.stdout;
    };
    const packed = npm(['pack', '--ignore-scripts', '--pack-destination', dir], REPO_ROOT).trim().split('\n').pop()!;
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'slipway-consumer', private: true }));
    npm(['install', '--omit=dev', '--no-audit', '--no-fund', join(dir, packed)], dir);
    bin = join(dir, 'node_modules', '.bin', 'slipway');
    stack = await startStack({ timing: { taskStartMs: 200, healthyMs: 200, drainMs: 150 } });
    await stack.world.pushTags(A);
    const tq = freshTaskQueue('pkg');
    worker = await startWorker(stack, tq);
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(TEMPORAL_|GITHUB_|SLIPWAY_|NODE_OPTIONS$)/.test(k)));
    env = { ...base, TEMPORAL_ADDRESS: stack.temporal.address, SLIPWAY_CONFIG: stack.configPath, SLIPWAY_TASK_QUEUE: tq };
  });
  after(async () => {
    await worker?.stop();
    await stack?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('installs without dev dependencies, and without TypeScript sources', () => {
    const installed = join(dir, 'node_modules');
    // Dev-only packages (some dev dependencies, e.g. @temporalio/proto, are also needed by production ones).
    for (const dev of ['typescript', 'tsx', '@playwright/test', '@temporalio/testing', '@octokit/openapi']) {
      assert.ok(dev in pkg.devDependencies, dev);
      assert.ok(!existsSync(join(installed, dev)), `${dev} (a dev dependency) was installed`);
    }
    for (const dep of Object.keys(pkg.dependencies)) assert.ok(existsSync(join(installed, dep)), `${dep} missing`);
    const files = readdirSync(join(installed, 'slipway'), { recursive: true, encoding: 'utf8' });
    assert.deepEqual(
      files.filter((f) => f.endsWith('.ts') && !f.startsWith('node_modules')),
      [],
    );
    assert.ok(files.includes(join('dist', 'client', 'cli.js')));
  });

  it('slipway --version and slipway help deploy', async () => {
    const [version, help] = await Promise.all([slipway(['--version']), slipway(['help', 'deploy'])]);
    assert.equal(version.code, 0, show(version));
    assert.equal(version.stdout.trim(), pkg.version);
    assert.equal(help.code, 0, show(help));
    assert.match(help.stdout, /^Usage: slipway deploy \[options\] <app> <env> <tag>$/m);
    assert.match(help.stdout, /--no-wait/);
  });

  it('loads every command module with production dependencies only', () => {
    const commands = readdirSync(join(REPO_ROOT, 'client', 'commands'))
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, ''));
    const script = `for (const c of ${JSON.stringify(commands)}) require('slipway/dist/client/commands/' + c); process.stdout.write('ok')`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, 'ok');
  });

  it('deploys against the sandbox, then status, history, tags and diff answer', async () => {
    const deploy = await slipway(['deploy', 'api', 'staging', A, '--actor', 'alice', '--json']);
    assert.equal(deploy.code, 0, show(deploy));
    const result = JSON.parse(deploy.stdout);
    assert.equal(result.outcome, 'succeeded');
    assert.equal(result.verified.release, A);

    const [status, history, tags, diff] = await Promise.all([
      slipway(['status', 'api', '--env', 'staging', '--json']),
      slipway(['history', 'api', 'staging', '--json']),
      slipway(['tags', 'api', '--json']),
      slipway(['diff', 'api', 'staging', A, '--json']),
    ]);
    for (const r of [status, history, tags, diff]) assert.equal(r.code, 0, show(r));
    const staging = JSON.parse(status.stdout).apps[0].environments[0];
    assert.equal(staging.reported.release, A);
    assert.equal(JSON.parse(history.stdout).operations[0].tag, A);
    assert.ok(
      JSON.parse(tags.stdout).tags.some((t: { tag: string }) => t.tag === A),
      tags.stdout,
    );
    assert.deepEqual(JSON.parse(diff.stdout).changes, [], 'the tag that runs changes nothing');
  });
});
