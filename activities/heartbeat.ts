import { Context } from '@temporalio/activity';

/**
 * Runs `fn` while heartbeating every `everyMs`, so a worker that dies mid-call is noticed
 * within the activity's heartbeat timeout instead of its (longer) start-to-close timeout.
 * Outside an activity context (unit tests), or in a local activity (no heartbeats: it runs
 * within its workflow task), it just runs `fn`.
 */
export async function withHeartbeat<T>(fn: (signal?: AbortSignal) => Promise<T>, everyMs = 2000): Promise<T> {
  let ctx: Context | undefined;
  try {
    ctx = Context.current();
  } catch {
    return fn();
  }
  const c = ctx;
  if (c.info.isLocal) return fn(c.cancellationSignal);
  c.heartbeat();
  const timer = setInterval(() => c.heartbeat(), everyMs);
  try {
    return await fn(c.cancellationSignal);
  } finally {
    clearInterval(timer);
  }
}

/** Heartbeats the running activity; a local activity runs within its workflow task and has no heartbeats. */
export function beat(ctx: Context, details?: unknown): void {
  if (!ctx.info.isLocal) ctx.heartbeat(details);
}

/** The attempt number of the running activity (1 outside an activity). */
export function attempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}
