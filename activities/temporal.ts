/**
 * Activities that talk to Temporal itself: recording validated releases in the
 * long-lived record workflow, reading it back, and preempting an in-flight deploy.
 */
import { QueryNotRegisteredError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import { NotFound } from '../domain/errors';
import { beat } from './heartbeat';
import {
  deployWorkflowId,
  pipelineStateQuery,
  pipelineWorkflowId,
  preemptSignal,
  progressQuery,
  recordQuery,
  recordWorkflowId,
  SA,
  validatedSignal,
  type DeployResult,
  type LatestDeploy,
  type PreemptedDeploy,
  type PreemptNotice,
  type ValidatedRelease,
  type ValidationCheck,
  type WithdrawalReport,
} from '../contract';

/** How long a confirmation waits for the reporting deploy to complete (it reports just before). */
const CONFIRM_WAIT_MS = 10 * 60 * 1000;
/** How long a rollback waits for reports still being confirmed before it picks a target. */
const PENDING_WAIT_MS = 20 * 1000;

export interface TemporalDeps {
  client: Client;
}

export function createTemporalActivities(deps: TemporalDeps & { confirmWaitMs?: number }) {
  const { client } = deps;
  return {
    /**
     * Confirms a reported validated release against the deploy execution it names: that
     * execution is the deploy of (app, env), it completed successfully, deployed that
     * exact tag and revision, and its version endpoint reported the tag. The entry is built
     * from the execution (its result, search attributes and close time), not from the report.
     */
    async confirmValidated(input: { app: string; env: string; release: ValidatedRelease }): Promise<ValidationCheck> {
      const { app, env, release: r } = input;
      const no = (reason: string): ValidationCheck => ({ ok: false, reason });
      const expectedId = deployWorkflowId(app, env);
      if (r.workflowId !== expectedId) return no(`names workflow ${r.workflowId}, but releases of ${app} in ${env} are validated only by ${expectedId}`);
      const handle = client.workflow.getHandle(r.workflowId, r.runId);
      const ctx = Context.current();
      const deadline = Date.now() + (deps.confirmWaitMs ?? CONFIRM_WAIT_MS);
      let desc;
      for (;;) {
        try {
          desc = await handle.describe();
        } catch (err) {
          if (err instanceof WorkflowNotFoundError) return no(`there is no execution ${r.workflowId} with run ${r.runId}`);
          throw err;
        }
        if (desc.runId !== r.runId) return no(`there is no execution ${r.workflowId} with run ${r.runId}`);
        if (desc.type !== 'deploy') return no(`${r.workflowId} run ${r.runId} is a ${desc.type} workflow, not a deploy`);
        if (desc.status.name !== 'RUNNING') break;
        if (Date.now() > deadline) return no(`${r.workflowId} run ${r.runId} had not completed after ${Math.round((deps.confirmWaitMs ?? CONFIRM_WAIT_MS) / 1000)} s`);
        ctx.heartbeat();
        await ctx.sleep(250);
      }
      if (desc.status.name !== 'COMPLETED') return no(`${r.workflowId} run ${r.runId} ended ${desc.status.name.toLowerCase()}, not completed`);
      const result = (await handle.result()) as DeployResult | undefined;
      if (!result || result.outcome !== 'succeeded') return no(`${r.workflowId} run ${r.runId} did not succeed`);
      if (result.app !== app || result.env !== env) return no(`${r.workflowId} run ${r.runId} deployed ${result.app} to ${result.env}, not ${app} to ${env}`);
      if (result.tag !== r.tag) return no(`${r.workflowId} run ${r.runId} deployed '${result.tag}', not '${r.tag}'`);
      if (result.verified?.release !== r.tag) return no(`${r.workflowId} run ${r.runId} did not see '${r.tag}' on a version endpoint`);
      if (result.taskDefinitionArn !== r.taskDefinitionArn) return no(`${r.workflowId} run ${r.runId} registered ${result.taskDefinitionArn}, not ${r.taskDefinitionArn}`);
      const operation = desc.typedSearchAttributes.get(SA.operation);
      return {
        ok: true,
        release: {
          tag: result.tag,
          taskDefinitionArn: result.taskDefinitionArn,
          actor: desc.typedSearchAttributes.get(SA.actor) ?? r.actor,
          workflowId: r.workflowId,
          runId: r.runId,
          at: (desc.closeTime ?? new Date()).toISOString(),
          operation: operation === 'rollback' || operation === 'redeploy' ? operation : 'deploy',
        },
      };
    },

    /**
     * Confirms a reported withdrawal against the pipeline it names: that is the pipeline of
     * `app`, and its state records the tag's production smoke suite as failed.
     */
    async confirmWithdrawal(input: { app: string; report: WithdrawalReport }): Promise<{ ok: true } | { ok: false; reason: string }> {
      const { app, report } = input;
      if (report.workflowId !== pipelineWorkflowId(app)) return { ok: false, reason: `${report.workflowId} is not the pipeline of ${app} (${pipelineWorkflowId(app)})` };
      let state;
      try {
        state = await client.workflow.getHandle(report.workflowId).query(pipelineStateQuery);
      } catch (err) {
        if (err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError) return { ok: false, reason: `${report.workflowId} is not running` };
        throw err;
      }
      const failed = state.history.some((h) => h.sha === report.tag && h.outcome === 'smoke_failed');
      return failed ? { ok: true } : { ok: false, reason: `${report.workflowId} records no failed smoke suite of '${report.tag}'` };
    },

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
      const handle = client.workflow.getHandle(recordWorkflowId(input.app, input.env));
      // Releases still being confirmed (a deploy that just finished) are waited for, briefly.
      const deadline = Date.now() + PENDING_WAIT_MS;
      try {
        for (;;) {
          const state = await handle.query(recordQuery);
          validated = state.validated;
          if (!state.pending?.length || Date.now() > deadline) break;
          beat(Context.current());
          await Context.current().sleep(200);
        }
      } catch (err) {
        // No record, or one that refused to start (it was started with entries): nothing validated.
        if (!(err instanceof WorkflowNotFoundError || err instanceof QueryNotRegisteredError)) throw err;
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

    /** The newest execution of `deploy/<app>/<env>` (running or closed), or undefined when there was none. */
    async latestDeploy(input: { app: string; env: string }): Promise<LatestDeploy | undefined> {
      const workflowId = deployWorkflowId(input.app, input.env);
      try {
        const d = await client.workflow.getHandle(workflowId).describe();
        const tag = d.typedSearchAttributes.get(SA.tag);
        const outcome = d.typedSearchAttributes.get(SA.outcome);
        return {
          workflowId,
          runId: d.runId,
          status: d.status.name,
          ...(d.closeTime && { closeTime: d.closeTime.toISOString() }),
          ...(tag !== undefined && { tag }),
          ...(outcome !== undefined && { outcome }),
        };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) return undefined;
        throw err;
      }
    },

    /**
     * Cancels the deploy of (app, env) that is in flight, telling it why first, and waits
     * until it has closed. Returns what it preempted, or undefined if nothing ran.
     */
    async preemptDeploy(input: { app: string; env: string; notice: PreemptNotice }): Promise<PreemptedDeploy | undefined> {
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
      // How it left ECS: the service deployment it had started, and whether it stopped it.
      const last = await running.query(progressQuery).catch(() => undefined);
      return {
        workflowId,
        runId: desc.runId,
        tag,
        ...(last?.serviceDeploymentArn && { serviceDeploymentArn: last.serviceDeploymentArn }),
        ...(last?.stoppedEcsDeployment && { stoppedEcsDeployment: last.stoppedEcsDeployment }),
      };
    },
  };
}

export type TemporalActivities = ReturnType<typeof createTemporalActivities>;
