/**
 * How a gate's result reads in the pipeline's history. Pure and free of Node modules: the
 * pipeline workflow uses it.
 */
import type { GateFailure } from './playwright-report';

/** One line for the pipeline's history: the counts, and the failing tests' titles when the gate failed. */
export function gateSummary(r: { ok: boolean; passed: number; failed: number; flaky: number; failures: Pick<GateFailure, 'title'>[] }): string {
  const counts = `${r.passed} passed, ${r.failed} failed, ${r.flaky} flaky`;
  return r.ok ? counts : `${counts}: ${r.failures.map((f) => f.title).join('; ')}`;
}
