/**
 * Local activities run at their operation's priority. A local activity carries no Temporal
 * priority of its own, so the ECS calls of an operation's checks (run as local activities,
 * workflows/profiles.ts) would otherwise wait in the worker's ECS budget at the default
 * priority, behind staging deploys' reads, even for a rollback. This interceptor sends the
 * operation's priority key in a header of every local activity it schedules; the worker's
 * activity interceptor (activities/ecs-budget.ts `localActivityPriority`) puts the activity's
 * ECS calls in line at it. Headers of local activities are not recorded in the history, so
 * histories recorded before replay unchanged.
 *
 * Registered on the worker (worker/create.ts) and in the workflow bundle (worker/bundle.ts).
 */
import {
  defaultPayloadConverter,
  workflowInfo,
  type LocalActivityInput,
  type Next,
  type WorkflowInterceptorsFactory,
  type WorkflowOutboundCallsInterceptor,
} from '@temporalio/workflow';
import { PRIORITY_KEY_HEADER } from '../domain/ecs-queues';

/** The operation's priority key once it is known (a deploy's depends on its target); else the workflow's own. */
let operationPriorityKey: number | undefined;

/** From now on, this workflow's local activities run at `priorityKey` (1 goes first). */
export function runLocalActivitiesAt(priorityKey: number): void {
  operationPriorityKey = priorityKey;
}

class LocalActivityPriority implements WorkflowOutboundCallsInterceptor {
  scheduleLocalActivity(input: LocalActivityInput, next: Next<WorkflowOutboundCallsInterceptor, 'scheduleLocalActivity'>): Promise<unknown> {
    const key = operationPriorityKey ?? workflowInfo().priority?.priorityKey;
    if (key === undefined) return next(input);
    return next({ ...input, headers: { ...input.headers, [PRIORITY_KEY_HEADER]: defaultPayloadConverter.toPayload(key) } });
  }
}

export const interceptors: WorkflowInterceptorsFactory = () => ({ outbound: [new LocalActivityPriority()] });
