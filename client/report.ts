/**
 * Following an operation to its end and reporting it: progress lines on stderr, the
 * result on stdout (or JSON), and in GitHub Actions a job summary and an annotation.
 */
import type { WorkflowHandle } from '@temporalio/client';
import { progressQuery, type DeployResult, type RollbackUnneeded } from '../contract';
import type { Context } from './context';
import { EXIT, exitCodeFor } from './exit-codes';
import { followProgress } from './follow';
import { deployOutcome } from './operations';

/**
 * `handle` is the operation; `progressOf` is the deploy whose progress to stream (the
 * operation itself, or the deploy a rollback/redeploy runs as a child).
 */
export async function followAndReport(
  ctx: Context,
  handle: WorkflowHandle,
  title: string,
  actor: string,
  progressOf: () => WorkflowHandle = () => handle,
  opts: { until?: 'traffic-shifted' } = {},
): Promise<number> {
  const link = ctx.link(handle.workflowId);
  const outcomeP = deployOutcome<DeployResult & Record<string, unknown>>(handle);
  const progressHandle = progressOf();
  const parent = progressHandle.workflowId === handle.workflowId ? undefined : handle.workflowId;
  // Returning at a milestone: whichever comes first, the milestone or the end.
  const watching = { on: true };
  const milestone = opts.until ? trafficShifted(progressHandle, watching) : undefined;
  const first = Promise.race([outcomeP.then(() => undefined), ...(milestone ? [milestone] : [])]);
  await followProgress(progressHandle, (l) => ctx.info(l), first, { parent });
  watching.on = false;
  const shiftedAt = await first;
  if (shiftedAt !== undefined) {
    const message = `production traffic shifted at ${shiftedAt}; the deploy keeps watching to the end and records the true outcome: ${link}`;
    ctx.result(`✔ ${title}: ${message}`, { milestone: 'traffic-shifted', trafficShiftedAt: shiftedAt, workflowId: handle.workflowId, url: link });
    ctx.summary(`### ✔ ${title}: production traffic shifted\n\n${message}\n`);
    return EXIT.ok;
  }
  const outcome = await outcomeP;
  if (outcome.ok && (outcome.result as { outcome: string }).outcome === 'already_running') {
    // An answer, not a failure: nothing needed doing.
    const r = outcome.result as unknown as RollbackUnneeded;
    ctx.result(`✔ ${title}: ${r.message}`, { ...r, workflowId: handle.workflowId, url: link });
    ctx.summary(`### ✔ ${title}: nothing to do\n\n${r.message}\n\nExecution: [${handle.workflowId}](${link})\n`);
    return EXIT.ok;
  }
  if (outcome.ok) {
    const r = outcome.result;
    const revision = r.taskDefinitionArn.split('/').pop();
    const how = typeof r.how === 'string' ? ` (${r.how.replace(/-/g, ' ')})` : '';
    ctx.result(`✔ ${title} succeeded${how}: ${revision} running ${r.counts.running}/${r.counts.desired}${r.verified ? `, ${r.verified.url} reports ${r.verified.release}` : ''}`, {
      ...r,
      workflowId: handle.workflowId,
      url: link,
    });
    ctx.summary(
      `### ✔ ${title} succeeded\n\n| | |\n|---|---|\n| tag | \`${r.tag}\` |\n| revision | \`${revision}\` |\n| tasks | ${r.counts.running}/${r.counts.desired} running |\n` +
        (r.verified ? `| version endpoint | ${r.verified.url} reports \`${r.verified.release}\` |\n` : '') +
        `| actor | @${actor} |\n| execution | [${handle.workflowId}](${link}) |\n`,
    );
    return EXIT.ok;
  }
  ctx.result(`✘ ${title}: ${outcome.message}`, { ...outcome, workflowId: handle.workflowId, url: link });
  ctx.annotateError(`${title}: ${outcome.type}`, outcome.message);
  const reasons = outcome.details?.reasons ?? [];
  ctx.summary(
    `### ✘ ${title}: ${outcome.type}\n\n${outcome.message}\n\n` +
      (reasons.length ? `Stopped tasks:\n${reasons.map((r) => `- ${r}`).join('\n')}\n\n` : '') +
      `Execution: [${handle.workflowId}](${link})\n`,
  );
  return exitCodeFor(outcome.type);
}

/** Resolves with the time production traffic was fully shifted, once the deploy reports it (while `watching.on`). */
async function trafficShifted(handle: WorkflowHandle, watching: { on: boolean }, everyMs = 1000): Promise<string | undefined> {
  while (watching.on) {
    const p = await handle.query(progressQuery).catch(() => undefined);
    if (p?.trafficShiftedAt) return p.trafficShiftedAt;
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return undefined;
}
