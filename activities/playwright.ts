/**
 * Test gates of the promotion pipeline: a team's Playwright suite run against a live
 * environment (`runPlaywrightGate`), or a GitHub Actions workflow dispatched and waited for
 * (`dispatchGitHubGate`). A gate's verdict is its result (`ok`); an error means there is no
 * verdict: the suite could not run (non-retryable `BadInput`) or something outside the
 * tests broke (retryable: crashed browser, unreachable GitHub).
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
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';
import type { Octokit } from '@octokit/rest';
import { Context } from '@temporalio/activity';
import { BadInput } from '../domain/errors';
import { type GitHubLog, rethrowGitHub } from './github';

// ---------------------------------------------------------------------------------------
// Types

/** Where the gates report what they do (Temporal's activity logger fits). */
export type GateLog = GitHubLog;

export interface PlaywrightDeps {
  /**
   * A Chromium to run suites with instead of Playwright's downloaded browsers (Debian's
   * `/usr/bin/chromium`). Default `$PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH` of the worker; without
   * either, suites use Playwright's own browsers.
   */
  chromiumPath?: string;
  /** Directory that relative `suiteDir`s are resolved against. Default the worker's working directory. */
  cwd?: string;
  /** Default: the activity's logger (nothing outside an activity). */
  log?: GateLog;
  /** For `dispatchGitHubGate`: a client from `createGitHubClient` (the token needs Actions: write). */
  github?: Octokit;
  /** Further variables of the worker's environment to pass to suites (by name). */
  passEnv?: string[];
  /** Heartbeat interval while a gate runs. Default 2000 ms. */
  heartbeatMs?: number;
  /** Extra time a suite gets after `timeoutSeconds` to end on its own before it is killed. Default 30 s. */
  killGraceMs?: number;
}

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

export interface GateFailure {
  /** Full title path: `[project] › file › describe › test` (`(suite)` for errors outside any test). */
  title: string;
  /** The first lines of the error. */
  error: string;
}

export interface GateResult {
  passed: number;
  failed: number;
  /** Failed, then passed on a retry. */
  flaky: number;
  skipped: number;
  failures: GateFailure[];
  durationMs: number;
  /** No test failed, no error outside the tests, and at least one test passed. */
  ok: boolean;
}

export interface GitHubGateInput {
  owner: string;
  repo: string;
  /** The workflow's file name (`e2e.yml`) or numeric id. It needs a `workflow_dispatch` trigger. */
  workflow: string;
  /** Branch or tag to run the workflow at. */
  ref: string;
  /** The workflow's `workflow_dispatch` inputs (at most 24: one more is the marker). */
  inputs?: Record<string, string | number | boolean>;
  /** Interval between looks at the run. Default 15 s. */
  pollSeconds?: number;
  /** How long to look for the run a dispatch created before failing (retryably). Default 120 s. */
  findSeconds?: number;
  /**
   * Value of the `slipway-run-id` input that identifies the run (through its `run-name`).
   * Default: derived from the activity, the same for all its attempts.
   */
  marker?: string;
}

export interface GitHubGateResult {
  ok: boolean;
  /** The run's conclusion: `success`, `failure`, `cancelled`, `timed_out`, … */
  conclusion: string;
  runUrl: string;
  runId: number;
  marker: string;
}

/** What `dispatchGitHubGate` heartbeats, and resumes from on a retry. */
export interface GitHubGateProgress {
  marker: string;
  /** A dispatch was being sent (epoch ms): it may or may not have created a run. */
  dispatchingAt?: number;
  /** GitHub accepted the dispatch (its clock when known, epoch ms). */
  dispatchedAt?: number;
  /** False when the workflow refused the marker input: its run is found by time. */
  markerInput?: boolean;
  runId?: number;
  runUrl?: string;
  status?: string;
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

/** A dispatched workflow's run did not show up in time. Retryable: the next attempt looks for it again before dispatching. */
export class GitHubRunNotFound extends Error {
  override name = 'GitHubRunNotFound';
}

// ---------------------------------------------------------------------------------------
// Constants

/** Config file names Playwright looks for, in its order. */
const CONFIG_NAMES = ['playwright.config.ts', 'playwright.config.js', 'playwright.config.mts', 'playwright.config.mjs', 'playwright.config.cts', 'playwright.config.cjs'];

/** Flags a system Chromium needs to run headless in a container: no sandbox, no GPU, no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

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

/** Failures that say the browser is not there: a worker set-up problem, not a verdict. */
const BROWSER_MISSING = /executable doesn't exist|Looks like Playwright Test or Playwright was just installed or updated|npx playwright install/i;
/** Failures that say the browser could not start or died: no verdict, worth another attempt. */
const BROWSER_BROKEN = /browserType\.launch|Browser closed|browser has been closed|browser has disconnected|Target crashed/i;

const MAX_FAILURES = 50;
const ERROR_LINES = 5;
const ERROR_CHARS = 1000;

/** The input through which a dispatched workflow carries the gate's marker (into its `run-name`). */
export const MARKER_INPUT = 'slipway-run-id';
const MARKER_PREFIX = 'slipway-';

const noop = () => {};
const SILENT: GateLog = { debug: noop, info: noop, warn: noop, error: noop };

// ---------------------------------------------------------------------------------------
// Helpers

function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

function contextLog(ctx: Context | undefined): GateLog {
  if (!ctx) return SILENT;
  const l = ctx.log;
  return {
    debug: (m, meta) => l.debug(m, meta),
    info: (m, meta) => l.info(m, meta),
    warn: (m, meta) => l.warn(m, meta),
    error: (m, meta) => l.error(m, meta),
  };
}

/** Why the activity was cancelled, as an Error to rethrow. */
function cancellation(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`cancelled${reason ? `: ${String(reason)}` : ''}`);
}

function isHttpUrl(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  try {
    const u = new URL(value);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

function stripAnsi(text: string): string {
  return stripVTControlCharacters(text);
}

/** The first non-empty lines of an error message, without colours. */
function firstLines(message: string): string {
  const lines = stripAnsi(message)
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  const text = lines.slice(0, ERROR_LINES).join('\n');
  return text.length > ERROR_CHARS ? `${text.slice(0, ERROR_CHARS - 1)}…` : text;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
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

/** Directory names of Playwright's Chromium builds (`chromium-1255`, `chromium_headless_shell-1255`), from the CLI's playwright-core. */
function chromiumBrowserDirs(cli: string): string[] {
  const from = [path.dirname(cli)];
  try {
    from.unshift(path.dirname(require.resolve('playwright/package.json', { paths: [path.dirname(cli)] })));
  } catch {
    // the CLI is playwright's own
  }
  const pkg = require.resolve('playwright-core/package.json', { paths: from });
  const browsers = JSON.parse(readFileSync(path.join(path.dirname(pkg), 'browsers.json'), 'utf8')).browsers as { name: string; revision: string }[];
  return browsers
    .filter((b) => b.name === 'chromium' || b.name === 'chromium-headless-shell')
    .map((b) => `${b.name.replace(/-/g, '_')}-${b.revision}`);
}

/** Where Playwright versions look for Chromium inside a browser directory (older and newer layouts, x64 and arm64). */
const CHROMIUM_LAYOUTS = [
  'chrome-linux/chrome',
  'chrome-linux/headless_shell',
  'chrome-linux64/chrome',
  'chrome-linux-arm64/chrome',
  'chrome-headless-shell-linux64/chrome-headless-shell',
  'chrome-headless-shell-linux-arm64/chrome-headless-shell',
];

/**
 * A launcher for `chromium` that adds CHROMIUM_ARGS, and (on Linux) a browsers directory
 * whose Chromium builds are that launcher.
 */
async function chromiumShim(tmp: string, chromium: string, cli: string, log: GateLog): Promise<{ launcher: string; browsersPath?: string }> {
  const launcher = path.join(tmp, 'chromium');
  await writeFile(launcher, `#!/bin/sh\nexec ${shellQuote(chromium)} ${CHROMIUM_ARGS.join(' ')} "$@"\n`);
  await chmod(launcher, 0o755);
  if (process.platform !== 'linux') return { launcher };
  let dirs: string[];
  try {
    dirs = chromiumBrowserDirs(cli);
  } catch (err) {
    log.warn(`cannot read Playwright's browser list (${String(err)}); only configs that read PLAYWRIGHT_CHROMIUM_EXECUTABLE_PATH will use ${chromium}`);
    return { launcher };
  }
  const browsersPath = path.join(tmp, 'browsers');
  for (const dir of dirs) {
    for (const layout of CHROMIUM_LAYOUTS) {
      const file = path.join(browsersPath, dir, layout);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, `#!/bin/sh\nexec ${shellQuote(launcher)} "$@"\n`);
      await chmod(file, 0o755);
    }
    // Tells Playwright the host was checked (its check runs ldd over the directory).
    await writeFile(path.join(browsersPath, dir, 'DEPENDENCIES_VALIDATED'), '');
  }
  return { launcher, browsersPath };
}

/**
 * Kills a detached child's whole process group (the runner, its workers and their
 * browsers), also after the runner itself has exited.
 */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone
  }
}

/** Running suites, killed if the worker process exits first. */
const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of running) killGroup(c, 'SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

// ---------------------------------------------------------------------------------------
// The JSON report

interface ReportError {
  message?: string;
  stack?: string;
  location?: { file: string; line: number; column: number };
}

interface ReportResult {
  status?: string;
  retry: number;
  error?: ReportError;
  errors?: ReportError[];
}

interface ReportTest {
  projectName: string;
  status: 'skipped' | 'expected' | 'unexpected' | 'flaky';
  results: ReportResult[];
}

interface ReportSpec {
  title: string;
  tests: ReportTest[];
}

interface ReportSuite {
  title: string;
  specs?: ReportSpec[];
  suites?: ReportSuite[];
}

interface Report {
  suites?: ReportSuite[];
  errors?: ReportError[];
  stats?: { duration?: number };
}

interface Tally {
  passed: number;
  failed: number;
  flaky: number;
  skipped: number;
  failures: GateFailure[];
  suiteErrors: string[];
}

function errorText(e: ReportError | undefined): string {
  if (!e) return '';
  const where = e.location ? ` (${path.basename(e.location.file)}:${e.location.line})` : '';
  return firstLines(e.message ?? e.stack ?? '') + where;
}

function tally(report: Report): Tally {
  const t: Tally = { passed: 0, failed: 0, flaky: 0, skipped: 0, failures: [], suiteErrors: [] };
  const walk = (suite: ReportSuite, titles: string[]) => {
    const here = [...titles, suite.title].filter((x) => x !== '');
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        const last = test.results.at(-1);
        // A test cut short by the run's timeout did not pass: a failure, not a skip.
        const interrupted = last?.status === 'interrupted';
        if (test.status === 'expected') t.passed++;
        else if (test.status === 'flaky') t.flaky++;
        else if (test.status === 'skipped' && !interrupted) t.skipped++;
        else {
          t.failed++;
          const title = [...(test.projectName ? [`[${test.projectName}]`] : []), ...here, spec.title].join(' › ');
          const error = errorText(last?.error ?? last?.errors?.[0]) || (interrupted ? 'interrupted: the run ran out of time' : `test ${last?.status ?? 'failed'}`);
          t.failures.push({ title, error });
        }
      }
    }
    for (const child of suite.suites ?? []) walk(child, here);
  };
  for (const s of report.suites ?? []) walk(s, []);
  t.suiteErrors = (report.errors ?? []).map(errorText).filter((e) => e !== '');
  return t;
}

// ---------------------------------------------------------------------------------------
// Activities

export function createPlaywrightActivities(deps: PlaywrightDeps = {}) {
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

  return {
    /**
     * Runs a team's Playwright suite against a live environment and returns its verdict:
     * counts, failing tests with the first lines of their errors, `ok`. Failing tests are a
     * verdict (`ok: false`), not an error. Errors: `BadInput` when the suite cannot run
     * (no directory, no config, no Playwright, a file that does not load, no test matching
     * `grep`, no browser installed); `PlaywrightCrashed` (retryable) when the browser or the
     * runner died; `PlaywrightTimedOut` (retryable) when it had to be killed. Heartbeats
     * progress; a cancelled activity kills the run's whole process group.
     */
    async runPlaywrightGate(input: PlaywrightGateInput): Promise<GateResult> {
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

        const args = [
          cli,
          'test',
          '--config',
          config,
          '--reporter=list,json',
          `--output=${path.join(tmp, 'test-results')}`,
          '--forbid-only',
          `--workers=${input.workers ?? 1}`,
        ];
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

        let report: Report | undefined;
        try {
          report = JSON.parse(await readFile(reportFile, 'utf8')) as Report;
        } catch {
          report = undefined;
        }
        const output = firstLines([...stderrTail, ...stdoutTail].filter((l) => l.trim()).slice(-ERROR_LINES * 4).join('\n'));
        if (!report) {
          if (exit.signal) throw new PlaywrightCrashed(`Playwright was killed (${exit.signal}) while running ${suiteDir}${output ? `: ${output}` : ''}`);
          throw new BadInput(`Playwright could not run the suite in ${suiteDir} (exit code ${exit.code}): ${output || 'no output'}`);
        }

        const t = tally(report);
        const ran = t.passed + t.failed + t.flaky + t.skipped;
        if (ran === 0 && t.suiteErrors.length) {
          const noTests = (e: string) => /^Error: No tests found/i.test(e);
          const loadErrors = t.suiteErrors.filter((e) => !noTests(e));
          if (loadErrors.length) throw new BadInput(`Playwright gate in ${suiteDir}: the suite failed before running any test: ${loadErrors.join('\n')}`);
          throw new BadInput(`Playwright gate in ${suiteDir}: no test${input.grep ? ` matches ${JSON.stringify(input.grep)}` : ''} in the suite`);
        }
        const finalErrors = t.failures.map((f) => f.error);
        const missing = finalErrors.find((e) => BROWSER_MISSING.test(e));
        if (missing) throw new BadInput(`the browser of the Playwright suite in ${suiteDir} is not installed on the worker: ${missing}`);
        const broken = t.failures.find((f) => BROWSER_BROKEN.test(f.error));
        if (broken) {
          throw new PlaywrightCrashed(`the browser failed while running ${suiteDir}, so the run has no verdict: ${broken.title}: ${broken.error}`);
        }

        const failures = [...t.suiteErrors.map((error) => ({ title: '(suite)', error })), ...t.failures];
        if (t.failed === 0 && t.suiteErrors.length === 0 && t.passed + t.flaky === 0) {
          failures.push({ title: '(suite)', error: `no test passed: ${t.skipped} skipped` });
        }
        const ok = failures.length === 0;
        if (failures.length > MAX_FAILURES) {
          const more = failures.length - MAX_FAILURES + 1;
          failures.splice(MAX_FAILURES - 1, failures.length, { title: `… and ${more} more`, error: '' });
        }
        const result: GateResult = { passed: t.passed, failed: t.failed, flaky: t.flaky, skipped: t.skipped, failures, durationMs, ok };
        log.info(
          `Playwright gate ${ok ? 'passed' : 'failed'}: ${t.passed} passed, ${t.failed} failed, ${t.flaky} flaky, ${t.skipped} skipped in ${Math.round(durationMs / 100) / 10}s`,
          { ok, passed: t.passed, failed: t.failed, flaky: t.flaky, skipped: t.skipped },
        );
        return result;
      } finally {
        await rm(tmp, { recursive: true, force: true }).catch(() => {});
      }
    },

    /**
     * Dispatches a GitHub Actions workflow and waits for the run it created: `ok` when it
     * concluded `success`. The run is identified by the `slipway-run-id` input, which the
     * workflow should declare and put in its `run-name`; a workflow without that input is
     * dispatched without it and its run found by time (the newest created after the dispatch).
     * Idempotent across attempts: progress (dispatch time, run id) is heartbeated, and an
     * attempt looks for the run before dispatching. A cancelled activity cancels the run.
     */
    async dispatchGitHubGate(input: GitHubGateInput): Promise<GitHubGateResult> {
      const client = deps.github;
      if (!client) throw new BadInput('a GitHub gate needs a GitHub token for the worker (with Actions: write on the repository)');
      const problems: string[] = [];
      const name = /^[A-Za-z0-9_.-]+$/;
      if (!name.test(String(input?.owner ?? ''))) problems.push(`owner: not a GitHub account: ${JSON.stringify(input?.owner)}`);
      if (!name.test(String(input?.repo ?? ''))) problems.push(`repo: not a repository name: ${JSON.stringify(input?.repo)}`);
      if (typeof input?.workflow !== 'string' || !/^(?:\d+|[\w.-]+\.ya?ml)$/.test(input.workflow)) {
        problems.push(`workflow: a workflow file name (e2e.yml) or id is required, got ${JSON.stringify(input?.workflow)}`);
      }
      if (typeof input?.ref !== 'string' || !input.ref.trim()) problems.push('ref: a branch or tag is required');
      const inputs = input?.inputs ?? {};
      if (typeof inputs !== 'object' || Array.isArray(inputs)) problems.push('inputs: an object is required');
      else {
        if (MARKER_INPUT in inputs) problems.push(`inputs: ${MARKER_INPUT} is set by the gate`);
        if (Object.keys(inputs).length > 24) problems.push('inputs: at most 24 (GitHub takes 25, one is the marker)');
        for (const [k, v] of Object.entries(inputs)) {
          if (!['string', 'number', 'boolean'].includes(typeof v)) problems.push(`inputs: ${k} must be a string, number or boolean`);
        }
      }
      for (const key of ['pollSeconds', 'findSeconds'] as const) {
        const v = input?.[key];
        if (v !== undefined && !(typeof v === 'number' && v > 0)) problems.push(`${key}: a positive number is required, got ${JSON.stringify(v)}`);
      }
      if (input?.marker !== undefined && !/^[\w.-]{1,100}$/.test(input.marker)) problems.push('marker: letters, digits, `_`, `.` and `-` only');
      if (problems.length) throw new BadInput(`invalid GitHub gate: ${problems.join('; ')}`, problems);

      const github: Octokit = client;
      const { owner, repo, workflow, ref } = input;
      const ctx = activityContext();
      const log = deps.log ?? contextLog(ctx);
      const signal = ctx?.cancellationSignal;
      const pollMs = (input.pollSeconds ?? 15) * 1000;
      const findMs = (input.findSeconds ?? 120) * 1000;
      const where = `${workflow} in ${owner}/${repo}`;
      const tokenNeeds = 'the repo and workflow scopes (classic token) or Actions: write (fine-grained token)';
      const notFound = `GitHub workflow ${where} was not found, or GITHUB_TOKEN cannot see it`;

      const saved = (ctx?.info.heartbeatDetails ?? undefined) as GitHubGateProgress | undefined;
      const marker = input.marker ?? saved?.marker ?? derivedMarker(ctx);
      const progress: GitHubGateProgress = { ...saved, marker };
      const beat = () => ctx?.heartbeat({ ...progress });

      const wait = async (ms: number) => {
        try {
          await sleep(ms, undefined, signal ? { signal } : undefined);
        } catch (err) {
          if (signal?.aborted) throw cancellation(signal);
          throw err;
        }
      };
      const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
        try {
          return await fn();
        } catch (err) {
          if (signal?.aborted) throw cancellation(signal);
          rethrowGitHub(err, what, { notFound, tokenNeeds });
        }
      };

      type Run = { id: number; display_title?: string; name?: string | null; created_at: string; html_url: string; status: string | null; conclusion: string | null };
      const carries = (run: Run, m: string) => (run.display_title ?? '').includes(m) || (run.name ?? '').includes(m);
      /** Runs of the workflow dispatched since `since`, newest first. */
      const recentRuns = async (since: number): Promise<Run[]> => {
        const res = await call(`listing the runs of ${where}`, () =>
          github.rest.actions.listWorkflowRuns({
            owner,
            repo,
            workflow_id: workflow,
            event: 'workflow_dispatch',
            created: `>=${new Date(since).toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
            per_page: 100,
            request: { signal },
          }),
        );
        return res.data.workflow_runs as Run[];
      };
      /** The run this gate dispatched: by its marker, else (when allowed) the newest not carrying another gate's marker. */
      const pick = (runs: Run[], byTime: boolean): Run | undefined => {
        const mine = runs.find((r) => carries(r, marker));
        if (mine || !byTime) return mine;
        return runs.find((r) => !carries(r, MARKER_PREFIX));
      };

      let runId = saved?.runId;
      if (runId === undefined) {
        // An earlier attempt may have dispatched already: look before dispatching again.
        const sent = saved?.dispatchedAt ?? saved?.dispatchingAt;
        const since = (sent ?? Date.now() - 86_400_000) - 60_000;
        const earlier = pick(await recentRuns(since), sent !== undefined && saved?.markerInput === false);
        if (earlier) {
          runId = earlier.id;
          log.info(`found run ${earlier.html_url} of ${where} dispatched by an earlier attempt; not dispatching again`, { runId, marker });
        } else if (saved?.dispatchedAt !== undefined) {
          // Accepted, but not listed yet.
          runId = await findRun(saved.dispatchedAt, saved.markerInput === false);
        }
      }
      if (runId === undefined) runId = await dispatch();
      progress.runId = runId;
      beat();

      async function dispatch(): Promise<number> {
        const send = async (withMarker: boolean) => {
          progress.dispatchingAt = Date.now();
          progress.markerInput = withMarker;
          beat();
          const body = { ref, inputs: withMarker ? { ...stringInputs(inputs), [MARKER_INPUT]: marker } : stringInputs(inputs), return_run_details: true };
          return github.request('POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches', {
            owner,
            repo,
            workflow_id: workflow,
            ...body,
            request: { signal },
          } as Parameters<typeof github.rest.actions.createWorkflowDispatch>[0]);
        };
        const what = `dispatching ${where} at ${ref}`;
        let res: Awaited<ReturnType<typeof send>>;
        try {
          res = await send(true);
        } catch (err) {
          const e = err as { status?: number; message?: string; response?: { data?: { message?: string } } };
          const message = String(e.response?.data?.message ?? e.message ?? '');
          if (e.status !== 422 || !/Unexpected inputs/i.test(message) || !message.includes(MARKER_INPUT)) {
            if (signal?.aborted) throw cancellation(signal);
            rethrowGitHub(err, what, { notFound, tokenNeeds });
          }
          log.warn(
            `${where} does not declare the '${MARKER_INPUT}' input: dispatching without it and taking the newest run after the dispatch. ` +
              `Declare the input and put it in the workflow's run-name so that the run is identified for sure.`,
          );
          res = await call(what, () => send(false));
        }
        // GitHub's clock stamps the run; prefer it to ours for matching.
        const serverDate = Date.parse(String(res.headers.date ?? ''));
        progress.dispatchedAt = Number.isNaN(serverDate) ? progress.dispatchingAt! : Math.min(progress.dispatchingAt!, serverDate);
        beat();
        const details = res.data as { workflow_run_id?: number } | undefined;
        if ((res.status as number) === 200 && typeof details?.workflow_run_id === 'number') {
          log.info(`dispatched ${where} at ${ref}: run ${details.workflow_run_id}`, { runId: details.workflow_run_id, marker });
          return details.workflow_run_id;
        }
        log.info(`dispatched ${where} at ${ref}; looking for its run`, { marker });
        return findRun(progress.dispatchedAt!, progress.markerInput === false);
      }

      async function findRun(dispatchedAt: number, byTimeOnly: boolean): Promise<number> {
        const deadline = Date.now() + findMs;
        // Runs are listed with a lag of seconds. A workflow whose run-name leaves out the marker
        // is only matched by time once ours should have been listed, so that another run
        // (a person's) listed first is not taken for it.
        const byTimeFrom = Date.now() + Math.min(findMs / 2, 30_000);
        for (;;) {
          beat();
          const runs = await recentRuns(dispatchedAt - 5000);
          const run = pick(runs, byTimeOnly || Date.now() >= byTimeFrom);
          if (run) {
            if (!carries(run, marker)) {
              log.warn(`the run of ${where} does not carry the marker ${marker} in its title; taking the newest run after the dispatch: ${run.html_url}`);
            }
            return run.id;
          }
          if (Date.now() >= deadline) {
            throw new GitHubRunNotFound(`dispatched ${where} at ${ref}, but no run of it appeared within ${findMs / 1000}s (marker ${marker})`);
          }
          await wait(Math.min(pollMs, 5000));
        }
      }

      // Wait for the run to complete.
      for (;;) {
        let run: Run;
        try {
          run = (await call(`reading run ${runId} of ${where}`, () => github.rest.actions.getWorkflowRun({ owner, repo, run_id: runId!, request: { signal } }))).data as Run;
        } catch (err) {
          if (signal?.aborted) await cancelRun(runId);
          throw err;
        }
        progress.runUrl = run.html_url;
        if (run.status !== progress.status) log.info(`run ${run.html_url} of ${where} is ${run.status}`, { runId, status: run.status });
        progress.status = run.status ?? undefined;
        beat();
        if (run.status === 'completed') {
          const conclusion = run.conclusion ?? 'unknown';
          log.info(`run ${run.html_url} of ${where} concluded ${conclusion}`, { runId, conclusion });
          return { ok: conclusion === 'success', conclusion, runUrl: run.html_url, runId, marker };
        }
        try {
          await wait(pollMs);
        } catch (err) {
          await cancelRun(runId);
          throw err;
        }
      }

      /** Best effort: the gate is no longer waited for, so its run need not go on. */
      async function cancelRun(id: number): Promise<void> {
        try {
          await github.rest.actions.cancelWorkflowRun({ owner, repo, run_id: id });
          log.info(`cancelled run ${id} of ${where}`, { runId: id });
        } catch (err) {
          log.warn(`could not cancel run ${id} of ${where}: ${(err as Error).message}`, { runId: id });
        }
      }
    },
  };
}

export type PlaywrightActivities = ReturnType<typeof createPlaywrightActivities>;

/** GitHub takes workflow inputs as strings. */
function stringInputs(inputs: Record<string, string | number | boolean>): Record<string, string> {
  return Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, String(v)]));
}

/** `slipway-<12 hex>`: the same for every attempt of one activity, different for any other. */
function derivedMarker(ctx: Context | undefined): string {
  const seed = ctx
    ? `${ctx.info.workflowNamespace}/${ctx.info.workflowExecution?.workflowId}/${ctx.info.workflowExecution?.runId}/${ctx.info.activityId}`
    : randomUUID();
  return `${MARKER_PREFIX}${createHash('sha1').update(seed).digest('hex').slice(0, 12)}`;
}
