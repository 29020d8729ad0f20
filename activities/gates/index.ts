/**
 * Test gates of the promotion pipeline: a team's Playwright suite run against a live
 * environment (playwright.ts), or a GitHub Actions workflow dispatched and waited for
 * (github.ts). A gate's verdict is its result (`ok`); an error means there is no verdict.
 */
import type { GateDeps } from './common';
import { createGitHubGate } from './github';
import { createPlaywrightGate } from './playwright';

export type { GateDeps, GateLog } from './common';
export type { GitHubGateInput, GitHubGateProgress, GitHubGateResult } from './github';
export { MARKER_INPUT } from './github';
export type { GateResult, PlaywrightGateInput, PlaywrightGateProgress } from './playwright';

export function createGateActivities(deps: GateDeps = {}) {
  return {
    runPlaywrightGate: createPlaywrightGate(deps),
    dispatchGitHubGate: createGitHubGate(deps),
  };
}
