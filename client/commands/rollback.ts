/**
 * slipway rollback <app> <env> [--tag TAG] [--actor LOGIN] [--reason TEXT] [--no-wait]
 */
import { resolveTarget } from '../../domain/config';
import { shortTag, tagProblem } from '../../domain/tags';
import { deployWorkflowId } from '../../contract';
import { idTokenOf } from '../identity';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { startRollback } from '../operations';
import { followAndReport } from '../report';
import { actorOf, budgetOf, type OperationFlags } from './flags';

export async function rollbackCommand(ctx: Context, args: string[], flags: OperationFlags & { tag?: string; rerender?: boolean }): Promise<number> {
  if (args.length !== 2) throw new UsageError(`rollback takes <app> <env>; got ${args.length} argument(s). Run 'slipway help rollback'.`);
  const [app, env] = args;
  const actor = actorOf(ctx, flags);
  if (flags.tag !== undefined) {
    const problem = tagProblem(flags.tag);
    if (problem) throw new UsageError(`--tag: ${problem}`);
  }
  resolveTarget(ctx.config(), app, env);
  const budgetSeconds = budgetOf(flags);
  const client = await ctx.client();
  const handle = await startRollback(
    client,
    { app, env, tag: flags.tag, actor, idToken: await idTokenOf(ctx), reason: flags.reason, budgetSeconds, ...(flags.rerender && { rerender: true }) },
    { taskQueue: ctx.taskQueue, link: (id, run) => ctx.link(id, run) },
  );
  ctx.info(
    `started rollback of ${app} in ${env}${flags.tag ? ` to ${shortTag(flags.tag)}` : ' to the last validated release'}: ${ctx.link(handle.workflowId, handle.firstExecutionRunId)}`,
  );
  if (!flags.wait) {
    ctx.result(`${handle.workflowId} ${handle.firstExecutionRunId}`, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
    return EXIT.ok;
  }
  return followAndReport(ctx, handle, `rollback ${app} in ${env}`, actor, () => client.workflow.getHandle(deployWorkflowId(app, env)));
}
