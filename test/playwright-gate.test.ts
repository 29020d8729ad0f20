/**
 * The promotion pipeline's test gates: the sample smoke suite (examples/playwright-smoke)
 * run by real Playwright on Debian's Chromium against the sandbox's staging and production
 * sites, and a GitHub Actions workflow dispatched to the GitHub sandbox and waited for.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createGitHubClient } from '../activities/github';
import {
  createGateActivities,
  type GateLog,
  type GateResult,
  type GitHubGateProgress,
  type GitHubGateResult,
  MARKER_INPUT,
  type PlaywrightGateProgress,
} from '../activities/gates';
import { NON_RETRYABLE } from '../domain/errors';
import { type EcsSandbox, startEcsSandbox } from '../sandbox/ecs';
import { type GitHubSandbox, startGitHubSandbox } from '../sandbox/github';
import { seedOpenverse } from '../sandbox/openverse';
import { openverseSites, type SandboxSite, type SiteSpec, startSite } from '../sandbox/site';
import { REPO_ROOT, toolPath } from '../sandbox/tools';
import { eventually } from './harness';

const RELEASE = '4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b';
const SUITE = path.join(REPO_ROOT, 'examples', 'playwright-smoke');
const SMOKE = '@deployment-smoketest';

/** Asserts `err` is an Error named `name`, retryable or not as said. */
function failsWith(name: string, retryable: boolean, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof Error, `rejected with a non-Error: ${String(err)}`);
    assert.equal(err.name, name, err.message);
    assert.equal(!(NON_RETRYABLE as readonly string[]).includes(err.name), retryable);
    if (message) assert.match(err.message, message);
    return true;
  };
}

function recordingLog(): { log: GateLog; lines: { level: string; message: string; meta?: Record<string, unknown> }[] } {
  const lines: { level: string; message: string; meta?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, meta?: Record<string, unknown>) => void lines.push({ level, message, meta });
  return { log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Whether any process of the group is left, after giving the killed ones a moment to be reaped. */
async function processGroupAlive(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(-pid, 0);
    } catch {
      return false;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}

const QUIET: GateLog = recordingLog().log;

/** More copies of the staging frontend, one per test, so that the tests can run at once and each misbehave alone. */
const STAGING_FRONTEND = openverseSites.find((s) => s.prefix === 'frontend-staging')!;
const COPIES: SiteSpec[] = ['broken', 'stale', 'flaky', 'slow'].map((name) => ({ ...STAGING_FRONTEND, prefix: `frontend-${name}`, app: `frontend-${name}` }));

describe('Playwright gate', { concurrency: true }, () => {
  let ecs: EcsSandbox;
  let site: SandboxSite;
  let tmp: string;
  const chromiumPath = toolPath('CHROMIUM_PATH');
  const gate = createGateActivities({ chromiumPath, log: QUIET });
  const url = (prefix: string) => `${site.url}/${prefix}`;

  before(async () => {
    ecs = await startEcsSandbox({ timing: { taskStartMs: 30, healthyMs: 30, drainMs: 10 }, tickMs: 10 });
    await seedOpenverse(ecs, RELEASE);
    site = await startSite({ ecs, sites: [...openverseSites, ...COPIES] });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'slipway-gate-test-'));
  });
  after(async () => {
    await site?.close();
    await ecs?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });
  it('passes the tagged smoke tests against a healthy site, heartbeating progress, and runs only those', async () => {
    const env = new MockActivityEnvironment({ activityId: 'smoke' });
    const beats: PlaywrightGateProgress[] = [];
    env.on('heartbeat', (d: PlaywrightGateProgress) => beats.push(d));
    const result: GateResult = await env.run(gate.runPlaywrightGate, {
      suiteDir: SUITE,
      baseUrl: url('frontend-staging'),
      apiUrl: url('api-staging'),
      grep: SMOKE,
      expectedRelease: RELEASE,
    });
    assert.deepEqual({ ...result, durationMs: 0 }, { passed: 4, failed: 0, flaky: 0, skipped: 0, failures: [], durationMs: 0, ok: true });
    assert.ok(result.durationMs > 0);
    assert.ok(beats.some((b) => b.phase === 'running' && b.total === 4));
    assert.equal(Math.max(...beats.map((b) => b.done)), 4);
    const paths = site.requests.map((r) => r.path);
    assert.ok(paths.includes('/frontend-staging'), 'the browser opened the home page');
    assert.ok(paths.includes('/api-staging/version'));
    // Untagged tests do not run under the grep.
    assert.ok(!paths.some((p) => p.startsWith('/frontend-staging/healthcheck')), `requests: ${paths.join(' ')}`);
  });

  it('fails, listing the failing tests, when the site answers 500', async () => {
    site.override('frontend-broken', { status: 500 });
    const result = await gate.runPlaywrightGate({
      suiteDir: SUITE,
      baseUrl: url('frontend-broken'),
      apiUrl: url('api-production'),
      grep: SMOKE,
    });
    assert.equal(result.ok, false);
    assert.deepEqual([result.passed, result.failed, result.flaky, result.skipped], [1, 3, 0, 0]);
    assert.deepEqual(
      result.failures.map((f) => f.title),
      [
        '[chromium] › frontend.spec.ts › frontend › home page loads with the title',
        '[chromium] › frontend.spec.ts › frontend › search box is visible',
        '[chromium] › frontend.spec.ts › frontend › shows the release being deployed',
      ],
    );
    for (const f of result.failures) {
      assert.match(f.error, /Expected: 200\nReceived: 500/);
      assert.ok(f.error.split('\n').length <= 6, f.error);
      assert.ok(!f.error.includes('\u001b'), 'no terminal colours');
    }
  });

  it('fails when the site serves another release than the one expected', async () => {
    site.override('frontend-stale', { release: 'stale0000' });
    const result = await gate.runPlaywrightGate({
      suiteDir: SUITE,
      baseUrl: url('frontend-stale'),
      apiUrl: url('api-production'),
      grep: SMOKE,
      expectedRelease: RELEASE,
    });
    assert.equal(result.ok, false);
    assert.deepEqual([result.passed, result.failed], [3, 1]);
    assert.equal(result.failures[0].title, '[chromium] › frontend.spec.ts › frontend › shows the release being deployed');
    assert.match(result.failures[0].error, new RegExp(`Expected substring: "${RELEASE}"[\\s\\S]*stale0000`));
  });

  it('runs untagged tests without grep, and counts a test that passes on retry as flaky', async () => {
    const marker = path.join(tmp, 'flaky-marker');
    const result = await gate.runPlaywrightGate({
      suiteDir: SUITE,
      baseUrl: url('frontend-flaky'),
      apiUrl: url('api-staging'),
      retries: 1,
      env: { SMOKE_FLAKY_MARKER_FILE: marker },
    });
    assert.deepEqual([result.passed, result.failed, result.flaky, result.skipped], [5, 0, 1, 0]);
    assert.equal(result.ok, true);
    assert.deepEqual(result.failures, []);
    assert.ok(existsSync(marker), 'the first attempt created the marker');
    assert.ok(
      site.requests.some((r) => r.path === '/frontend-flaky/healthcheck'),
      'the untagged test ran',
    );
  });

  it('refuses a missing suite directory, a directory without a config, and bad input as BadInput', async () => {
    await assert.rejects(
      gate.runPlaywrightGate({ suiteDir: path.join(tmp, 'no-such-suite'), baseUrl: url('frontend-staging') }),
      failsWith('BadInput', false, /no-such-suite does not exist/),
    );
    const empty = path.join(tmp, 'empty-suite');
    await mkdir(empty, { recursive: true });
    await assert.rejects(
      gate.runPlaywrightGate({ suiteDir: empty, baseUrl: url('frontend-staging') }),
      failsWith('BadInput', false, /has no Playwright config \(playwright\.config\.ts/),
    );
    await assert.rejects(
      gate.runPlaywrightGate({ suiteDir: SUITE, baseUrl: 'staging.openverse.org', workers: 0, env: { PLAYWRIGHT_BASE_URL: 'x' } }),
      failsWith('BadInput', false, /baseUrl: an http\(s\) URL is required.*workers: an integer ≥ 1.*PLAYWRIGHT_BASE_URL is set by the gate itself/),
    );
    // A relative suite directory is resolved against the configured cwd.
    const relative = createGateActivities({ chromiumPath, cwd: tmp, log: QUIET });
    await assert.rejects(relative.runPlaywrightGate({ suiteDir: 'empty-suite', baseUrl: url('frontend-staging') }), failsWith('BadInput', false, /empty-suite has no/));
  });

  it('refuses a suite that does not load, or where nothing matches grep, as BadInput', async () => {
    const broken = path.join(tmp, 'broken-suite');
    await mkdir(broken, { recursive: true });
    await writeFile(path.join(broken, 'playwright.config.js'), "module.exports = { testDir: '.' };\n");
    await writeFile(path.join(broken, 'broken.spec.js'), 'const x = ;\n');
    await assert.rejects(
      gate.runPlaywrightGate({ suiteDir: broken, baseUrl: url('frontend-staging') }),
      failsWith('BadInput', false, /failed before running any test: SyntaxError.*broken\.spec\.js/),
    );
    await assert.rejects(
      gate.runPlaywrightGate({ suiteDir: SUITE, baseUrl: url('frontend-staging'), grep: '@no-such-tag' }),
      failsWith('BadInput', false, /no test matches "@no-such-tag"/),
    );
  });

  it('fails retryably when the browser cannot start', async () => {
    const crashing = path.join(tmp, 'crashing-chromium');
    await writeFile(crashing, '#!/bin/sh\necho "chromium: crashed on start" >&2\nexit 1\n');
    await chmod(crashing, 0o755);
    const broken = createGateActivities({ chromiumPath: crashing, log: QUIET });
    await assert.rejects(
      broken.runPlaywrightGate({ suiteDir: SUITE, baseUrl: url('frontend-staging'), apiUrl: url('api-staging'), grep: SMOKE }),
      failsWith('PlaywrightCrashed', true, /the browser failed .*browserType\.launch/),
    );
  });

  it('kills the whole run when the activity is cancelled', async () => {
    site.override('frontend-slow', { delayMs: 60_000 });
    const { log, lines } = recordingLog();
    const slow = createGateActivities({ chromiumPath, log });
    const env = new MockActivityEnvironment({ activityId: 'cancelled' });
    let running!: () => void;
    const isRunning = new Promise<void>((resolve) => (running = resolve));
    env.on('heartbeat', (d: PlaywrightGateProgress) => d.phase === 'running' && running());
    const run = env.run(slow.runPlaywrightGate, { suiteDir: SUITE, baseUrl: url('frontend-slow'), grep: SMOKE });
    await isRunning;
    // Mid-test: the suite's browser has asked the slow site for its page.
    await eventually('the browser to ask the slow site for a page', () => site.requests.some((r) => r.path.startsWith('/frontend-slow')), 90_000);
    const cancelledAt = Date.now();
    env.cancel();
    await assert.rejects(run, (err: Error) => err.name === 'CancelledFailure' || /cancel/i.test(err.message));
    assert.ok(Date.now() - cancelledAt < 8000, 'stopped promptly');
    const pid = lines.find((l) => l.meta?.pid)?.meta?.pid as number;
    assert.ok(pid > 0);
    assert.equal(await processGroupAlive(pid), false, 'no process of the run is left');
    assert.ok(lines.some((l) => l.level === 'warn' && /activity was cancelled/.test(l.message)));
  });
});

describe('GitHub dispatch gate', () => {
  const TOKEN = 'ghp_dispatchGateSandboxToken';
  const OWNER = 'WordPress';
  const REPO = 'openverse';
  let gh: GitHubSandbox;
  let gate: ReturnType<typeof createGateActivities>;

  before(async () => {
    gh = await startGitHubSandbox({ token: TOKEN });
    gh.addRepo(OWNER, REPO);
    const github = createGitHubClient({ token: TOKEN, baseUrl: gh.url, secondMs: 5 });
    gate = createGateActivities({ github, log: QUIET });
  });
  after(async () => {
    assert.deepEqual(gh?.contractViolations ?? [], []);
    await gh?.close();
  });

  /** A dispatchable workflow that carries the marker in its run-name, as the docs ask. */
  function addE2e(file: string, opts: Parameters<GitHubSandbox['addWorkflow']>[3] = {}) {
    gh.addWorkflow(OWNER, REPO, file, {
      name: 'E2E',
      runName: `E2E against \${{ inputs.environment }} (\${{ inputs.${MARKER_INPUT} }})`,
      inputs: { [MARKER_INPUT]: {}, environment: { required: true } },
      durationMs: 300,
      queuedMs: 100,
      listDelayMs: 100,
      ...opts,
    });
  }
  const runsOf = (file: string) => gh.workflowRuns(OWNER, REPO).filter((r) => r.path === `.github/workflows/${file}`);
  const base = { owner: OWNER, repo: REPO, ref: 'main', inputs: { environment: 'staging' }, pollSeconds: 0.05 };

  it('dispatches the workflow and passes when its run succeeds', async () => {
    addE2e('e2e-pass.yml');
    const env = new MockActivityEnvironment({ activityId: 'gh-pass', workflowExecution: { workflowId: 'pipeline/api', runId: 'run-1' } });
    const result: GitHubGateResult = await env.run(gate.dispatchGitHubGate, { ...base, workflow: 'e2e-pass.yml' });
    const [run] = runsOf('e2e-pass.yml');
    assert.equal(runsOf('e2e-pass.yml').length, 1);
    assert.deepEqual(result, { ok: true, conclusion: 'success', runUrl: `https://github.com/${OWNER}/${REPO}/actions/runs/${run.id}`, runId: run.id, marker: result.marker });
    assert.match(result.marker, /^slipway-[0-9a-f]{12}$/);
    assert.deepEqual(run.inputs, { environment: 'staging', [MARKER_INPUT]: result.marker });
    assert.equal(run.displayTitle, `E2E against staging (${result.marker})`);
  });

  it('finds the dispatched run by its marker when GitHub does not return it', async () => {
    addE2e('e2e-204.yml', { runDetails: false, listDelayMs: 150 });
    // Someone else's run of the same workflow, dispatched at the same time.
    addE2e('e2e-204.yml', { runDetails: false, listDelayMs: 0 });
    await gate.dispatchGitHubGate({ ...base, workflow: 'e2e-204.yml', marker: 'slipway-someoneelse' });
    addE2e('e2e-204.yml', { runDetails: false, listDelayMs: 150 });
    const result = await gate.dispatchGitHubGate({ ...base, workflow: 'e2e-204.yml' });
    const runs = runsOf('e2e-204.yml');
    assert.equal(runs.length, 2);
    assert.equal(result.runId, runs[1].id);
    assert.equal(runs[1].inputs[MARKER_INPUT], result.marker);
    assert.equal(result.ok, true);
  });

  it('fails the gate when the run concludes failure', async () => {
    addE2e('e2e-fail.yml', { conclusion: 'failure' });
    const result = await gate.dispatchGitHubGate({ ...base, workflow: 'e2e-fail.yml' });
    assert.equal(result.ok, false);
    assert.equal(result.conclusion, 'failure');
    assert.equal(result.runId, runsOf('e2e-fail.yml')[0].id);
  });

  it('does not dispatch twice when the activity is retried', async () => {
    addE2e('e2e-retry.yml', { durationMs: 200 });
    const info = { activityId: 'gh-retry', workflowExecution: { workflowId: 'pipeline/frontend', runId: 'run-7' } };
    const first = new MockActivityEnvironment({ ...info, attempt: 1 });
    let details: GitHubGateProgress | undefined;
    first.on('heartbeat', (d: GitHubGateProgress) => (details = d));
    const one: GitHubGateResult = await first.run(gate.dispatchGitHubGate, { ...base, workflow: 'e2e-retry.yml' });
    assert.equal(runsOf('e2e-retry.yml').length, 1);
    assert.equal(details?.runId, one.runId);

    // A retry whose heartbeats were lost finds the run by its marker.
    const lost: GitHubGateResult = await new MockActivityEnvironment({ ...info, attempt: 2 }).run(gate.dispatchGitHubGate, { ...base, workflow: 'e2e-retry.yml' });
    assert.equal(lost.runId, one.runId);
    assert.equal(lost.marker, one.marker);
    // A retry with the last heartbeat resumes the same run.
    const resumed: GitHubGateResult = await new MockActivityEnvironment({ ...info, attempt: 3, heartbeatDetails: details }).run(gate.dispatchGitHubGate, {
      ...base,
      workflow: 'e2e-retry.yml',
    });
    assert.equal(resumed.runId, one.runId);
    assert.equal(runsOf('e2e-retry.yml').length, 1, 'dispatched once');
    assert.equal(gh.mutations().filter((m) => m.path.endsWith('/actions/workflows/e2e-retry.yml/dispatches')).length, 1);

    // Another activity (another pipeline run) dispatches its own run.
    const other: GitHubGateResult = await new MockActivityEnvironment({ ...info, activityId: 'gh-retry-2' }).run(gate.dispatchGitHubGate, { ...base, workflow: 'e2e-retry.yml' });
    assert.notEqual(other.runId, one.runId);
    assert.equal(runsOf('e2e-retry.yml').length, 2);
  });

  it('finds the run by time when the workflow does not declare the marker input, without dispatching again on retry', async () => {
    gh.addWorkflow(OWNER, REPO, 'legacy.yml', { inputs: { environment: {} }, durationMs: 200, listDelayMs: 100, runDetails: false });
    const { log, lines } = recordingLog();
    const github = createGitHubClient({ token: TOKEN, baseUrl: gh.url, secondMs: 5 });
    const legacyGate = createGateActivities({ github, log });
    const info = { activityId: 'gh-legacy', workflowExecution: { workflowId: 'pipeline/api', runId: 'run-9' } };
    let details: GitHubGateProgress | undefined;
    const env = new MockActivityEnvironment(info);
    env.on('heartbeat', (d: GitHubGateProgress) => (details = d));
    const result: GitHubGateResult = await env.run(legacyGate.dispatchGitHubGate, { ...base, workflow: 'legacy.yml' });
    assert.equal(result.ok, true);
    assert.equal(runsOf('legacy.yml').length, 1);
    assert.deepEqual(runsOf('legacy.yml')[0].inputs, { environment: 'staging' });
    assert.equal(details?.markerInput, false);
    assert.ok(lines.some((l) => l.level === 'warn' && l.message.includes(`does not declare the '${MARKER_INPUT}' input`)));

    const retried: GitHubGateResult = await new MockActivityEnvironment({ ...info, attempt: 2, heartbeatDetails: { ...details, runId: undefined } }).run(
      legacyGate.dispatchGitHubGate,
      { ...base, workflow: 'legacy.yml' },
    );
    assert.equal(retried.runId, result.runId);
    assert.equal(runsOf('legacy.yml').length, 1, 'dispatched once');
  });

  it('cancels the run when the activity is cancelled', async () => {
    addE2e('e2e-long.yml', { durationMs: 60_000 });
    const env = new MockActivityEnvironment({ activityId: 'gh-cancel' });
    let dispatched!: () => void;
    const hasRun = new Promise<void>((resolve) => (dispatched = resolve));
    env.on('heartbeat', (d: GitHubGateProgress) => d.status === 'in_progress' && dispatched());
    const run = env.run(gate.dispatchGitHubGate, { ...base, workflow: 'e2e-long.yml' });
    await hasRun;
    env.cancel();
    await assert.rejects(run);
    const [ghRun] = runsOf('e2e-long.yml');
    assert.ok(ghRun.cancelledAt, 'the GitHub run was cancelled');
  });

  it('refuses unknown and non-dispatchable workflows without retrying', async () => {
    await assert.rejects(gate.dispatchGitHubGate({ ...base, workflow: 'nope.yml' }), failsWith('NotFound', false, /nope\.yml in WordPress\/openverse was not found/));
    gh.addWorkflow(OWNER, REPO, 'push-only.yml', { dispatchable: false });
    await assert.rejects(gate.dispatchGitHubGate({ ...base, workflow: 'push-only.yml' }), failsWith('ClientRejected', false, /workflow_dispatch/));
    await assert.rejects(
      gate.dispatchGitHubGate({ ...base, workflow: '../x', inputs: { [MARKER_INPUT]: 'mine' } }),
      failsWith('BadInput', false, /workflow:.*inputs: slipway-run-id is set by the gate/),
    );
    const noToken = createGateActivities({ log: QUIET });
    await assert.rejects(noToken.dispatchGitHubGate({ ...base, workflow: 'e2e-pass.yml' }), failsWith('BadInput', false, /needs a GitHub token/));
  });
});
