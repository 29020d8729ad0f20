/**
 * Rollback and redeploy: each decides which tag to deploy, then runs the deploy workflow
 * as a child under the service's lock (`deploy/<app>/<env>`), so every rule of a deploy
 * (preflight, exactly-once effects, truthful outcome, verification) holds for them too.
 */
import { executeChild, patched, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { provenShown } from '../domain/identity';
import { keyword, operationInputProblem } from '../domain/input';
import { progressText } from '../domain/progress-text';
import { shortTag } from '../domain/tags';
import { deploy } from './deploy';
import { Closing, lockProblem } from './failures';
import { Notifier } from './notifier';
import { PATCH_NOTIFY, PATCH_REDEPLOY_AUTHORIZES, PATCH_REDEPLOY_PROVES_IDENTITY } from './patches';
import { preempt, quick } from './profiles';
import {
  deployWorkflowId,
  FailureType,
  redeployWorkflowId,
  rollbackWorkflowId,
  SA,
  type DeployInput,
  type DeployResult,
  type ProgressCode,
  type ProgressData,
  type ProgressEvent,
  type ProgressLevel,
  type RedeployInput,
  type RedeployResult,
  type RollbackInput,
  type RollbackResult,
} from '../contract';

const { resolveTarget, authorize, checkImageTags, readVersion, lastValidated } = proxyActivities<Activities>(quick);
const { preemptDeploy } = proxyActivities<Activities>(preempt);


export async function rollback(input: RollbackInput): Promise<RollbackResult> {
  const op = new Operation('rollback', input);
  return op.run(async () => {
    op.start(input.tag);
    op.check(operationInputProblem(input, false));
    op.check(lockProblem(`a rollback of ${input.app} in ${input.env}`, rollbackWorkflowId(input.app, input.env)));
    const target = await op.preflight(() => resolveTarget({ app: input.app, env: input.env }));
    // A rollback started by another Slipway workflow (the pipeline's, after a failed smoke suite) acts for the actor that workflow proved.
    const auth = await op.preflight(() =>
      authorize({ actor: input.actor, operation: 'rollback', app: input.app, env: input.env, idToken: input.idToken, parentWorkflowId: workflowInfo().parent?.workflowId }),
    );
    op.proven(auth.proven);

    let tag = input.tag;
    let chosen: RollbackResult['chosen'] = 'explicit';
    let proven: string | undefined;
    if (tag === undefined) {
      // What runs now is not a rollback target; the newest validated release before it is.
      let current: string | undefined;
      if (target.versionEndpoint) {
        current = await readVersion({ url: target.versionEndpoint }).then(
          (v) => v.release,
          () => undefined,
        );
      }
      const pick = await op.preflight(() => lastValidated({ app: input.app, env: input.env, exclude: current ? [current] : [] }));
      tag = pick.tag;
      chosen = 'last-validated';
      // The exact revision that was proven, unless the template itself must change.
      if (pick.taskDefinitionArn && !input.rerender) proven = pick.taskDefinitionArn;
      op.note('rollback.target', { tag, ...(current && { running: current }), validatedAt: pick.at, validatedBy: pick.actor });
    }
    await op.preflight(() => checkImageTags({ images: target.images, tag: tag! }));
    upsertSearchAttributes([{ key: SA.tag, value: tag }]);

    const preempted = await preemptDeploy({
      app: input.app,
      env: input.env,
      notice: { by: workflowInfo().workflowId, actor: input.actor, reason: input.reason },
    });
    if (preempted) op.note('rollback.preempted', { ...(preempted.tag && { tag: preempted.tag }), runId: preempted.runId }, 'warn');

    const result = await op.deployChild(tag, proven);
    return { ...result, chosen, ...(preempted && { preempted }) };
  });
}

export async function redeploy(input: RedeployInput): Promise<RedeployResult> {
  const op = new Operation('redeploy', input);
  return op.run(async () => {
    op.start();
    op.check(operationInputProblem(input, false));
    op.check(lockProblem(`a redeploy of ${input.app} in ${input.env}`, redeployWorkflowId(input.app, input.env)));
    const target = await op.preflight(() => resolveTarget({ app: input.app, env: input.env }));
    // Authorised (and, in oidc mode, proven: the child deploy trusts its parent for who is
    // acting) before anything is announced: an outsider's redeploy tells nobody anything.
    // Redeploys recorded under either earlier marker replay with their one check.
    if (patched(PATCH_REDEPLOY_AUTHORIZES) || patched(PATCH_REDEPLOY_PROVES_IDENTITY)) {
      const auth = await op.preflight(() => authorize({ actor: input.actor, operation: 'redeploy', app: input.app, env: input.env, idToken: input.idToken }));
      op.proven(auth.proven);
    }
    if (!target.versionEndpoint) {
      op.fail(FailureType.badInput, `refused: ${input.app} in ${input.env} has no versionEndpoint in the config, so there is no running version to redeploy; deploy a tag instead`);
    }
    const reported = await op.preflight(() => readVersion({ url: target.versionEndpoint! }));
    op.note('redeploy.reported', { url: reported.url, release: reported.release });
    upsertSearchAttributes([{ key: SA.tag, value: keyword(reported.release) }]);
    const result = await op.deployChild(reported.release);
    return { ...result, reportedBy: reported.url };
  });
}

/** The parts rollback and redeploy share: search attributes, refusals, the child deploy, the ending. */
class Operation {
  private entries: ProgressEvent[] = [];
  private readonly closing = new Closing({
    say: (message, outcome) => (outcome ? this.note('operation.ended', { outcome, message }, 'error') : this.note('notification.unsent', { message }, 'warn')),
  });
  constructor(
    private readonly kind: 'rollback' | 'redeploy',
    private readonly input: RollbackInput | RedeployInput,
  ) {}

  async run<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (err) {
      return await this.closing.caught(err);
    }
  }

  start(tag?: string): void {
    const i = this.input;
    upsertSearchAttributes([
      { key: SA.operation, value: this.kind },
      { key: SA.app, value: keyword(i.app) },
      { key: SA.env, value: keyword(i.env) },
      { key: SA.actor, value: keyword(i.actor) },
      { key: SA.outcome, value: 'running' },
      ...(tag !== undefined ? [{ key: SA.tag, value: keyword(tag) }] : []),
    ]);
    this.note('operation.requested', {
      operation: this.kind,
      app: keyword(i.app),
      env: keyword(i.env),
      actor: keyword(i.actor),
      ...(i.reason ? { reason: keyword(i.reason) } : {}),
    });
  }

  /** A typed progress event; the UI's current details show the last ten in words. */
  note<C extends ProgressCode>(code: C, data: ProgressData[C], level: ProgressLevel = 'info'): void {
    this.entries.push({ code, level, at: new Date().toISOString(), data } as ProgressEvent);
    if (this.entries.length > 10) this.entries.shift();
    setCurrentDetails(this.entries.map((e) => `- ${progressText(e)}`).join('\n'));
  }

  /** The identity a GitHub Actions ID token proved, when it did. */
  proven(p: { actor: string; triggeringActor?: string; workflowRef?: string; runId?: string } | undefined): void {
    if (p) this.note('identity.proven', provenShown(p));
  }

  check(problem: string | undefined): void {
    if (problem) this.fail(FailureType.badInput, `refused: ${problem}`);
  }

  fail(type: string, message: string): never {
    return this.closing.end('refused', type, message);
  }

  /** Runs a preflight activity; bad input, unknown things and unauthorised actors end the operation as refused. */
  preflight<T>(fn: () => Promise<T>): Promise<T> {
    return this.closing.step(fn);
  }

  async deployChild(tag: string, taskDefinitionArn?: string): Promise<DeployResult> {
    const i = this.input;
    if (patched(PATCH_NOTIFY)) {
      this.closing.notifier = new Notifier({ kind: this.kind, app: i.app, env: i.env, tag, actor: i.actor, reason: i.reason }, (message) => this.note('notification.unsent', { message }, 'warn'));
      this.closing.notifier.started();
    }
    const deployInput: DeployInput = {
      app: i.app,
      env: i.env,
      tag,
      actor: i.actor,
      reason: i.reason,
      budgetSeconds: i.budgetSeconds,
      operation: this.kind,
      ...(taskDefinitionArn !== undefined && { taskDefinitionArn }),
    };
    const result = await executeChild(deploy, {
      workflowId: deployWorkflowId(i.app, i.env),
      args: [deployInput],
      staticSummary: `${this.kind} ${i.app} ${shortTag(tag)} → ${i.env} by @${i.actor}`,
    });
    await this.closing.notifier?.succeeded();
    this.note('operation.succeeded', { env: i.env, tag });
    upsertSearchAttributes([{ key: SA.outcome, value: 'succeeded' }]);
    return result;
  }
}
