/**
 * The ECS budget every worker of a task queue shares: the activities whose ECS calls matter
 * at fleet scale run on activity task queues of their own, one per ECS throttling category
 * they draw from, and Temporal's server dispatches each queue's activities at most at a rate
 * (`maxTaskQueueActivitiesPerSecond`, set by the workers polling it), however many workers
 * poll. Pure data and arithmetic: workflows take the queue names from here, workers the rates.
 */
import { type BucketLimit, type ThrottlingCategory, limitsWith } from './ecs-throttling';

export const ECS_QUEUE_KINDS = ['register', 'update', 'read'] as const;
export type EcsQueueKind = (typeof ECS_QUEUE_KINDS)[number];

/** The activity task queue of `kind` beside the workflow task queue `taskQueue`: `<taskQueue>-ecs-<kind>`. */
export function ecsTaskQueue(taskQueue: string, kind: EcsQueueKind): string {
  return `${taskQueue}-ecs-${kind}`;
}

/** Every ECS activity task queue a worker of `taskQueue` also polls. */
export function ecsTaskQueues(taskQueue: string): string[] {
  return ECS_QUEUE_KINDS.map((k) => ecsTaskQueue(taskQueue, k));
}

/**
 * The most ECS calls, per throttling category, that one activity task on the queue makes
 * when ECS answers them (calls ECS throttled took no token and are not counted; the ECS
 * client retries them itself, inside the worker's own budget):
 *
 * - register (`registerRevision`): RegisterTaskDefinition once; DescribeTaskDefinition of
 *   the template once, and on a retry ListTaskDefinitions plus up to 10
 *   DescribeTaskDefinition looking for its own earlier revision: 12 reads.
 * - update (`updateService`): UpdateService once; ListServiceDeployments +
 *   DescribeServiceRevisions to find the service deployment, on a retry before the update
 *   and again after it when ECS's answer does not name it: 4 service deployment reads.
 * - read (one look at a rollout, `observeDeployment`): DescribeServices at most once and
 *   DescribeServiceDeployments at most once (each shared with the looks batched with it),
 *   ListTasks + DescribeTasks when tasks failed. `watchDeployment`, a long poll, makes one
 *   such look per poll interval: the queue bounds how often watches start, and each
 *   worker's own budget paces the looks in between.
 */
export const ECS_CALLS_PER_ACTIVITY: Readonly<Record<EcsQueueKind, Partial<Record<ThrottlingCategory, number>>>> = {
  register: { 'task-definition-register': 1, 'task-definition-read': 12 },
  update: { 'service-update': 1, 'service-deployment-read': 4 },
  read: { 'service-read': 1, 'service-deployment-read': 1, 'task-read': 2 },
};

/**
 * Activities per second the queue of `kind` may dispatch, for all workers together:
 * for each category its activities draw from, share × the category's sustained rate ÷ the
 * most calls of that category one activity makes; the lowest of these. With the documented
 * buckets and a share of 0.5:
 *
 * - register: min(0.5 × 1/s ÷ 1, 0.5 × 20/s ÷ 12) = 0.5 registrations per second
 * - update:   min(0.5 × 5/s ÷ 1, 0.5 × 20/s ÷ 4) = 2.5 updates per second
 * - read:     min(0.5 × 20/s ÷ 1, 0.5 × 20/s ÷ 1, 0.5 × 20/s ÷ 2) = 5 looks per second
 *
 * Temporal splits a queue's rate evenly over its partitions (4 by default), each a bucket
 * that holds one second of its part plus one task: so all workers together start at most
 * `partitions × (⌊rate ÷ partitions⌋ + 1)` activities at once (4, 4 and 8 for the queues
 * above), inside share × ECS's bursts (10, 25 and 50). `timeScale` speeds refill up as the
 * sandbox's buckets are (1 on AWS).
 */
export function ecsQueueRate(kind: EcsQueueKind, share: number, limits?: Partial<Record<ThrottlingCategory, BucketLimit>>, timeScale = 1): number {
  const all = limitsWith(limits);
  const rates = Object.entries(ECS_CALLS_PER_ACTIVITY[kind]).map(([category, calls]) => (share * all[category as ThrottlingCategory].perSecond) / calls!);
  return Math.min(...rates) * timeScale;
}

/**
 * Temporal task-queue priority keys (1 goes first; Temporal's default is 3): when the ECS
 * queues are contended, rollbacks go first, then production deploys, then the rest.
 */
export const PRIORITY = { rollback: 1, production: 2, other: 3 } as const;

/** The priority key of a deploy (`operation` 'rollback' for a rollback's deploy) to a production environment or not. */
export function deployPriority(operation: string | undefined, production: boolean | undefined): number {
  if (operation === 'rollback') return PRIORITY.rollback;
  return production ? PRIORITY.production : PRIORITY.other;
}

/** Header of a local activity that carries its operation's priority key (workflows/priority.ts). */
export const PRIORITY_KEY_HEADER = 'slipway-priority-key';

/** The priority key of a look that only reconciles (no event asked for it): after every look that confirms one. */
export function reconcilePriority(priority: number): number {
  return Math.min(5, priority + 2);
}
