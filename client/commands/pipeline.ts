/**
 * slipway pipeline <merged|status|approve|reject|cancel|pause|resume> <app> [options]
 */
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { appImages } from '../../domain/config';
import { shortTag, tagProblem } from '../../domain/tags';
import { approveUpdate, cancelEntryUpdate, pauseUpdate, pipelineStateQuery, pipelineWorkflowId, rejectUpdate, resumeUpdate, type PipelineState } from '../../contract';
import { idTokenOf } from '../identity';
import type { Context } from '../context';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { reportMerge } from '../operations';
import { actorOf, type OperationFlags } from './flags';

export interface PipelineFlags extends OperationFlags {
  sha?: string;
  title?: string;
  tag?: string;
}

const SUBCOMMANDS = ['merged', 'status', 'approve', 'reject', 'cancel', 'pause', 'resume'];

export async function pipelineCommand(ctx: Context, args: string[], flags: PipelineFlags): Promise<number> {
  const [sub, app, ...rest] = args;
  if (!sub || !SUBCOMMANDS.includes(sub)) throw new UsageError(`pipeline subcommands: ${SUBCOMMANDS.join(', ')} Run 'slipway help pipeline'.`);
  if (!app || rest.length) throw new UsageError(`pipeline ${sub} takes one <app> Run 'slipway help pipeline'.`);
  appImages(ctx.config(), app); // unknown app → the valid ones
  if (!ctx.config().apps[app].pipeline) throw new UsageError(`${app} has no pipeline: add apps.${app}.pipeline to ${ctx.configPath}`);
  const sha = (name: string, v: string | undefined): string => {
    if (!v) throw new UsageError(`pipeline ${sub} needs --${name} <full commit SHA>`);
    const problem = tagProblem(v);
    if (problem || !/^[0-9a-f]{40}$/.test(v)) throw new UsageError(`--${name}: '${v}' is not a full commit SHA (40 hex characters)`);
    return v;
  };

  // Every argument is checked before connecting: a missing --tag is exit 2 even when Temporal is down.
  if (sub === 'merged' || sub === 'cancel') sha('sha', flags.sha);
  if (sub === 'approve' || sub === 'reject') sha('tag', flags.tag);
  if (sub === 'reject' && !flags.reason) throw new UsageError('pipeline reject needs --reason');
  if (sub !== 'status') actorOf(ctx, flags);

  const client = await ctx.client();
  const handle = client.workflow.getHandle(pipelineWorkflowId(app));
  const link = ctx.link(pipelineWorkflowId(app));
  try {
    switch (sub) {
      case 'merged': {
        const merge = { sha: sha('sha', flags.sha), actor: actorOf(ctx, flags), title: flags.title ?? '' };
        await reportMerge(client, app, merge, { taskQueue: ctx.taskQueue });
        const s = await handle.query(pipelineStateQuery).catch(() => undefined);
        const position = s ? s.queue.filter((e) => e.status === 'waiting').findIndex((e) => e.sha === merge.sha) : -1;
        ctx.result(`queued ${shortTag(merge.sha)} for ${app}${position >= 0 ? ` (${position + 1} waiting)` : ''}: ${link}`, { app, ...merge, url: link });
        return EXIT.ok;
      }
      case 'status': {
        const s = await handle.query(pipelineStateQuery);
        ctx.result(renderState(s, link), { ...s, url: link });
        return EXIT.ok;
      }
      case 'approve':
      case 'reject': {
        const tag = sha('tag', flags.tag);
        if (sub === 'reject' && !flags.reason) throw new UsageError('pipeline reject needs --reason');
        const req = { tag, approver: actorOf(ctx, flags), reason: flags.reason, idToken: await idTokenOf(ctx) };
        const record = await handle.executeUpdate(sub === 'approve' ? approveUpdate : rejectUpdate, { args: [req] });
        ctx.result(`${sub === 'approve' ? 'approved' : 'rejected'} ${shortTag(tag)} as @${record.approver} at ${record.at}`, record);
        return EXIT.ok;
      }
      case 'cancel': {
        const entry = await handle.executeUpdate(cancelEntryUpdate, {
          args: [{ sha: sha('sha', flags.sha), actor: actorOf(ctx, flags), reason: flags.reason, idToken: await idTokenOf(ctx) }],
        });
        ctx.result(`cancelled ${shortTag(entry.sha)} (${entry.title})`, entry);
        return EXIT.ok;
      }
      default: {
        const s = await handle.executeUpdate(sub === 'pause' ? pauseUpdate : resumeUpdate, {
          args: [{ actor: actorOf(ctx, flags), reason: flags.reason, idToken: await idTokenOf(ctx) }],
        });
        ctx.result(`${app} pipeline ${s.paused ? 'paused' : 'running'}`, s);
        return EXIT.ok;
      }
    }
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new UsageError(`${app} has no pipeline running yet: it starts with the first 'slipway pipeline merged'`);
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause;
      const message = cause?.message ?? err.message;
      ctx.annotateError(`pipeline ${sub} ${app}`, message);
      process.stderr.write(`slipway: ${message}\n`);
      if (ctx.flags.json) process.stdout.write(`${JSON.stringify({ ok: false, type: cause instanceof ApplicationFailure ? cause.type : 'Refused', message })}\n`);
      return cause instanceof ApplicationFailure && (cause.type === 'ApprovalRefused' || cause.type === 'Unauthorized') ? EXIT.unauthorized : EXIT.badInput;
    }
    throw err;
  }
}

function renderState(s: PipelineState, link: string): string {
  const lines = [
    `${s.app} pipeline: ${s.paused ? 'paused' : s.phase.replace(/_/g, ' ')} (${s.policy}) — ${link}`,
    `  candidate:      ${s.candidate ? `${s.candidate.sha} ${s.candidate.title} (@${s.candidate.actor})` : '—'}`,
    `  staging:        ${s.staging ?? '?'}`,
    `  production:     ${s.production ?? '?'}`,
    `  last validated: ${s.lastValidated ?? '—'}`,
    '  queue:',
    ...(s.queue.length ? s.queue.map((e) => `    ${e.status.padEnd(10)} ${e.sha.slice(0, 12)} ${e.title} (@${e.actor})${e.note ? ` — ${e.note}` : ''}`) : ['    (empty)']),
  ];
  const recent = s.approvals.slice(-5);
  if (recent.length) {
    lines.push(
      '  approvals:',
      ...recent.map((a) => `    ${a.at} ${a.decision} ${a.tag.slice(0, 12)} by @${a.approver} via ${a.via}${a.refused ? ` — refused: ${a.refused}` : ''}`),
    );
  }
  return lines.join('\n');
}
