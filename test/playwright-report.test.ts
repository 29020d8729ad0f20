/**
 * The Playwright gate's judgement of a JSON report, by table: counts, failure titles and
 * errors, and when a report means the suite could not run or gave no verdict.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JSONReportTest } from '@playwright/test/reporter';
import { gateSummary } from '../domain/gates';
import { type GateFailure, type GateReport, judgeReport, MAX_FAILURES, type ReportJudgement, tallyReport } from '../domain/playwright-report';

type Status = JSONReportTest['status'];
interface T {
  title: string;
  status: Status;
  /** Status of the last attempt, when it matters. */
  last?: 'passed' | 'failed' | 'timedOut' | 'skipped' | 'interrupted';
  error?: string;
  file?: string;
  project?: string;
}

/** A report of one file suite (`smoke.spec.ts`) with one describe block (`home`) holding `tests`. */
function report(tests: T[], errors: string[] = []): GateReport {
  return {
    suites: [
      {
        title: 'smoke.spec.ts',
        specs: [],
        suites: [
          {
            title: 'home',
            specs: tests.map((t) => ({
              title: t.title,
              tests: [
                {
                  projectName: t.project ?? 'chromium',
                  status: t.status,
                  results: [
                    {
                      status: t.last ?? (t.status === 'expected' ? 'passed' : t.status === 'skipped' ? 'skipped' : 'failed'),
                      error: t.error ? { message: t.error, location: t.file ? { file: `/suite/tests/${t.file}`, line: 12, column: 3 } : undefined } : undefined,
                      errors: [],
                    },
                  ],
                },
              ],
            })),
          },
        ],
      },
    ],
    errors: errors.map((message) => ({ message })),
  };
}

const RUN = { suiteDir: '/suite' };

function verdict(ok: boolean, counts: Partial<Record<'passed' | 'failed' | 'flaky' | 'skipped', number>>, failures: GateFailure[] = [], flakyTests?: string[]): ReportJudgement {
  return { kind: 'verdict', passed: 0, failed: 0, flaky: 0, skipped: 0, ...counts, failures, ok, ...(flakyTests && { flakyTests }) };
}

describe('judgeReport', () => {
  const cases: { name: string; report: GateReport; grep?: string; expect: ReportJudgement }[] = [
    {
      name: 'every test passed: ok',
      report: report([
        { title: 'loads', status: 'expected' },
        { title: 'serves the release', status: 'expected' },
      ]),
      expect: verdict(true, { passed: 2 }),
    },
    {
      name: 'a failing test: not ok, titled by project, file, describe and test, with where it failed',
      report: report([
        { title: 'loads', status: 'expected' },
        { title: 'search works', status: 'unexpected', error: 'Error: expect(received).toBe(expected)\n\nExpected: 3\nReceived: 0', file: 'smoke.spec.ts' },
      ]),
      expect: verdict(false, { passed: 1, failed: 1 }, [
        { title: '[chromium] › smoke.spec.ts › home › search works', error: 'Error: expect(received).toBe(expected)\nExpected: 3\nReceived: 0 (smoke.spec.ts:12)' },
      ]),
    },
    {
      name: 'a flaky test (failed, then passed on a retry) counts as flaky, still ok',
      report: report([
        { title: 'loads', status: 'expected' },
        { title: 'slow page', status: 'flaky', last: 'passed' },
      ]),
      expect: verdict(true, { passed: 1, flaky: 1 }, [], ['[chromium] › smoke.spec.ts › home › slow page']),
    },
    {
      name: 'a test cut short by the run timeout is a failure, not a skip',
      report: report([
        { title: 'loads', status: 'expected' },
        { title: 'long one', status: 'skipped', last: 'interrupted' },
      ]),
      expect: verdict(false, { passed: 1, failed: 1 }, [{ title: '[chromium] › smoke.spec.ts › home › long one', error: 'interrupted: the run ran out of time' }]),
    },
    {
      name: 'a test that failed without an error message names its status',
      report: report([{ title: 'hangs', status: 'unexpected', last: 'timedOut' }]),
      expect: verdict(false, { failed: 1 }, [{ title: '[chromium] › smoke.spec.ts › home › hangs', error: 'test timedOut' }]),
    },
    {
      name: 'only skipped tests: no test passed, not ok',
      report: report([
        { title: 'a', status: 'skipped' },
        { title: 'b', status: 'skipped' },
      ]),
      expect: verdict(false, { skipped: 2 }, [{ title: '(suite)', error: 'no test passed: 2 skipped' }]),
    },
    {
      name: 'an error outside the tests beside passing ones: not ok, listed first',
      report: report([{ title: 'loads', status: 'expected' }], ['Error: worker teardown failed']),
      expect: verdict(false, { passed: 1 }, [{ title: '(suite)', error: 'Error: worker teardown failed' }]),
    },
    {
      name: 'no test matching grep: the suite cannot run',
      report: report([], ['Error: No tests found.\nMake sure that arguments are regular expressions matching test files.']),
      grep: '@deployment-smoketest',
      expect: { kind: 'cannot-run', message: 'Playwright gate in /suite: no test matches "@deployment-smoketest" in the suite' },
    },
    {
      name: 'a file that does not load: the suite cannot run',
      report: report([], ["Error: Cannot find module './helpers'"]),
      expect: { kind: 'cannot-run', message: "Playwright gate in /suite: the suite failed before running any test: Error: Cannot find module './helpers'" },
    },
    {
      name: 'no browser installed: the suite cannot run',
      report: report([{ title: 'loads', status: 'unexpected', error: "Error: browserType.launch: Executable doesn't exist at /ms-playwright/chromium-1/chrome" }]),
      expect: {
        kind: 'cannot-run',
        message:
          "the browser of the Playwright suite in /suite is not installed on the worker: Error: browserType.launch: Executable doesn't exist at /ms-playwright/chromium-1/chrome",
      },
    },
    {
      name: 'a browser that crashed: no verdict',
      report: report([
        { title: 'loads', status: 'expected' },
        { title: 'search', status: 'unexpected', error: 'Error: page.goto: Target crashed' },
      ]),
      expect: {
        kind: 'no-verdict',
        message: 'the browser failed while running /suite, so the run has no verdict: [chromium] › smoke.spec.ts › home › search: Error: page.goto: Target crashed',
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(judgeReport(c.report, { ...RUN, grep: c.grep }), c.expect));
  }

  it(`lists at most ${MAX_FAILURES} failures, the last saying how many more`, () => {
    const many = Array.from({ length: 70 }, (_, i) => ({ title: `t${i}`, status: 'unexpected' as const, error: `Error: ${i}` }));
    const j = judgeReport(report(many), RUN);
    assert.equal(j.kind, 'verdict');
    if (j.kind !== 'verdict') return;
    assert.equal(j.failed, 70);
    assert.equal(j.failures.length, MAX_FAILURES);
    assert.deepEqual(j.failures.at(-2), { title: '[chromium] › smoke.spec.ts › home › t48', error: 'Error: 48' });
    assert.deepEqual(j.failures.at(-1), { title: '… and 21 more', error: '' });
  });
});

describe('tallyReport', () => {
  it('keeps the first five lines of an error, without colours, and at most 1000 characters', () => {
    const coloured = `\u001b[31mError: boom\u001b[39m\n\n  at a\n  at b\n  at c\n  at d\n  at e`;
    const t = tallyReport(report([{ title: 'x', status: 'unexpected', error: coloured }]));
    assert.equal(t.failures[0].error, 'Error: boom\n  at a\n  at b\n  at c\n  at d');
    const long = tallyReport(report([{ title: 'x', status: 'unexpected', error: `Error: ${'z'.repeat(2000)}` }]));
    assert.equal(long.failures[0].error.length, 1000);
    assert.ok(long.failures[0].error.endsWith('…'));
  });

  it('leaves the project out of a title when the config names none, and reads a report with missing lists', () => {
    const t = tallyReport(report([{ title: 'x', status: 'unexpected', error: 'Error: e', project: '' }]));
    assert.equal(t.failures[0].title, 'smoke.spec.ts › home › x');
    assert.deepEqual(tallyReport({}), { passed: 0, failed: 0, flaky: 0, skipped: 0, failures: [], flakyTests: [], suiteErrors: [] });
  });
});

describe('gateSummary', () => {
  const rows = [
    { name: 'a passed gate: the counts', r: { ok: true, passed: 3, failed: 0, flaky: 1, failures: [] }, expect: '3 passed, 0 failed, 1 flaky' },
    {
      name: 'a failed gate: the counts and the failing titles',
      r: { ok: false, passed: 1, failed: 2, flaky: 0, failures: [{ title: '[chromium] › a.spec.ts › x' }, { title: '[chromium] › a.spec.ts › y' }] },
      expect: '1 passed, 2 failed, 0 flaky: [chromium] › a.spec.ts › x; [chromium] › a.spec.ts › y',
    },
    {
      name: 'a passed gate with a flaky test: the counts and the flaky titles',
      r: { ok: true, passed: 3, failed: 0, flaky: 1, failures: [], flakyTests: ['[chromium] › a.spec.ts › z'] },
      expect: '3 passed, 0 failed, 1 flaky (flaky, passed on a retry: [chromium] › a.spec.ts › z)',
    },
    {
      name: 'no test passed: the suite-level reason',
      r: { ok: false, passed: 0, failed: 0, flaky: 0, failures: [{ title: '(suite)' }] },
      expect: '0 passed, 0 failed, 0 flaky: (suite)',
    },
  ];
  for (const row of rows) it(row.name, () => assert.equal(gateSummary(row.r), row.expect));
});
