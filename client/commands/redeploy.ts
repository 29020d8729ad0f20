/**
 * slipway redeploy <app> <env> [--actor LOGIN] [--reason TEXT] [--no-wait]
 */
import { resolveTarget } from '../../domain/config';
import { deployWorkflowId } from '../../contract';
import { idTokenOf } from '../identity';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { startRedeploy } from '../operations';
import { followAndReport } from '../report';
import { actorOf, budgetOf, type OperationFlags } from './flags';

export async function redeployCommand(ctx: Context, args: string[], flags: OperationFlags): Promise<number> {
  if (args.length !== 2) throw new UsageError(`redeploy takes <app> <env>; got ${args.length} argument(s). Run 'slipway help redeploy'.`);
  const [app, env] = args;
  const actor = actorOf(ctx, flags);
  const target = resolveTarget(ctx.config(), app, env);
  if (!target.versionEndpoint) throw new UsageError(`${app} in ${env} has no versionEndpoint in ${ctx.configPath}: deploy a tag instead`);
  const budgetSeconds = budgetOf(flags);
  const client = await ctx.client();
  const handle = await startRedeploy(
    client,
    { app, env, actor, idToken: await idTokenOf(ctx), reason: flags.reason, budgetSeconds },
    { taskQueue: ctx.taskQueue, link: (id, run) => ctx.link(id, run) },
  );
  ctx.info(`started redeploy of ${app} in ${env}: ${ctx.link(handle.workflowId, handle.firstExecutionRunId)}`);
  if (!flags.wait) {
    ctx.result(`${handle.workflowId} ${handle.firstExecutionRunId}`, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId });
    return EXIT.ok;
  }
  return followAndReport(ctx, handle, `redeploy ${app} in ${env}`, actor, () => client.workflow.getHandle(deployWorkflowId(app, env)));
}
