/**
 * slipway release <app> <sha> [--actor LOGIN] [--no-wait]
 */
import { appImages } from '../../domain/config';
import { shortTag, tagProblem } from '../../domain/tags';
import type { ReleaseResult } from '../../contract';
import { idTokenOf } from '../identity';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT, exitCodeFor } from '../exit-codes';
import { deployOutcome, startRelease } from '../operations';
import { actorOf, budgetOf, type OperationFlags } from './flags';

export async function releaseCommand(ctx: Context, args: string[], flags: OperationFlags): Promise<number> {
  if (args.length !== 2) throw new UsageError(`release takes <app> <sha>; got ${args.length} argument(s). Run 'slipway help release'.`);
  const [app, tag] = args;
  const actor = actorOf(ctx, flags);
  const problem = tagProblem(tag);
  if (problem) throw new UsageError(problem);
  if (!/^[0-9a-f]{40}$/.test(tag)) throw new UsageError(`a release names the image by its full commit SHA (40 hex characters); got '${tag}'`);
  appImages(ctx.config(), app); // unknown app → the valid ones
  const client = await ctx.client();
  const handle = await startRelease(
    client,
    { app, tag, actor, idToken: await idTokenOf(ctx), budgetSeconds: budgetOf(flags) },
    { taskQueue: ctx.taskQueue, link: (id, run) => ctx.link(id, run) },
  );
  const link = ctx.link(handle.workflowId, handle.firstExecutionRunId);
  ctx.info(`started release of ${app} ${shortTag(tag)}: ${link}`);
  if (!flags.wait) {
    ctx.result(`${handle.workflowId} ${handle.firstExecutionRunId}`, { workflowId: handle.workflowId, runId: handle.firstExecutionRunId, url: link });
    return EXIT.ok;
  }
  const outcome = await deployOutcome<ReleaseResult>(handle);
  const title = `release ${app} ${shortTag(tag)}`;
  if (outcome.ok) {
    const r = outcome.result;
    const lines = [
      `✔ ${r.existing ? `${r.name} already released this image` : `released ${r.name}`}: ${r.releaseUrl}`,
      `  aliases: ${r.aliases.map((a) => `${a.repository}:rel-${r.name.slice(app.length + 1)}`).join(', ')}`,
      r.releaseOnly
        ? `  ${app} is release-only: deploy it where it is deployed (e.g. Terraform)`
        : `  ${r.deploy?.env} runs ${shortTag(tag)} (${r.deploy?.taskDefinitionArn.split('/').pop()})`,
      ...(r.changelogPr ? [`  changelog: ${r.changelogPr.url}`] : []),
    ];
    ctx.result(lines.join('\n'), { ...r, workflowId: handle.workflowId, url: link });
    ctx.summary(`### ✔ ${title}: ${r.name}\n\n- release: ${r.releaseUrl}\n- changelog: ${r.changelogPr?.url ?? '—'}\n- execution: [${handle.workflowId}](${link})\n`);
    return EXIT.ok;
  }
  ctx.result(`✘ ${title}: ${outcome.message}`, { ...outcome, workflowId: handle.workflowId, url: link });
  ctx.annotateError(`${title}: ${outcome.type}`, outcome.message);
  ctx.summary(`### ✘ ${title}: ${outcome.type}\n\n${outcome.message}\n\nExecution: [${handle.workflowId}](${link})\n`);
  return exitCodeFor(outcome.type);
}
