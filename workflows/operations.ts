/**
 * Rollback and redeploy: each decides which tag to deploy, then runs the deploy workflow
 * as a child under the service's lock (`deploy/<app>/<env>`), so every rule of a deploy
 * (preflight, exactly-once effects, truthful outcome, verification) holds for them too.
 */
import { type ActivityInterfaceFor, executeChild, patched, proxyActivities, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { keyword, operationInputProblem } from '../domain/input';
import { PRIORITY } from '../domain/ecs-queues';
import { revisionOf } from '../domain/outcome';
import { progressText } from '../domain/progress-text';
import { shortTag } from '../domain/tags';
import { deploy } from './deploy';
import { DetailsLog } from './details';
import { Closing, lockProblem } from './failures';
import { Notifier } from './notifier';
import { PATCH_NOTIFY, PATCH_REDEPLOY_AUTHORIZES, PATCH_REDEPLOY_PROVES_IDENTITY, PATCH_ROLLBACK_ADOPTS_STOP, PATCH_ROLLBACK_ALREADY_THERE } from './patches';
import { runLocalActivitiesAt } from './priority';
import { ecsRollback, preempt, preflightActivities, verify } from './profiles';
import {
  deployWorkflowId,
  FailureType,
  redeployWorkflowId,
  rollbackWorkflowId,
  SA,
  type DeployInput,
  type DeployResult,
  type PreemptedDeploy,
  type ProgressCode,
  type ProgressData,
  type ProgressLevel,
  type RedeployInput,
  type RedeployResult,
  type RollbackAnswer,
  type RollbackInput,
  type RollbackResult,
  type RollbackUnneeded,
  type ValidatedRelease,
} from '../contract';
import type { Target } from '../domain/config';

const { preemptDeploy } = proxyActivities<Activities>(preempt);

/** How a deploy ends when what ran before it runs on (or again): ECS rolled it back, or it gave up. */
const GAVE_WAY = ['rolled_back_by_ecs', 'rolled_back_by_alarm', 'timed_out', 'failed', 'cancelled'];

export async function rollback(input: RollbackInput): Promise<RollbackAnswer> {
  const op = new Operation('rollback', input);
  return op.run(async () => {
    op.start(input.tag);
    op.check(operationInputProblem(input, false));
    op.check(lockProblem(`a rollback of ${input.app} in ${input.env}`, rollbackWorkflowId(input.app, input.env)));
    const acts = preflightActivities('rollback');
    // Its checks read ECS before the reads of deploys waiting in the worker's ECS budget.
    runLocalActivitiesAt(PRIORITY.rollback);
    const { resolveTarget, authorize, checkImageTags, readVersion, lastValidated } = acts;
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
      // Right after ECS rolled a deploy back, the last validated release runs again: say so, change nothing.
      // While another deploy is in flight and the site still serves it, it is the target.
      let serving: ValidatedRelease | undefined;
      if (current !== undefined && patched(PATCH_ROLLBACK_ALREADY_THERE)) {
        const there = await alreadyThere(acts, input, target, current);
        if (there && 'answer' in there) {
          op.note('rollback.already-running', there.event);
          upsertSearchAttributes([
            { key: SA.tag, value: keyword(there.answer.tag) },
            { key: SA.outcome, value: 'succeeded' },
          ]);
          return there.answer;
        }
        serving = there?.serving;
      }
      const pick = serving ?? (await op.preflight(() => lastValidated({ app: input.app, env: input.env, exclude: current ? [current] : [] })));
      tag = pick.tag;
      chosen = 'last-validated';
      // The exact revision that was proven, unless the template itself must change.
      if (pick.taskDefinitionArn && !input.rerender) proven = pick.taskDefinitionArn;
      op.note('rollback.target', { tag, ...(current && !serving && { running: current }), validatedAt: pick.at, validatedBy: pick.actor, ...(serving && { serving: true }) });
    }
    await op.preflight(() => checkImageTags({ images: target.images, tag: tag! }));
    upsertSearchAttributes([{ key: SA.tag, value: tag }]);

    const preempted = await preemptDeploy({
      app: input.app,
      env: input.env,
      notice: { by: workflowInfo().workflowId, actor: input.actor, reason: input.reason },
    });
    if (preempted) op.note('rollback.preempted', { ...(preempted.tag && { tag: preempted.tag }), runId: preempted.runId }, 'warn');

    // The cancelled deploy stopped its ECS deployment with ROLLBACK: when ECS returns the
    // service to the very revision this rollback targets, that is the rollback.
    if (proven && preempted?.stoppedEcsDeployment === 'ROLLBACK' && preempted.serviceDeploymentArn && patched(PATCH_ROLLBACK_ADOPTS_STOP)) {
      const adopted = await op.adoptEcsRollback(target, tag, proven, preempted);
      if (adopted) return { ...adopted, chosen, preempted, how: 'stopped-and-rolled-back' };
    }
    const result = await op.deployChild(tag, proven);
    if (preempted && proven) op.note('rollback.repointed', { service: target.service, revision: revisionOf(proven), tag });
    return { ...result, chosen, ...(preempted && { preempted }), how: proven ? 're-pointed' : 'rendered' };
  });
}

type AlreadyRunningEvent = ProgressData['rollback.already-running'];

/**
 * The answer to a rollback to the last validated release when the environment runs it
 * already: it is the newest validated release, its version endpoint reports it, the service
 * runs its validated revision, and the deploy after it gave way (ECS rolled it back, or it
 * failed, timed out or was cancelled). `serving` when a later deploy is still in flight and
 * the site still serves the newest validated release (the target, then). Undefined
 * otherwise (then the rollback goes on as before).
 */
async function alreadyThere(
  acts: ActivityInterfaceFor<Activities>,
  input: RollbackInput,
  target: Target,
  current: string,
): Promise<{ answer: RollbackUnneeded; event: AlreadyRunningEvent } | { serving: ValidatedRelease } | undefined> {
  const { app, env } = input;
  const { lastValidated, readDeploymentSettings, latestDeploy } = acts;
  const newest = await lastValidated({ app, env, exclude: [] }).catch(() => undefined);
  if (!newest || newest.tag !== current) return undefined;
  const [settings, last] = await Promise.all([readDeploymentSettings({ target }).catch(() => undefined), latestDeploy({ app, env }).catch(() => undefined)]);
  // A deploy in flight whose revision the site does not serve yet (blue/green before the shift): what it serves is the target.
  if (last?.status === 'RUNNING' && last.tag !== newest.tag) return { serving: newest };
  if (!settings || settings.taskDefinitionArn !== newest.taskDefinitionArn) return undefined;
  if (!last || last.runId === newest.runId || !GAVE_WAY.includes(last.outcome ?? '')) return undefined;
  const since = last.closeTime ?? newest.at;
  const event: AlreadyRunningEvent = {
    app,
    env,
    tag: newest.tag,
    since,
    service: target.service,
    revision: revisionOf(newest.taskDefinitionArn),
    validatedAt: newest.at,
    validatedBy: newest.actor,
    ...(last.tag !== undefined && { afterTag: last.tag }),
    ...(last.outcome !== undefined && { afterOutcome: last.outcome }),
  };
  const answer: RollbackUnneeded = {
    outcome: 'already_running',
    app,
    env,
    tag: newest.tag,
    taskDefinitionArn: newest.taskDefinitionArn,
    since,
    validated: newest,
    after: { workflowId: last.workflowId, runId: last.runId, ...(last.tag !== undefined && { tag: last.tag }), ...(last.outcome !== undefined && { outcome: last.outcome }) },
    message: progressText({ code: 'rollback.already-running', level: 'info', at: since, data: event }),
  };
  return { answer, event };
}

export async function redeploy(input: RedeployInput): Promise<RedeployResult> {
  const op = new Operation('redeploy', input);
  return op.run(async () => {
    op.start();
    op.check(operationInputProblem(input, false));
    op.check(lockProblem(`a redeploy of ${input.app} in ${input.env}`, redeployWorkflowId(input.app, input.env)));
    const { resolveTarget, authorize, readVersion } = preflightActivities('redeploy');
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
  private readonly log = new DetailsLog(10);
  private readonly closing = new Closing({ say: this.log.say });
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
  note<C extends ProgressCode>(code: C, data: ProgressData[C], level?: ProgressLevel): void {
    this.log.note(code, data, level);
  }

  proven(p: Parameters<DetailsLog['proven']>[0]): void {
    this.log.proven(p);
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

  /**
   * Lets ECS's rollback of a stopped deployment be the rollback, when it returns the service
   * to `proven`: waits for it to succeed and the version endpoint to report `tag`. Undefined
   * when ECS rolls back elsewhere or does not finish (the caller re-points instead).
   */
  async adoptEcsRollback(target: Target, tag: string, proven: string, stopped: PreemptedDeploy): Promise<DeployResult | undefined> {
    const i = this.input;
    const { awaitEcsRollback } = proxyActivities<Activities>(ecsRollback(target.budgetSeconds));
    const r = await awaitEcsRollback({
      target,
      serviceDeploymentArn: stopped.serviceDeploymentArn!,
      expectedTaskDefinitionArn: proven,
      maxWaitSeconds: target.budgetSeconds,
    }).catch(() => undefined);
    if (!r || r.rolledBackTo !== proven || r.status !== 'ROLLBACK_SUCCESSFUL') {
      this.note(
        'rollback.ecs-elsewhere',
        { expected: revisionOf(proven), ...(r?.rolledBackTo && { rolledBackTo: revisionOf(r.rolledBackTo) }), ...(r && { status: r.status }) },
        'warn',
      );
      return undefined;
    }
    this.startNotices(tag);
    let verified: DeployResult['verified'];
    if (target.versionEndpoint) {
      const { awaitVersion } = proxyActivities<Activities>(verify(target.verifyBudgetSeconds));
      try {
        const seen = await awaitVersion({ url: target.versionEndpoint, expected: tag, budgetSeconds: target.verifyBudgetSeconds });
        verified = { url: seen.url, release: seen.release };
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        this.closing.end(
          'verification_failed',
          FailureType.verificationFailed,
          `ECS rolled back to ${revisionOf(proven)}, but ${cause instanceof Error ? cause.message : (err as Error).message}`,
        );
      }
    }
    this.note('rollback.ecs-rolled-back', { service: target.service, revision: revisionOf(proven), tag });
    await this.closing.notifier?.succeeded();
    upsertSearchAttributes([{ key: SA.outcome, value: 'succeeded' }]);
    return {
      outcome: 'succeeded',
      app: i.app,
      env: i.env,
      tag,
      taskDefinitionArn: proven,
      revision: Number(proven.slice(proven.lastIndexOf(':') + 1)),
      serviceDeploymentArn: stopped.serviceDeploymentArn!,
      counts: r.counts ?? { desired: 0, running: 0, pending: 0, failed: 0 },
      ...(verified && { verified }),
    };
  }

  private startNotices(tag: string): void {
    const i = this.input;
    if (patched(PATCH_NOTIFY)) {
      this.closing.notifier = new Notifier({ kind: this.kind, app: i.app, env: i.env, tag, actor: i.actor, reason: i.reason }, this.log.say);
      this.closing.notifier.started();
    }
  }

  async deployChild(tag: string, taskDefinitionArn?: string): Promise<DeployResult> {
    const i = this.input;
    this.startNotices(tag);
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
