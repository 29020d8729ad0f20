/**
 * Rollback and redeploy: each decides which tag to deploy, then runs the deploy workflow
 * as a child under the service's lock (`deploy/<app>/<env>`), so every rule of a deploy
 * (preflight, exactly-once effects, truthful outcome, verification) holds for them too.
 */
import { executeChild, patched, proxyActivities, setCurrentDetails, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { provenLine } from '../domain/identity';
import { revisionOf } from '../domain/outcome';
import { keyword, operationInputProblem } from '../domain/input';
import { shortTag } from '../domain/tags';
import { deploy } from './deploy';
import { Closing, lockProblem } from './failures';
import { Notifier } from './notifier';
import { PATCH_NOTIFY, PATCH_REDEPLOY_AUTHORIZES, PATCH_REDEPLOY_PROVES_IDENTITY, PATCH_ROLLBACK_ALREADY_THERE } from './patches';
import { preempt, quick } from './profiles';
import {
  deployWorkflowId,
  FailureType,
  redeployWorkflowId,
  rollbackWorkflowId,
  SA,
  type DeployInput,
  type DeployResult,
  type RedeployInput,
  type RedeployResult,
  type RollbackAnswer,
  type RollbackInput,
  type RollbackResult,
  type RollbackUnneeded,
} from '../contract';
import type { Target } from '../domain/config';

const { resolveTarget, authorize, checkImageTags, readVersion, lastValidated, readDeploymentSettings, latestDeploy } = proxyActivities<Activities>(quick);
const { preemptDeploy } = proxyActivities<Activities>(preempt);


/** How a deploy ends when what ran before it runs on (or again): ECS rolled it back, or it gave up. */
const GAVE_WAY = ['rolled_back_by_ecs', 'rolled_back_by_alarm', 'timed_out', 'failed', 'cancelled'];

export async function rollback(input: RollbackInput): Promise<RollbackAnswer> {
  const op = new Operation('rollback', input);
  return op.run(async () => {
    op.start(input.tag);
    op.check(operationInputProblem(input, false));
    op.check(lockProblem(`a rollback of ${input.app} in ${input.env}`, rollbackWorkflowId(input.app, input.env)));
    const target = await op.preflight(() => resolveTarget({ app: input.app, env: input.env }));
    const auth = await op.preflight(() => authorize({ actor: input.actor, operation: 'rollback', app: input.app, env: input.env, idToken: input.idToken }));
    if (auth.proven) op.note(provenLine(auth.proven));

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
      if (current !== undefined && patched(PATCH_ROLLBACK_ALREADY_THERE)) {
        const answer = await alreadyThere(input, target, current);
        if (answer) {
          op.note(answer.message);
          upsertSearchAttributes([
            { key: SA.tag, value: keyword(answer.tag) },
            { key: SA.outcome, value: 'succeeded' },
          ]);
          return answer;
        }
      }
      const pick = await op.preflight(() => lastValidated({ app: input.app, env: input.env, exclude: current ? [current] : [] }));
      tag = pick.tag;
      chosen = 'last-validated';
      // The exact revision that was proven, unless the template itself must change.
      if (pick.taskDefinitionArn && !input.rerender) proven = pick.taskDefinitionArn;
      op.note(`target: ${shortTag(tag)}, the last validated release${current ? ` before ${shortTag(current)} (running now)` : ''}, validated ${pick.at} by @${pick.actor}`);
    }
    await op.preflight(() => checkImageTags({ images: target.images, tag: tag! }));
    upsertSearchAttributes([{ key: SA.tag, value: tag }]);

    const preempted = await preemptDeploy({
      app: input.app,
      env: input.env,
      notice: { by: workflowInfo().workflowId, actor: input.actor, reason: input.reason },
    });
    if (preempted) op.note(`cancelled the deploy in flight (${preempted.tag ? shortTag(preempted.tag) : '?'}, run ${preempted.runId})`);

    const result = await op.deployChild(tag, proven);
    return { ...result, chosen, ...(preempted && { preempted }) };
  });
}

/**
 * The answer to a rollback to the last validated release when the environment runs it
 * already: it is the newest validated release, its version endpoint reports it, the service
 * runs its validated revision, and the deploy after it gave way (ECS rolled it back, or it
 * failed, timed out or was cancelled). Undefined otherwise (then the rollback goes on).
 */
async function alreadyThere(input: RollbackInput, target: Target, current: string): Promise<RollbackUnneeded | undefined> {
  const { app, env } = input;
  const newest = await lastValidated({ app, env, exclude: [] }).catch(() => undefined);
  if (!newest || newest.tag !== current) return undefined;
  const [settings, last] = await Promise.all([readDeploymentSettings({ target }).catch(() => undefined), latestDeploy({ app, env }).catch(() => undefined)]);
  if (!settings || settings.taskDefinitionArn !== newest.taskDefinitionArn) return undefined;
  if (!last || last.runId === newest.runId || !GAVE_WAY.includes(last.outcome ?? '')) return undefined;
  const since = last.closeTime ?? newest.at;
  const outcome = (last.outcome ?? '').replace(/_/g, ' ');
  return {
    outcome: 'already_running',
    app,
    env,
    tag: newest.tag,
    taskDefinitionArn: newest.taskDefinitionArn,
    since,
    validated: newest,
    after: { workflowId: last.workflowId, runId: last.runId, ...(last.tag !== undefined && { tag: last.tag }), ...(last.outcome !== undefined && { outcome: last.outcome }) },
    message:
      `${env} already runs the last validated release ${newest.tag} (since ${since}): the deploy of ${last.tag ? shortTag(last.tag) : 'another tag'} after it ended ${outcome}, ` +
      `and ${target.service} runs ${revisionOf(newest.taskDefinitionArn)} again (validated ${newest.at} by @${newest.actor}). Nothing was changed. ` +
      `To go further back, name the tag: slipway rollback ${app} ${env} --tag <tag>`,
  };
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
      if (auth.proven) op.note(provenLine(auth.proven));
    }
    if (!target.versionEndpoint) {
      op.fail(FailureType.badInput, `refused: ${input.app} in ${input.env} has no versionEndpoint in the config, so there is no running version to redeploy; deploy a tag instead`);
    }
    const reported = await op.preflight(() => readVersion({ url: target.versionEndpoint! }));
    op.note(`${reported.url} reports '${shortTag(reported.release)}': deploying it again from the current template`);
    upsertSearchAttributes([{ key: SA.tag, value: keyword(reported.release) }]);
    const result = await op.deployChild(reported.release);
    return { ...result, reportedBy: reported.url };
  });
}

/** The parts rollback and redeploy share: search attributes, refusals, the child deploy, the ending. */
class Operation {
  private lines: string[] = [];
  private readonly closing = new Closing({ say: (line) => this.note(line) });
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
    this.note(`${this.kind} ${keyword(i.app)} in ${keyword(i.env)} by @${keyword(i.actor)}${i.reason ? ` (${keyword(i.reason)})` : ''}`);
  }

  note(line: string): void {
    this.lines.push(line);
    setCurrentDetails(this.lines.slice(-10).map((l) => `- ${l}`).join('\n'));
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
      this.closing.notifier = new Notifier({ kind: this.kind, app: i.app, env: i.env, tag, actor: i.actor, reason: i.reason }, (l) => this.note(l));
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
    this.note(`succeeded: ${i.env} runs ${shortTag(tag)}`);
    upsertSearchAttributes([{ key: SA.outcome, value: 'succeeded' }]);
    return result;
  }
}
