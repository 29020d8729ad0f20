/** What the gate activities share: their dependencies, the activity context and its log, cancellation. */
import type { Octokit } from '@octokit/rest';
import { Context } from '@temporalio/activity';
import type { GitHubLog } from '../github';
import { SILENT_LOG } from '../log';

/** Where the gates report what they do (Temporal's activity logger fits). */
export type GateLog = GitHubLog;

export interface GateDeps {
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

export function activityContext(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

export function contextLog(ctx: Context | undefined): GateLog {
  if (!ctx) return SILENT_LOG;
  const l = ctx.log;
  return {
    debug: (m, meta) => l.debug(m, meta),
    info: (m, meta) => l.info(m, meta),
    warn: (m, meta) => l.warn(m, meta),
    error: (m, meta) => l.error(m, meta),
  };
}

/** Why the activity was cancelled, as an Error to rethrow. */
export function cancellation(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`cancelled${reason ? `: ${String(reason)}` : ''}`);
}
