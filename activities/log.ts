/** Fallback logs of the activities, for when no logger is injected and none comes from an activity context. */
import type { GitHubLog } from './github';

const noop = () => {};

/** Prints nothing. */
export const SILENT_LOG: GitHubLog = { debug: noop, info: noop, warn: noop, error: noop };

/** Warnings and errors to stderr, each line prefixed with `<prefix>: `; nothing else is printed. */
export function stderrLog(prefix: string): GitHubLog {
  const write = (m: string) => void process.stderr.write(`${prefix}: ${m}\n`);
  return { debug: noop, info: noop, warn: write, error: write };
}
