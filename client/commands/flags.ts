/** Flags shared by the commands that start an operation. */
import type { Context } from '../context';
import { UsageError } from '../errors';

export interface OperationFlags {
  actor?: string;
  reason?: string;
  budget?: string;
  wait: boolean;
}

export function actorOf(ctx: Context, flags: OperationFlags): string {
  const actor = flags.actor ?? ctx.env.GITHUB_ACTOR;
  if (!actor) throw new UsageError('who is asking? pass --actor <github-login> (GitHub Actions sets $GITHUB_ACTOR)');
  return actor;
}

export function budgetOf(flags: OperationFlags): number | undefined {
  if (flags.budget === undefined) return undefined;
  const m = Number(flags.budget);
  if (!Number.isFinite(m) || m <= 0 || m > 24 * 60) throw new UsageError(`--budget ${flags.budget}: give minutes between 1 and 1440`);
  return Math.round(m * 60);
}
