/**
 * Rollback and redeploy: each decides which tag to deploy, then runs the deploy workflow
 * as a child under the service's lock (`deploy/<app>/<env>`), so every rule of a deploy
 * (preflight, exactly-once effects, truthful outcome, verification) holds for them too.
 */
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  executeChild,
  patched,
  proxyActivities,
  setCurrentDetails,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { keyword, operationInputProblem } from '../domain/input';
import { shortTag } from '../domain/tags';
import { deploy } from './deploy';
import { endingOf } from './failures';
import { Notifier } from './notifier';
import { quick } from './profiles';
import {
  deployWorkflowId,
  FailureType,
  SA,
  type DeployFailureDetails,
  type DeployInput,
  type DeployResult,
  type Outcome,
  type RedeployInput,
  type RedeployResult,
  type RollbackInput,
  type RollbackResult,
} from '../contract';

const { resolveTarget, authorize, checkImageTags, readVersion, lastValidated } = proxyActivities<Activities>(quick);
const { preemptDeploy } = proxyActivities<Activities>({ ...quick, startToCloseTimeout: '5m', heartbeatTimeout: '20s' });

export async function rollback(input: RollbackInput): Promise<RollbackResult> {
  const op = new Operation('rollback', input);
  op.start(input.tag);
  op.check(operationInputProblem(input, false));
  const target = await op.preflight(() => resolveTarget({ app: input.app, env: input.env }));
  await op.preflight(() => authorize({ actor: input.actor, operation: 'rollback', app: input.app, env: input.env }));

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
}

export async function redeploy(input: RedeployInput): Promise<RedeployResult> {
  const op = new Operation('redeploy', input);
  op.start();
  op.check(operationInputProblem(input, false));
  const target = await op.preflight(() => resolveTarget({ app: input.app, env: input.env }));
  if (!target.versionEndpoint) {
    op.fail('refused', FailureType.badInput, `refused: ${input.app} in ${input.env} has no versionEndpoint in the config, so there is no running version to redeploy; deploy a tag instead`);
  }
  const reported = await op.preflight(() => readVersion({ url: target.versionEndpoint! }));
  op.note(`${reported.url} reports '${shortTag(reported.release)}': deploying it again from the current template`);
  upsertSearchAttributes([{ key: SA.tag, value: keyword(reported.release) }]);
  const result = await op.deployChild(reported.release);
  return { ...result, reportedBy: reported.url };
}

/** The parts rollback and redeploy share: search attributes, refusals, the child deploy. */
class Operation {
  private lines: string[] = [];
  private notifier?: Notifier;
  constructor(
    private readonly kind: 'rollback' | 'redeploy',
    private readonly input: RollbackInput | RedeployInput,
  ) {}

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
    if (problem) this.fail('refused', FailureType.badInput, `refused: ${problem}`);
  }

  fail(outcome: Exclude<Outcome, 'running' | 'succeeded'>, type: string, message: string, details?: unknown): never {
    this.note(message);
    upsertSearchAttributes([{ key: SA.outcome, value: outcome }]);
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
  }

  /** Runs a preflight activity; bad input, unknown things and unauthorised actors end the operation as refused. */
  async preflight<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      const ending = endingOf(err);
      if (ending) this.fail(ending.outcome, ending.type, ending.message);
      throw err;
    }
  }

  async deployChild(tag: string, taskDefinitionArn?: string): Promise<DeployResult> {
    const i = this.input;
    if (patched('notify-start-success-failure')) {
      this.notifier = new Notifier({ kind: this.kind, app: i.app, env: i.env, tag, actor: i.actor, reason: i.reason }, (l) => this.note(l));
      this.notifier.started();
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
    try {
      const result = await executeChild(deploy, {
        workflowId: deployWorkflowId(i.app, i.env),
        args: [deployInput],
        staticSummary: `${this.kind} ${i.app} ${shortTag(tag)} → ${i.env} by @${i.actor}`,
      });
      await this.notifier?.succeeded();
      this.note(`succeeded: ${i.env} runs ${shortTag(tag)}`);
      upsertSearchAttributes([{ key: SA.outcome, value: 'succeeded' }]);
      return result;
    } catch (err) {
      if (err instanceof ChildWorkflowFailure && err.cause instanceof ApplicationFailure) {
        const f = err.cause;
        const details = f.details?.[0] as DeployFailureDetails | undefined;
        await this.notifier?.failed(details?.outcome ?? 'failed', f.message, details?.reasons ?? []);
        this.fail(details?.outcome ?? 'failed', f.type ?? FailureType.failed, f.message, details);
      }
      if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') {
        this.fail('failed', 'AlreadyRunning', `another deploy of ${i.app} to ${i.env} started meanwhile (workflow ${deployWorkflowId(i.app, i.env)}); try again`);
      }
      throw err;
    }
  }
}
