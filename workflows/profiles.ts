/**
 * Named timeout and retry profiles for activities. Every activity call goes through one
 * of these; the non-retryable failure types are Slipway's error class names.
 */
import type { ActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { NON_RETRYABLE } from '../domain/errors';

const retry: RetryPolicy = {
  initialInterval: '1s',
  backoffCoefficient: 2,
  maximumInterval: '30s',
  nonRetryableErrorTypes: [...NON_RETRYABLE],
};

/** Reads and pure look-ups: short, retried. */
export const quick: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { ...retry, maximumAttempts: 20 },
};

/**
 * Effects (register, update): they heartbeat while running, so a dead worker is noticed
 * in seconds; the activity itself makes the retry find its earlier effect.
 */
export const effect: ActivityOptions = {
  startToCloseTimeout: '2m',
  heartbeatTimeout: '8s',
  retry: { ...retry, maximumAttempts: 30 },
};

/** Watching a rollout: returns on change or after at most a minute; heartbeats its cursor. */
export const longPoll: ActivityOptions = {
  startToCloseTimeout: '90s',
  heartbeatTimeout: '15s',
  retry,
};
