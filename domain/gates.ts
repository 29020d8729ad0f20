/**
 * How a gate's result reads in the pipeline's history. Pure and free of Node modules: the
 * pipeline workflow uses it.
 */
import type { GateFailure } from './playwright-report';

/** One line for the pipeline's history: the counts, the failing tests' titles when the gate failed, and the flaky tests' titles. */
export function gateSummary(r: { ok: boolean; passed: number; failed: number; flaky: number; failures: Pick<GateFailure, 'title'>[]; flakyTests?: string[] }): string {
  const counts = `${r.passed} passed, ${r.failed} failed, ${r.flaky} flaky`;
  const flaky = r.flakyTests?.length ? ` (flaky, passed on a retry: ${r.flakyTests.join('; ')})` : '';
  return r.ok ? `${counts}${flaky}` : `${counts}: ${r.failures.map((f) => f.title).join('; ')}${flaky}`;
}
