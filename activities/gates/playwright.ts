/**
 * The Playwright gate: a team's Playwright suite run against a live environment
 * (`runPlaywrightGate`). Its verdict is its result (`ok`, judged by
 * domain/playwright-report.ts); an error means there is no verdict: the suite could not run
 * (non-retryable `BadInput`) or something outside the tests broke (retryable: crashed
 * browser, killed runner).
 *
 * ## The suite's environment contract
 *
 * The suite runs as `node <@playwright/test cli> test` in its directory (the CLI is resolved
 * from the suite's own node_modules first, so its tests and the runner share one Playwright),
 * with `--config <its playwright.config.*> --reporter=list,json --forbid-only --workers=<n>`,
 * `--output` in a temporary directory (nothing is written to the suite's directory) and
 * `--grep`, `--retries`, `--project`, `--global-timeout` when asked. Its environment:
 *
 * | variable | value |
 * |---|---|
 * | `PLAYWRIGHT_BASE_URL` | the site under test (`baseUrl`) |
 * | `API_URL`, `PLAYWRIGHT_API_URL` | its API (`apiUrl`), when given |
 * | `EXPECTED_RELEASE` | the release the site should serve (`expectedRelease`), when given |
 * | `PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH` | with a configured Chromium: a launcher for it that adds the flags a headless system Chromium needs (`--no-sandbox --disable-gpu …`); a config passes it to `launchOptions.executablePath` |
 * | `PLAYWRIGHT_BROWSERS_PATH` | with a configured Chromium: a browsers directory whose `chromium` and `chromium-headless-shell` are that launcher, so a config that reads no variable runs on it too (Firefox, WebKit, branded channels and video are not provided) |
 * | `SLIPWAY_GATE` | `1` |
 * | anything in `env` | as given (after the above; the contract's names cannot be overridden) |
 *
 * Of the worker's own environment only `PATH`, `HOME`, locale, time zone, temp and proxy
 * settings (and names listed in `passEnv`) are passed: the worker's secrets (GitHub token,
 * AWS credentials, webhook URLs) never reach a suite. A config should not start a
 * `webServer` when `PLAYWRIGHT_BASE_URL` is set.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BadInput } from '../../domain/errors';
import { type GateFailure, type GateReport, judgeReport, outputTail, stripAnsi } from '../../domain/playwright-report';
import { chromiumShim } from './chromium';
import { activityContext, cancellation, contextLog, type GateDeps } from './common';
import { killGroup, track } from './process-group';

export interface PlaywrightGateInput {
  /** The team's Playwright project directory, holding `playwright.config.*` (relative: to the worker's `cwd`). */
  suiteDir: string;
  /** The site under test: `PLAYWRIGHT_BASE_URL`. */
  baseUrl: string;
  /** Its API: `API_URL` and `PLAYWRIGHT_API_URL`. */
  apiUrl?: string;
  /** Only tests whose title or tags match, e.g. `@deployment-smoketest`. */
  grep?: string;
  /** Default 1: a live site is not load-tested. */
  workers?: number;
  /** Retries of a failed test (default: the config's). A test that passes on a retry is counted as flaky. */
  retries?: number;
  /** Budget of the whole run (Playwright's `--global-timeout`); the process is killed a grace period later. */
  timeoutSeconds?: number;
  /** Playwright projects to run (default: all of the config's). */
  projects?: string[];
  /** The release the site should serve: `EXPECTED_RELEASE`. */
  expectedRelease?: string;
  /** More environment variables for the suite (not secrets: they are recorded in the workflow history). */
  env?: Record<string, string>;
}

export interface GateResult {
  passed: number;
  failed: number;
  /** Failed, then passed on a retry. */
  flaky: number;
  /** Titles of the flaky tests (absent when there are none). */
  flakyTests?: string[];
  skipped: number;
  failures: GateFailure[];
  durationMs: number;
  /** No test failed, no error outside the tests, and at least one test passed. */
  ok: boolean;
}

/** What `runPlaywrightGate` heartbeats. */
export interface PlaywrightGateProgress {
  phase: 'starting' | 'running' | 'stopping' | 'finished';
  /** Tests Playwright announced (`Running N tests`). */
  total?: number;
  /** Test attempts finished, and how many of them failed. */
  done: number;
  failed: number;
  /** The last test line Playwright printed. */
  last?: string;
}

/** The Playwright run ended without a verdict: its browser could not start or crashed, or the process died. Retryable. */
export class PlaywrightCrashed extends Error {
  override name = 'PlaywrightCrashed';
}

/** The suite outlived `timeoutSeconds` and its grace period and was killed. Retryable. */
export class PlaywrightTimedOut extends Error {
  override name = 'PlaywrightTimedOut';
}

/** Config file names Playwright looks for, in its order. */
const CONFIG_NAMES = ['playwright.config.ts', 'playwright.config.js', 'playwright.config.mts', 'playwright.config.mjs', 'playwright.config.cts', 'playwright.config.cjs'];

/** Variables of the worker's environment a suite gets. */
const PASSED_ENV = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'SHELL',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'TMP',
  'TEMP',
  'XDG_CACHE_HOME',
  'XDG_CONFIG_HOME',
  'NODE_EXTRA_CA_CERTS',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
  'CI',
];

/** Variables the gate sets; `env` cannot override them. */
const CONTRACT_ENV = new Set([
  'PLAYWRIGHT_BASE_URL',
  'API_URL',
  'PLAYWRIGHT_API_URL',
  'EXPECTED_RELEASE',
  'PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH',
  'PLAYWRIGHT_BROWSERS_PATH',
  'PLAYWRIGHT_JSON_OUTPUT_NAME',
  'PLAYWRIGHT_JSON_OUTPUT_FILE',
  'SLIPWAY_GATE',
]);

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The Playwright test CLI for a suite: its own first, then the worker's. */
function resolveCli(suiteDir: string): string | undefined {
  for (const request of ['@playwright/test/cli', 'playwright/cli']) {
    for (const from of [suiteDir, __dirname]) {
      try {
        return require.resolve(request, { paths: [from] });
      } catch {
        // next
      }
    }
  }
  return undefined;
}

/** The `runPlaywrightGate` activity. */
export function createPlaywrightGate(deps: GateDeps) {
  const baseCwd = deps.cwd ?? process.cwd();
  const heartbeatMs = deps.heartbeatMs ?? 2000;
  const killGraceMs = deps.killGraceMs ?? 30_000;

  function validateGate(input: PlaywrightGateInput): string[] {
    const problems: string[] = [];
    if (typeof input?.suiteDir !== 'string' || !input.suiteDir.trim()) problems.push('suiteDir: the Playwright project directory is required');
    if (!isHttpUrl(input?.baseUrl)) problems.push(`baseUrl: an http(s) URL is required, got ${JSON.stringify(input?.baseUrl)}`);
    if (input?.apiUrl !== undefined && !isHttpUrl(input.apiUrl)) problems.push(`apiUrl: not an http(s) URL: ${JSON.stringify(input.apiUrl)}`);
    if (input?.grep !== undefined) {
      if (typeof input.grep !== 'string' || !input.grep) problems.push('grep: a non-empty pattern is required when given');
      else {
        try {
          new RegExp(input.grep);
        } catch (err) {
          problems.push(`grep: not a regular expression: ${(err as Error).message}`);
        }
      }
    }
    const whole = (name: string, v: unknown, min: number) => {
      if (v !== undefined && !(Number.isInteger(v) && (v as number) >= min)) problems.push(`${name}: an integer ≥ ${min} is required, got ${JSON.stringify(v)}`);
    };
    whole('workers', input?.workers, 1);
    whole('retries', input?.retries, 0);
    if (input?.timeoutSeconds !== undefined && !(typeof input.timeoutSeconds === 'number' && input.timeoutSeconds > 0)) {
      problems.push(`timeoutSeconds: a positive number is required, got ${JSON.stringify(input.timeoutSeconds)}`);
    }
    if (input?.projects !== undefined && !(Array.isArray(input.projects) && input.projects.every((p) => typeof p === 'string' && p))) {
      problems.push('projects: a list of project names is required when given');
    }
    if (input?.expectedRelease !== undefined && (typeof input.expectedRelease !== 'string' || !input.expectedRelease)) {
      problems.push('expectedRelease: a non-empty string is required when given');
    }
    for (const [k, v] of Object.entries(input?.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) problems.push(`env: '${k}' is not a variable name`);
      else if (CONTRACT_ENV.has(k)) problems.push(`env: ${k} is set by the gate itself`);
      else if (typeof v !== 'string') problems.push(`env: ${k} must be a string`);
    }
    return problems;
  }

  /**
   * Runs a team's Playwright suite against a live environment and returns its verdict:
   * counts, failing tests with the first lines of their errors, `ok`. Failing tests are a
   * verdict (`ok: false`), not an error. Errors: `BadInput` when the suite cannot run
   * (no directory, no config, no Playwright, a file that does not load, no test matching
   * `grep`, no browser installed); `PlaywrightCrashed` (retryable) when the browser or the
   * runner died; `PlaywrightTimedOut` (retryable) when it had to be killed. Heartbeats
   * progress; a cancelled activity kills the run's whole process group.
   */
  async function runPlaywrightGate(input: PlaywrightGateInput): Promise<GateResult> {
    const problems = validateGate(input);
    if (problems.length) throw new BadInput(`invalid Playwright gate: ${problems.join('; ')}`, problems);
    const ctx = activityContext();
    const log = deps.log ?? contextLog(ctx);

    const suiteDir = path.resolve(baseCwd, input.suiteDir);
    if (!(await isDir(suiteDir))) throw new BadInput(`Playwright suite directory ${suiteDir} does not exist`);
    let config: string | undefined;
    for (const name of CONFIG_NAMES) {
      if (await isFile(path.join(suiteDir, name))) {
        config = path.join(suiteDir, name);
        break;
      }
    }
    if (!config) throw new BadInput(`${suiteDir} has no Playwright config (${CONFIG_NAMES.join(', ')})`);
    const cli = resolveCli(suiteDir);
    if (!cli) throw new BadInput(`@playwright/test is installed neither for the suite in ${suiteDir} nor for the worker`);
    const chromium = deps.chromiumPath ?? process.env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH;
    if (chromium && !(await isFile(chromium))) throw new BadInput(`the worker's Chromium ${chromium} does not exist`);

    const tmp = await mkdtemp(path.join(os.tmpdir(), 'slipway-playwright-'));
    try {
      const reportFile = path.join(tmp, 'report.json');
      const env: NodeJS.ProcessEnv = {};
      for (const name of [...PASSED_ENV, ...(deps.passEnv ?? [])]) {
        if (process.env[name] !== undefined) env[name] = process.env[name];
      }
      if (!chromium && process.env.PLAYWRIGHT_BROWSERS_PATH) env.PLAYWRIGHT_BROWSERS_PATH = process.env.PLAYWRIGHT_BROWSERS_PATH;
      Object.assign(env, input.env ?? {});
      env.PLAYWRIGHT_BASE_URL = input.baseUrl;
      if (input.apiUrl) env.API_URL = env.PLAYWRIGHT_API_URL = input.apiUrl;
      if (input.expectedRelease) env.EXPECTED_RELEASE = input.expectedRelease;
      env.PLAYWRIGHT_JSON_OUTPUT_NAME = reportFile;
      env.SLIPWAY_GATE = '1';
      env.FORCE_COLOR = '0';
      if (chromium) {
        const shim = await chromiumShim(tmp, chromium, cli, log);
        env.PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH = shim.launcher;
        if (shim.browsersPath) {
          env.PLAYWRIGHT_BROWSERS_PATH = shim.browsersPath;
          env.PLAYWRIGHT_SKIP_VALIDATE_HOST_REQUIREMENTS = '1';
        }
      }

      const args = [cli, 'test', '--config', config, '--reporter=list,json', `--output=${path.join(tmp, 'test-results')}`, '--forbid-only', `--workers=${input.workers ?? 1}`];
      if (input.retries !== undefined) args.push(`--retries=${input.retries}`);
      if (input.grep) args.push('--grep', input.grep);
      for (const p of input.projects ?? []) args.push('--project', p);
      if (input.timeoutSeconds) args.push(`--global-timeout=${Math.ceil(input.timeoutSeconds * 1000)}`);

      const progress: PlaywrightGateProgress = { phase: 'starting', done: 0, failed: 0 };
      const beat = () => ctx?.heartbeat({ ...progress });
      beat();
      const started = Date.now();
      const child = spawn(process.execPath, args, { cwd: suiteDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      track(child);
      log.info(`running the Playwright suite in ${suiteDir} against ${input.baseUrl}${input.grep ? ` (grep ${input.grep})` : ''}`, {
        pid: child.pid,
        suiteDir,
        baseUrl: input.baseUrl,
      });

      const stderrTail: string[] = [];
      const stdoutTail: string[] = [];
      const keep = (tail: string[], line: string) => {
        tail.push(line);
        if (tail.length > 40) tail.shift();
      };
      const lines = (stream: NodeJS.ReadableStream, onLine: (line: string) => void) => {
        let buf = '';
        stream.setEncoding('utf8');
        stream.on('data', (chunk: string) => {
          buf += chunk;
          let i: number;
          while ((i = buf.indexOf('\n')) >= 0) {
            onLine(stripAnsi(buf.slice(0, i)).trimEnd());
            buf = buf.slice(i + 1);
          }
        });
        stream.on('end', () => buf && onLine(stripAnsi(buf).trimEnd()));
      };
      lines(child.stdout!, (line) => {
        keep(stdoutTail, line);
        const total = /^Running (\d+) tests? using/.exec(line.trim());
        if (total) {
          progress.phase = 'running';
          progress.total = Number(total[1]);
        }
        const test = /^\s*(✓|✘|-|°|ok|x)\s+\d+\s/.exec(line);
        if (test) {
          progress.done++;
          if (test[1] === '✘' || test[1] === 'x') progress.failed++;
          progress.last = line.trim().slice(0, 300);
          log.debug(`playwright: ${line.trim()}`);
        }
      });
      lines(child.stderr!, (line) => keep(stderrTail, line));

      let stopReason: 'cancelled' | 'timeout' | undefined;
      const stop = (why: 'cancelled' | 'timeout') => {
        if (stopReason) return;
        stopReason = why;
        progress.phase = 'stopping';
        log.warn(`stopping the Playwright suite in ${suiteDir}: ${why === 'cancelled' ? 'the activity was cancelled' : 'it ran out of time'}`, { pid: child.pid });
        killGroup(child, 'SIGTERM');
        setTimeout(() => killGroup(child, 'SIGKILL'), 5000).unref();
      };
      const signal = ctx?.cancellationSignal;
      const onAbort = () => stop('cancelled');
      signal?.addEventListener('abort', onAbort);
      if (signal?.aborted) onAbort();
      const timer = setInterval(beat, heartbeatMs);
      const deadline = input.timeoutSeconds ? setTimeout(() => stop('timeout'), input.timeoutSeconds * 1000 + killGraceMs) : undefined;

      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
        child.once('error', (error) => resolve({ code: null, signal: null, error }));
        child.once('close', (code, sig) => resolve({ code, signal: sig }));
      });
      clearInterval(timer);
      if (deadline) clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      // Workers or browsers left behind by a runner that died or was stopped.
      killGroup(child, 'SIGKILL');
      const durationMs = Date.now() - started;
      if (!stopReason) {
        progress.phase = 'finished';
        beat();
      }

      if (stopReason === 'cancelled' && signal) throw cancellation(signal);
      if (stopReason === 'timeout') {
        throw new PlaywrightTimedOut(`the Playwright suite in ${suiteDir} ran past its ${input.timeoutSeconds}s budget and was killed`);
      }
      if (exit.error) throw new PlaywrightCrashed(`could not start Playwright for ${suiteDir}: ${exit.error.message}`);

      let report: GateReport | undefined;
      try {
        report = JSON.parse(await readFile(reportFile, 'utf8')) as GateReport;
      } catch {
        report = undefined;
      }
      if (!report) {
        const output = outputTail([...stderrTail, ...stdoutTail]);
        if (exit.signal) throw new PlaywrightCrashed(`Playwright was killed (${exit.signal}) while running ${suiteDir}${output ? `: ${output}` : ''}`);
        throw new BadInput(`Playwright could not run the suite in ${suiteDir} (exit code ${exit.code}): ${output || 'no output'}`);
      }

      const t = judgeReport(report, { suiteDir, grep: input.grep });
      if (t.kind === 'cannot-run') throw new BadInput(t.message);
      if (t.kind === 'no-verdict') throw new PlaywrightCrashed(t.message);
      const { failures, ok } = t;
      const result: GateResult = {
        passed: t.passed,
        failed: t.failed,
        flaky: t.flaky,
        skipped: t.skipped,
        failures,
        durationMs,
        ok,
        ...(t.flakyTests && { flakyTests: t.flakyTests }),
      };
      log.info(
        `Playwright gate ${ok ? 'passed' : 'failed'}: ${t.passed} passed, ${t.failed} failed, ${t.flaky} flaky, ${t.skipped} skipped in ${Math.round(durationMs / 100) / 10}s`,
        { ok, passed: t.passed, failed: t.failed, flaky: t.flaky, skipped: t.skipped },
      );
      return result;
    } finally {
      await rm(tmp, { recursive: true, force: true }).catch(() => {});
    }
  }

  return runPlaywrightGate;
}
