/**
 * How a failed preflight or effect activity ends an operation: bad input and unknown
 * things are refusals, an unauthorised actor is its own outcome, any other typed failure
 * is a failure. Shared by deploy, rollback/redeploy and release.
 */
import { ApplicationFailure, isCancellation } from '@temporalio/workflow';
import { FailureType } from '../contract';

export interface Ending {
  outcome: 'refused' | 'unauthorized' | 'failed';
  type: string;
  message: string;
}

/**
 * The ending an activity failure calls for, or undefined when it is not a typed failure
 * (cancellation, timeouts without a type) — or, with `refusalsOnly`, not a refusal.
 */
export function endingOf(err: unknown, opts: { refusalsOnly?: boolean } = {}): Ending | undefined {
  if (isCancellation(err)) return undefined;
  const cause = (err as { cause?: unknown }).cause;
  if (!(cause instanceof ApplicationFailure) || !cause.type) return undefined;
  if (cause.type === FailureType.unauthorized) return { outcome: 'unauthorized', type: cause.type, message: `refused: ${cause.message}` };
  if (cause.type === FailureType.badInput || cause.type === FailureType.notFound) return { outcome: 'refused', type: cause.type, message: `refused: ${cause.message}` };
  return opts.refusalsOnly ? undefined : { outcome: 'failed', type: cause.type, message: `failed: ${cause.message}` };
}
