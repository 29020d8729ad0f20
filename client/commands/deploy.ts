/**
 * slipway deploy <app> <env> <tag> [--actor LOGIN] [--reason TEXT] [--budget MINUTES] [--no-wait] [--wait-until done|traffic-shifted]
 */
import { resolveTarget } from '../../domain/config';
import { shortTag, tagProblem } from '../../domain/tags';
import { idTokenOf } from '../identity';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { startDeploy } from '../operations';
import { followAndReport } from '../report';

export interface DeployFlags {
  actor?: string;
  reason?: string;
  budget?: string;
  wait: boolean;
  /** `done` (default) or `traffic-shifted`. */
  waitUntil?: string;
}

/** Where `--wait-until` may return. */
export const MILESTONES = ['done', 'traffic-shifted'] as const;

export async function deployCommand(ctx: Context, args: string[], flags: DeployFlags): Promise<number> {
  if (args.length !== 3) throw new UsageError(`deploy takes <app> <env> <tag>; got ${args.length} argument(s). Run 'slipway help deploy'.`);
  const [app, env, tag] = args;
  const actor = flags.actor ?? ctx.env.GITHUB_ACTOR;
  if (!actor) throw new UsageError('who is deploying? pass --actor <github-login> (GitHub Actions sets $GITHUB_ACTOR)');
  const problem = tagProblem(tag);
  if (problem) throw new UsageError(problem);
  resolveTarget(ctx.config(), app, env); // refuses unknown app/env and release-only apps before anything starts
  let budgetSeconds: number | undefined;
  if (flags.budget !== undefined) {
    const m = Number(flags.budget);
    if (!Number.isFinite(m) || m <= 0 || m > 24 * 60) throw new UsageError(`--budget ${flags.budget}: give minutes between 1 and 1440`);
    budgetSeconds = Math.round(m * 60);
  }
  const until = flags.waitUntil ?? 'done';
  if (!(MILESTONES as readonly string[]).includes(until)) {
    throw new UsageError(`--wait-until ${until}: give one of ${MILESTONES.join(', ')} ('traffic-shifted' returns once production traffic is on the new revision)`);
  }
  if (until !== 'done' && !flags.wait) throw new UsageError(`--wait-until ${until} and --no-wait contradict each other: pass one`);

  const client = await ctx.client();
  const handle = await startDeploy(
    client,
    { app, env, tag, actor, idToken: await idTokenOf(ctx), reason: flags.reason, budgetSeconds },
    {
      taskQueue: ctx.taskQueue,
      link: (id, run) => ctx.link(id, run),
    },
  );
  const link = ctx.link(handle.workflowId, handle.firstExecutionRunId);
  ctx.info(`started deploy ${app} ${shortTag(tag)} → ${env}: ${link}`);
  if (!flags.wait) {
    ctx.result(`${handle.workflowId} ${handle.firstExecutionRunId}`, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, url: link });
    return EXIT.ok;
  }

  return followAndReport(ctx, handle, `deploy ${app} ${shortTag(tag)} → ${env}`, actor, undefined, until === 'traffic-shifted' ? { until: 'traffic-shifted' } : {});
}
