/**
 * A Playwright run's verdict, judged from its JSON report (`--reporter=json`). Pure: the
 * gate activity runs the suite and reads the report, this module counts and judges, and the
 * tests check it by table. The report's shapes are Playwright's own
 * (`@playwright/test/reporter`), of which only the fields read here are required.
 */
import type { JSONReportError, JSONReportSpec, JSONReportSuite, JSONReportTest, JSONReportTestResult, TestError } from '@playwright/test/reporter';

/** The parts of a JSON report the verdict reads; a whole `JSONReport` is one. */
export interface GateReport {
  suites?: ReportSuite[];
  /** Errors outside any test (a file that does not load, no test found). */
  errors?: TestError[];
}
type ReportSuite = Pick<JSONReportSuite, 'title'> & { specs?: ReportSpec[]; suites?: ReportSuite[] };
type ReportSpec = Pick<JSONReportSpec, 'title'> & { tests: ReportTest[] };
type ReportTest = Pick<JSONReportTest, 'projectName' | 'status'> & { results: ReportResult[] };
type ReportResult = Partial<Pick<JSONReportTestResult, 'status' | 'error' | 'errors'>>;

export interface GateFailure {
  /** Full title path: `[project] › file › describe › test` (`(suite)` for errors outside any test). */
  title: string;
  /** The first lines of the error. */
  error: string;
}

export interface ReportTally {
  passed: number;
  failed: number;
  /** Failed, then passed on a retry. */
  flaky: number;
  skipped: number;
  failures: GateFailure[];
  /** Titles of the tests that failed, then passed on a retry. */
  flakyTests: string[];
  /** First lines of the errors outside any test. */
  suiteErrors: string[];
}

/** What a report says: a verdict (`ok` or not), or no verdict, with why. */
export type ReportJudgement =
  | { kind: 'verdict'; passed: number; failed: number; flaky: number; skipped: number; failures: GateFailure[]; ok: boolean; flakyTests?: string[] }
  /** The suite could not run as asked (no test, a file that does not load, no browser installed): not worth retrying. */
  | { kind: 'cannot-run'; message: string }
  /** The browser could not start or died: the tests said nothing, another attempt may. */
  | { kind: 'no-verdict'; message: string };

/** At most this many failures are listed (the last line says how many more). */
export const MAX_FAILURES = 50;
const ERROR_LINES = 5;
const ERROR_CHARS = 1000;

/** Failures that say the browser is not there: a worker set-up problem, not a verdict. */
const BROWSER_MISSING = /executable doesn't exist|Looks like Playwright Test or Playwright was just installed or updated|npx playwright install/i;
/** Failures that say the browser could not start or died: no verdict, worth another attempt. */
const BROWSER_BROKEN = /browserType\.launch|Browser closed|browser has been closed|browser has disconnected|Target crashed/i;

/**
 * Terminal control sequences (ECMA-48): CSI `ESC [ params intermediates final` (also the
 * one-byte CSI 0x9B), OSC `ESC ] … BEL|ST`, and two-character escapes. Written out here,
 * not taken from node:util: workflow code (the pipeline) imports this module, and the
 * workflow bundle has no Node modules.
 */
const ESC = String.fromCharCode(0x1b);
const BEL = String.fromCharCode(0x07);
const CSI = String.fromCharCode(0x9b);
const CONTROL_SEQUENCE = new RegExp(`(?:${ESC}\\[|${CSI})[0-?]*[ -/]*[@-~]|${ESC}\\][^${BEL}${ESC}]*(?:${BEL}|${ESC}\\\\)|${ESC}[@-Z\\\\-_]`, 'g');

export function stripAnsi(text: string): string {
  return text.replace(CONTROL_SEQUENCE, '');
}

/** The first non-empty lines of an error message (at most 5 lines, 1000 characters), without colours. */
export function firstLines(message: string): string {
  const lines = stripAnsi(message)
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  const text = lines.slice(0, ERROR_LINES).join('\n');
  return text.length > ERROR_CHARS ? `${text.slice(0, ERROR_CHARS - 1)}…` : text;
}

/** The last lines of a run's output worth quoting when it left no report. */
export function outputTail(lines: string[]): string {
  return firstLines(
    lines
      .filter((l) => l.trim())
      .slice(-ERROR_LINES * 4)
      .join('\n'),
  );
}

function errorText(e: TestError | JSONReportError | undefined): string {
  if (!e) return '';
  const where = e.location ? ` (${e.location.file.slice(e.location.file.lastIndexOf('/') + 1)}:${e.location.line})` : '';
  return firstLines(e.message ?? ('stack' in e ? e.stack : undefined) ?? '') + where;
}

/** Counts the tests of a report by outcome and lists the failing ones with the first lines of their errors. */
export function tallyReport(report: GateReport): ReportTally {
  const t: ReportTally = { passed: 0, failed: 0, flaky: 0, skipped: 0, failures: [], flakyTests: [], suiteErrors: [] };
  const walk = (suite: ReportSuite, titles: string[]) => {
    const here = [...titles, suite.title].filter((x) => x !== '');
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        const last = test.results.at(-1);
        // A test cut short by the run's timeout did not pass: a failure, not a skip.
        const interrupted = last?.status === 'interrupted';
        const title = [...(test.projectName ? [`[${test.projectName}]`] : []), ...here, spec.title].join(' › ');
        if (test.status === 'expected') t.passed++;
        else if (test.status === 'flaky') {
          t.flaky++;
          t.flakyTests.push(title);
        } else if (test.status === 'skipped' && !interrupted) t.skipped++;
        else {
          t.failed++;
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

/**
 * The gate's judgement of a report: `ok` when no test failed, nothing broke outside the
 * tests and at least one test passed. No test run at all, or a browser that is not
 * installed, means the suite cannot run; a browser that failed means there is no verdict.
 */
export function judgeReport(report: GateReport, run: { suiteDir: string; grep?: string }): ReportJudgement {
  const t = tallyReport(report);
  const ran = t.passed + t.failed + t.flaky + t.skipped;
  if (ran === 0 && t.suiteErrors.length) {
    const noTests = (e: string) => /^Error: No tests found/i.test(e);
    const loadErrors = t.suiteErrors.filter((e) => !noTests(e));
    if (loadErrors.length) return { kind: 'cannot-run', message: `Playwright gate in ${run.suiteDir}: the suite failed before running any test: ${loadErrors.join('\n')}` };
    return { kind: 'cannot-run', message: `Playwright gate in ${run.suiteDir}: no test${run.grep ? ` matches ${JSON.stringify(run.grep)}` : ''} in the suite` };
  }
  const missing = t.failures.map((f) => f.error).find((e) => BROWSER_MISSING.test(e));
  if (missing) return { kind: 'cannot-run', message: `the browser of the Playwright suite in ${run.suiteDir} is not installed on the worker: ${missing}` };
  const broken = t.failures.find((f) => BROWSER_BROKEN.test(f.error));
  if (broken) return { kind: 'no-verdict', message: `the browser failed while running ${run.suiteDir}, so the run has no verdict: ${broken.title}: ${broken.error}` };

  const failures = [...t.suiteErrors.map((error) => ({ title: '(suite)', error })), ...t.failures];
  if (t.failed === 0 && t.suiteErrors.length === 0 && t.passed + t.flaky === 0) {
    failures.push({ title: '(suite)', error: `no test passed: ${t.skipped} skipped` });
  }
  const ok = failures.length === 0;
  if (failures.length > MAX_FAILURES) {
    const more = failures.length - MAX_FAILURES + 1;
    failures.splice(MAX_FAILURES - 1, failures.length, { title: `… and ${more} more`, error: '' });
  }
  return {
    kind: 'verdict',
    passed: t.passed,
    failed: t.failed,
    flaky: t.flaky,
    skipped: t.skipped,
    failures,
    ok,
    ...(t.flakyTests.length && { flakyTests: t.flakyTests.slice(0, MAX_FAILURES) }),
  };
}
