/**
 * Activities that talk to Temporal itself: recording validated releases in the
 * long-lived record workflow, reading it back, and preempting an in-flight deploy.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { NotFound } from '../domain/errors';
import {
  deployWorkflowId,
  preemptSignal,
  recordQuery,
  recordWorkflowId,
  SA,
  validatedSignal,
  type PreemptNotice,
  type ValidatedRelease,
} from '../contract';

export interface TemporalDeps {
  client: Client;
}

export function createTemporalActivities(deps: TemporalDeps) {
  const { client } = deps;
  return {
    /** Appends a validated release to `record/<app>/<env>`, starting that workflow if needed. */
    async recordValidated(input: { app: string; env: string; release: ValidatedRelease }): Promise<void> {
      const taskQueue = Context.current().info.taskQueue;
      await client.workflow.signalWithStart('releaseRecord', {
        workflowId: recordWorkflowId(input.app, input.env),
        taskQueue,
        args: [{ app: input.app, env: input.env, validated: [] }],
        signal: validatedSignal,
        signalArgs: [input.release],
        typedSearchAttributes: [
          { key: SA.operation, value: 'record' },
          { key: SA.app, value: input.app },
          { key: SA.env, value: input.env },
        ],
        staticSummary: `validated releases of ${input.app} in ${input.env}`,
      });
    },

    /**
     * The newest validated release of (app, env) whose tag is not in `exclude`
     * (what runs now). NotFound when there is none.
     */
    async lastValidated(input: { app: string; env: string; exclude: string[] }): Promise<ValidatedRelease> {
      let validated: ValidatedRelease[] = [];
      try {
        validated = (await client.workflow.getHandle(recordWorkflowId(input.app, input.env)).query(recordQuery)).validated;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
      const pick = [...validated].reverse().find((r) => !input.exclude.includes(r.tag));
      if (!pick) {
        const known = validated.length ? ` (validated so far: ${validated.map((r) => r.tag.slice(0, 12)).join(', ')})` : '';
        throw new NotFound(
          `no validated release of ${input.app} in ${input.env} to roll back to other than ${input.exclude.join(', ') || 'what runs now'}${known}: pass a tag explicitly`,
        );
      }
      return pick;
    },

    /**
     * Cancels the deploy of (app, env) that is in flight, telling it why first, and waits
     * until it has closed. Returns what it preempted, or undefined if nothing ran.
     */
    async preemptDeploy(input: { app: string; env: string; notice: PreemptNotice }): Promise<{ workflowId: string; runId: string; tag?: string } | undefined> {
      const workflowId = deployWorkflowId(input.app, input.env);
      const handle = client.workflow.getHandle(workflowId);
      let desc;
      try {
        desc = await handle.describe();
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
      if (desc.status.name !== 'RUNNING') return undefined;
      const tag = desc.typedSearchAttributes.get(SA.tag);
      const running = client.workflow.getHandle(workflowId, desc.runId);
      await running.signal(preemptSignal, input.notice);
      await running.cancel();
      // Wait for it to close; heartbeating so a dead worker is noticed.
      const ctx = Context.current();
      for (;;) {
        const d = await running.describe();
        if (d.status.name !== 'RUNNING') break;
        ctx.heartbeat();
        await ctx.sleep(250);
      }
      return { workflowId, runId: desc.runId, tag };
    },
  };
}

export type TemporalActivities = ReturnType<typeof createTemporalActivities>;
