/**
 * Named timeout and retry profiles for activities, each written once. Every activity call
 * goes through one of these; the non-retryable failure types are Slipway's error class
 * names (domain/errors.ts). Changing a profile's timeouts or retries does not change the
 * commands a workflow writes, so running workflows replay as before; moving an activity to
 * another task queue (the ECS profiles) does, behind a patch marker.
 */
import {
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityOptions,
  patched,
  proxyActivities,
  proxyLocalActivities,
  type RetryPolicy,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE } from '../domain/errors';
import { type EcsQueueKind, ecsTaskQueue } from '../domain/ecs-queues';
import { PATCH_LOCAL_PREFLIGHT, PATCHES_AFTER_PREFLIGHT } from './patches';

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

/** One look at the rollout, within what is left of the deploy's budget (`remainingSeconds`). */
export function watch(remainingSeconds: number): ActivityOptions {
  return { ...longPoll, scheduleToCloseTimeout: `${remainingSeconds + 30}s` };
}

/**
 * An ECS activity on its own task queue beside the workflow's (`<taskQueue>-ecs-<kind>`),
 * which Temporal dispatches at most at the queue's rate across all workers
 * (domain/ecs-queues.ts), in the order of `priorityKey` (1 first) when it is contended.
 */
function onEcsQueue(kind: EcsQueueKind, options: ActivityOptions, priorityKey: number): ActivityOptions {
  return { ...options, taskQueue: ecsTaskQueue(workflowInfo().taskQueue, kind), priority: { priorityKey } };
}

/** Registering a task definition (RegisterTaskDefinition: 1 per second per account on AWS). */
export function ecsRegister(priorityKey: number): ActivityOptions {
  return onEcsQueue('register', effect, priorityKey);
}

/** Pointing a service at a revision (UpdateService: 5 per second per account on AWS). */
export function ecsUpdate(priorityKey: number): ActivityOptions {
  return onEcsQueue('update', effect, priorityKey);
}

/** One look at a rollout (service and service deployment reads: `observeDeployment`). */
export function ecsRead(priorityKey: number): ActivityOptions {
  return onEcsQueue('read', quick, priorityKey);
}

/**
 * Reads and look-ups run as local activities: by the worker that runs the workflow, inside
 * its workflow task, so a run of them costs one workflow task rather than a round trip
 * through the server each. Retried as `quick`; a backoff longer than 10 s waits on a timer.
 */
export const quickLocal: LocalActivityOptions = { ...quick, localRetryThreshold: '10s' };

/**
 * The checks an operation makes before it changes anything (its target, its actor, the
 * images, the service's settings, the release to roll back to): local activities, all in
 * the operation's first workflow task, so that a rollback under load reaches ECS after a few
 * trips through the server rather than one per check. Operations begun before replay them as
 * activities (no marker of PATCH_LOCAL_PREFLIGHT). The operation's later patches are decided
 * first (PATCHES_AFTER_PREFLIGHT).
 */
export function preflightActivities(operation: keyof typeof PATCHES_AFTER_PREFLIGHT): ActivityInterfaceFor<Activities> {
  if (!patched(PATCH_LOCAL_PREFLIGHT)) return proxyActivities<Activities>(quick);
  for (const p of PATCHES_AFTER_PREFLIGHT[operation]) patched(p);
  return proxyLocalActivities<Activities>(quickLocal);
}

/**
 * A look that confirms an ECS event (`observeDeployment`), run by the worker that runs the
 * deploy, within its workflow task: no trip through the read queue, whose rate bounds the
 * looks that only reconcile. Its reads draw from that worker's own ECS budget and are batched
 * with every other look there; ECS's events bound how many there are (one per event worth a
 * look, redeliveries dropped).
 */
export const confirmingLook: LocalActivityOptions = quickLocal;

/** Watching a rollout (a long poll of looks: `watchDeployment`), within what is left of the deploy's budget. */
export function ecsWatch(remainingSeconds: number, priorityKey: number): ActivityOptions {
  return onEcsQueue('read', watch(remainingSeconds), priorityKey);
}

/** Waiting for the version endpoint to report the release, for up to `budgetSeconds`; three tries. */
export function verify(budgetSeconds: number): ActivityOptions {
  return { ...longPoll, startToCloseTimeout: `${budgetSeconds + 60}s`, retry: { ...retry, maximumAttempts: 3 } };
}

/** Following the rollback ECS runs for a stopped deployment, for up to `seconds`. */
export function ecsRollback(seconds: number): ActivityOptions {
  return { ...longPoll, startToCloseTimeout: `${seconds + 60}s` };
}

/** Cancelling a deploy in flight and waiting until it has ended. */
export const preempt: ActivityOptions = { ...quick, startToCloseTimeout: '5m', heartbeatTimeout: '20s' };

/** Slack messages and GitHub deployment statuses: a few tries, then the operation goes on without. */
export const notify: ActivityOptions = {
  startToCloseTimeout: '30s',
  retry: { ...retry, initialInterval: '2s', maximumAttempts: 5 },
};

/** A notice tried once in line; one that fails is handed to its own `notification` workflow (`notify`). */
export const notifyOnce: ActivityOptions = { startToCloseTimeout: '15s', retry: { maximumAttempts: 1 } };

/**
 * GitHub writes (a release, its failure mark, the changelog pull request). They heartbeat,
 * and their client sits out rate limits of up to a minute in-process, so an attempt gets
 * minutes; between attempts, GitHub asks for at least a minute after a secondary rate limit.
 */
export const githubWrite: ActivityOptions = {
  startToCloseTimeout: '5m',
  heartbeatTimeout: '20s',
  retry: { ...retry, initialInterval: '5s', maximumInterval: '2m', maximumAttempts: 10 },
};

/** The Playwright gate, on the task queue of the machines with a browser: its run's budget and a minute; one more try. */
export function playwrightGate(taskQueue: string | undefined, timeoutMinutes: number): ActivityOptions {
  return {
    taskQueue,
    startToCloseTimeout: `${timeoutMinutes * 60 + 60}s`,
    heartbeatTimeout: '60s',
    retry: { maximumAttempts: 2, nonRetryableErrorTypes: ['BadInput'] },
  };
}

/** A GitHub Actions workflow as the gate: its run may take hours; three tries. */
export const githubGate: ActivityOptions = { startToCloseTimeout: '3h', heartbeatTimeout: '2m', retry: { maximumAttempts: 3 } };
