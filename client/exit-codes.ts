/**
 * Exit codes of the `slipway` CLI, documented in the README. One table maps failure
 * types to them, so GitHub Actions can branch on what happened.
 */
export const EXIT = {
  ok: 0,
  failed: 1,
  badInput: 2,
  rolledBack: 3,
  timedOut: 4,
  unauthorized: 5,
  unreachable: 6,
  busy: 7,
  rolledBackByAlarm: 8,
} as const;

const BY_FAILURE_TYPE: Record<string, number> = {
  BadInput: EXIT.badInput,
  NotFound: EXIT.badInput,
  ClientRejected: EXIT.failed,
  Unauthorized: EXIT.unauthorized,
  RolledBackByEcs: EXIT.rolledBack,
  RolledBackByAlarm: EXIT.rolledBackByAlarm,
  DeployTimedOut: EXIT.timedOut,
  DeployFailed: EXIT.failed,
  AlreadyRunning: EXIT.busy,
  SearchAttributesMissing: EXIT.unreachable,
};

export function exitCodeFor(failureType: string): number {
  return BY_FAILURE_TYPE[failureType] ?? EXIT.failed;
}
