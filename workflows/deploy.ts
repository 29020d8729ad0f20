/**
 * The deploy workflow: (app, env, tag) → preflight → register the rendered revision →
 * update the service → wait until ECS truly succeeds, rolls back, or the budget runs out.
 *
 * Deterministic code only: every outside call is an activity. `Date.now()` here is the
 * SDK's workflow clock (the time of the current workflow task), not the machine's.
 */
import {
  type ActivityOptions,
  ApplicationFailure,
  condition,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { WatchCursor, WatchReport } from '../activities/ecs';
import { endsDeployment, wantsLook } from '../domain/ecs-events';
import { revisionOf } from '../domain/outcome';
import { provenShown } from '../domain/identity';
import { progressText, stopText, tasksText } from '../domain/progress-text';
import { keyword, operationInputProblem } from '../domain/input';
import { deployPriority, reconcilePriority } from '../domain/ecs-queues';
import { runLocalActivitiesAt } from './priority';
import { deployBudget, describeSettings, formatDuration, type DeploymentSettings } from '../domain/strategy';
import { shortTag } from '../domain/tags';
import { progressEvent } from './details';
import { Closing, lockProblem } from './failures';
import { Notifier } from './notifier';
import { PATCH_CONFIRM_LOCALLY, PATCH_ECS_QUEUES, PATCH_EVENT_WATCH, PATCH_NOTIFY, PATCH_PREFLIGHT, PATCH_SETTINGS, PATCH_STOP, PATCH_TEST_GATE, PATCH_VERIFY } from './patches';
import { TestGate, type TestTrafficTarget } from './test-gate';
import { confirmingLook, ecsRead, preflightActivities, ecsRegister, ecsUpdate, ecsWatch, effect, quick, verify, watch } from './profiles';
import {
  deployWorkflowId,
  ecsEventSignal,
  FailureType,
  preemptSignal,
  progressQuery,
  SA,
  type DeployFailureDetails,
  type DeployInput,
  type DeployPhase,
  type DeployProgress,
  type DeployResult,
  type EcsEventNotice,
  type Outcome,
  type PreemptNotice,
  type ProgressCode,
  type ProgressData,
  type ProgressLevel,
} from '../contract';

const { recordValidated } = proxyActivities<Activities>(quick);
const { stopServiceDeployment, continueServiceDeployment } = proxyActivities<Activities>(effect);

/**
 * ECS activities on their rate-limited task queue (`options`), or, for deploys that began
 * before those queues existed, on the workflow's own (`before`).
 */
function ecsActivities(options: ActivityOptions, before: ActivityOptions) {
  return proxyActivities<Activities>(patched(PATCH_ECS_QUEUES) ? options : before);
}

const DEFAULT_BUDGET_SECONDS = 15 * 60;
const MAX_WATCH_SECONDS = 60;
const LOG_KEEP = 100;
/** ECS event IDs remembered, to drop redeliveries. */
const EVENT_IDS_KEEP = 200;
/** After an event said the rollout ended but the look did not see it yet: look again this soon. */
const CONFIRM_AGAIN_MS = 1000;
/** Time kept back from the deploy's budget when the gate on test traffic takes its share. */
const GATE_MARGIN_MS = 30_000;

export async function deploy(input: DeployInput): Promise<DeployResult> {
  const operation = input.operation ?? 'deploy';
  let preempted: PreemptNotice | undefined;
  setHandler(preemptSignal, (notice) => {
    preempted = notice;
  });
  // ECS's events about the service, from the worker that read them (at least once, any order).
  const inbox: EcsEventNotice[] = [];
  const eventIds: string[] = [];
  setHandler(ecsEventSignal, (e) => {
    if (eventIds.includes(e.id)) return;
    eventIds.push(e.id);
    if (eventIds.length > EVENT_IDS_KEEP) eventIds.shift();
    inbox.push(e);
  });
  const progress: DeployProgress = {
    app: input.app,
    env: input.env,
    tag: input.tag,
    actor: input.actor,
    phase: 'preflight',
    events: [],
    stoppedReasons: [],
    entries: [],
    entryCount: 0,
    log: [],
    logCount: 0,
    parentWorkflowId: workflowInfo().parent?.workflowId,
  };
  // The words are rendered when asked for, from the typed events.
  setHandler(progressQuery, () => ({ ...progress, log: progress.entries.map(progressText), logCount: progress.entryCount }));

  /** Emits a typed progress event (the last LOG_KEEP are kept). */
  const say = <C extends ProgressCode>(code: C, data: ProgressData[C], level: ProgressLevel = 'info') => {
    progress.entries.push(progressEvent(code, data, level));
    progress.entryCount++;
    if (progress.entries.length > LOG_KEEP) progress.entries.splice(0, progress.entries.length - LOG_KEEP);
  };
  // Approvals of the tag on test traffic arrive whenever ECS holds it there (a PAUSE hook).
  const gate = new TestGate(input, progress, say);
  const enter = (phase: DeployPhase, emit?: () => void) => {
    progress.phase = phase;
    emit?.();
    setCurrentDetails(renderDetails(progress));
  };
  // How this deploy ends, whatever ends it. Its notifier is set once the request passed
  // preflight: refusals change nothing, notifications included.
  const closing = new Closing({
    say: (message, outcome) => (outcome ? enter(outcome, () => say('operation.ended', { outcome, message }, 'error')) : say('notification.unsent', { message }, 'warn')),
    details: (outcome): DeployFailureDetails => ({
      outcome,
      app: input.app,
      env: input.env,
      tag: input.tag,
      taskDefinitionArn: progress.taskDefinitionArn,
      serviceDeploymentArn: progress.serviceDeploymentArn,
      reasons: [...progress.stoppedReasons],
      ...(progress.stoppedEcsDeployment && { stoppedEcsDeployment: progress.stoppedEcsDeployment }),
      ...(progress.gate?.state === 'failed' && { testGateFailed: progress.gate.reason }),
    }),
    cancelled: () => (preempted ? `preempted by ${preempted.by} (@${preempted.actor}${preempted.reason ? `: ${preempted.reason}` : ''})` : 'cancelled'),
    // Cancelled or preempted while ECS rolls out what this deploy started: ECS stops too.
    onCancel: async () => {
      if (progress.phase === 'waiting' || progress.phase === 'gating' || progress.phase === 'rolling_back') await stopEcs();
    },
  });
  const end = (outcome: Exclude<Outcome, 'running' | 'succeeded'>, type: string, message: string, extra: Partial<DeployFailureDetails> = {}): never =>
    closing.end(outcome, type, message, Object.keys(extra).length ? { details: { ...(closing.details(outcome) as DeployFailureDetails), ...extra } } : {});
  const step = <T>(fn: () => Promise<T>) => closing.step(fn);

  let resolved: Awaited<ReturnType<Activities['resolveTarget']>> | undefined;

  /** Ends the ECS deployment this deploy started, if it still runs (StopServiceDeployment). */
  const stopEcs = async (): Promise<string> => {
    const target = resolved;
    if (!target || !progress.serviceDeploymentArn || !patched(PATCH_STOP)) return '';
    const stopType = target.stopType ?? 'ROLLBACK';
    const r = await stopServiceDeployment({ target, serviceDeploymentArn: progress.serviceDeploymentArn, stopType });
    if (!r.stopped) return '';
    progress.stoppedEcsDeployment = stopType;
    say('ecs.stopped', { stopType }, 'warn');
    return `; Slipway stopped the ECS deployment (${stopType}: ${stopText(stopType)})`;
  };

  try {
    return await run();
  } catch (err) {
    return await closing.caught(err);
  }

  async function run(): Promise<DeployResult> {
    upsertSearchAttributes([
      { key: SA.operation, value: operation },
      { key: SA.app, value: keyword(input.app) },
      { key: SA.env, value: keyword(input.env) },
      { key: SA.tag, value: keyword(input.tag) },
      { key: SA.actor, value: keyword(input.actor) },
      { key: SA.outcome, value: 'running' },
    ]);
    enter('preflight', () =>
      say('operation.requested', {
        operation,
        app: keyword(input.app),
        env: keyword(input.env),
        tag: keyword(input.tag),
        actor: keyword(input.actor),
        ...(input.reason ? { reason: keyword(input.reason) } : {}),
      }),
    );

    // ---- preflight: nothing below this block runs unless the request is sound ----
    const problem = operationInputProblem(input, true);
    if (problem) end('refused', FailureType.badInput, `refused: ${problem}`);
    // The workflow ID is the service's lock: a deploy started under any other ID would run beside one holding it.
    const lock = lockProblem(`a deploy of ${input.app} to ${input.env}`, deployWorkflowId(input.app, input.env));
    if (lock) end('refused', FailureType.badInput, `refused: ${lock}`);
    const { resolveTarget, authorize, checkImageTags, readDeploymentSettings } = preflightActivities('deploy');
    const target = await step(() => resolveTarget({ app: input.app, env: input.env }));
    resolved = target;
    // Rollbacks, then production, go first where ECS's budget is contended.
    const priority = deployPriority(operation, target.production);
    runLocalActivitiesAt(priority);
    progress.cluster = target.cluster;
    progress.service = target.service;

    // Deploys started before these checks existed replay without them (patch markers).
    if (patched(PATCH_PREFLIGHT)) {
      enter('authorizing');
      const auth = await step(() =>
        authorize({ actor: input.actor, operation, app: input.app, env: input.env, idToken: input.idToken, parentWorkflowId: workflowInfo().parent?.workflowId }),
      );
      if (auth.proven) say('identity.proven', provenShown(auth.proven));
      if (auth.checked) say('actor.authorised', { actor: input.actor, via: auth.via === 'team' ? 'team' : 'bot', ...(auth.team ? { team: auth.team } : {}) });

      enter('checking_images');
      await step(() => checkImageTags({ images: target.images, tag: input.tag }));
      say('images.found', { tag: input.tag, images: target.images.map((i) => i.repository.split('/').pop() ?? i.repository) });
    }

    // How the service deploys decides the budget; a service that runs nothing is no target.
    let settings: DeploymentSettings | undefined;
    if (patched(PATCH_SETTINGS)) {
      settings = await step(() => readDeploymentSettings({ target }));
      if (settings.desiredCount <= 0) {
        end(
          'refused',
          FailureType.badInput,
          `refused: service ${target.cluster}/${target.service} has desiredCount 0, so nothing would run '${shortTag(input.tag)}' and success could not be told from nothing: ` +
            `scale the service up first (aws ecs update-service --cluster ${target.cluster} --service ${target.service} --desired-count N), then deploy again`,
        );
      }
      progress.strategy = describeSettings(settings);
      say('service.strategy', { service: target.service, strategy: progress.strategy });
      if (target.testTraffic && !settings.hooks.some((h) => h.targetType === 'PAUSE' && h.stages.includes(TEST_STAGE))) {
        say('gate.unhooked', { env: input.env, service: target.service, stage: TEST_STAGE }, 'warn');
      }
    }

    // Only a deploy started on its own speaks for itself; a rollback or release announces its child.
    if (!workflowInfo().parent && patched(PATCH_NOTIFY)) {
      closing.notifier = new Notifier(
        { kind: operation, app: input.app, env: input.env, tag: input.tag, actor: input.actor, reason: input.reason, service: target.service },
        (message) => say('notification.unsent', { message }, 'warn'),
      );
      closing.notifier.started();
    }

    const { workflowId, runId } = workflowInfo();
    let registered: { taskDefinitionArn: string; revision: number };
    const exact = input.taskDefinitionArn;
    if (exact !== undefined) {
      // ---- an exact revision that was proven: no render, no registration ----
      if (!revisionOf(exact).startsWith(`${target.family}:`) || !/:\d+$/.test(exact)) {
        end('refused', FailureType.badInput, `refused: ${revisionOf(exact)} is not a revision of ${target.family}, the family of ${input.app} in ${input.env}`);
      }
      registered = { taskDefinitionArn: exact, revision: Number(exact.slice(exact.lastIndexOf(':') + 1)) };
      progress.taskDefinitionArn = exact;
      say('revision.repointing', { revision: revisionOf(exact), tag: input.tag });
    } else {
      // ---- register the rendered revision (once) ----
      enter('registering', () => say('revision.rendering', { templateFamily: target.templateFamily, family: target.family, tag: input.tag }));
      const { registerRevision } = ecsActivities(ecsRegister(priority), effect);
      const fresh = await step(() => registerRevision({ target, tag: input.tag, deploymentId: `${workflowId}/${runId}` }));
      registered = fresh;
      progress.taskDefinitionArn = fresh.taskDefinitionArn;
      say('revision.registered', { revision: revisionOf(fresh.taskDefinitionArn), reused: fresh.reused, images: fresh.images });
    }

    // ---- point the service at it ----
    enter('updating', () => say('service.updating', { cluster: target.cluster, service: target.service }));
    const { updateService } = ecsActivities(ecsUpdate(priority), effect);
    const started = await step(() => updateService({ target, taskDefinitionArn: registered.taskDefinitionArn }));
    progress.serviceDeploymentArn = started.serviceDeploymentArn;

    // ---- wait for the truth ----
    // The budget: what the caller asked for, or the rollout allowance plus the time ECS is
    // told to take (bake, steps, hook timeouts).
    const allowance = target.budgetSeconds ?? DEFAULT_BUDGET_SECONDS;
    const budget =
      input.budgetSeconds !== undefined
        ? { seconds: input.budgetSeconds, breakdown: `${formatDuration(input.budgetSeconds)} (asked for)` }
        : settings
          ? deployBudget(settings, allowance)
          : { seconds: allowance, breakdown: formatDuration(allowance) };
    const budgetSeconds = budget.seconds;
    progress.budget = budget;
    const deadline = Date.now() + budgetSeconds * 1000;
    enter('waiting', () => say('ecs.waiting', { budget: budget.breakdown }));
    let cursor: WatchCursor = { since: started.startedAt, seenEventIds: [], seenStoppedTasks: [], failedSeen: 0 };
    const hookSeen = new Map<string, string>();
    const gated = new Set<string>();
    // A rolling deployment is watched by ECS's events where the worker receives them: a look
    // when an event says something happened, and otherwise now and then to reconcile.
    // Staged deployments and early success show their progress only to reads: those are polled.
    const byEvents = target.events !== undefined && settings?.strategy === 'ROLLING' && !settings.earlySuccess && patched(PATCH_EVENT_WATCH);
    let nextLookMs = byEvents ? target.events!.reconcileSeconds * 1000 : 0;
    /** An event said the rollout ended, and the look did not see it yet: the next look confirms it too. */
    let confirmAgain = false;
    const sinceMs = started.startedAt - 1000;
    /** Deployment IDs that SERVICE_DEPLOYMENT_IN_PROGRESS events named: a look need not read that status. */
    const inProgressHeard = new Set<string>();
    /** Waits for an event worth a look (or the reconcile time), then looks once. */
    const lookByEvents = async (remainingSeconds: number): Promise<WatchReport> => {
      const relevant = (e: EcsEventNotice) => Date.parse(e.at) >= sinceMs;
      const woken = await condition(() => inbox.some((e) => relevant(e) && wantsLook(e.name)), Math.max(1, Math.min(nextLookMs, remainingSeconds * 1000)));
      const arrived = inbox.splice(0).filter(relevant);
      for (const e of arrived) {
        say('ecs.notified', { name: e.name, ...(e.reason && { reason: e.reason }) });
        if (e.name === 'SERVICE_DEPLOYMENT_IN_PROGRESS' && e.deploymentId) inProgressHeard.add(e.deploymentId);
      }
      const input = {
        target,
        taskDefinitionArn: registered.taskDefinitionArn,
        serviceDeploymentArn: started.serviceDeploymentArn,
        cursor,
        reconcileSeconds: target.events!.reconcileSeconds,
        ...(inProgressHeard.size > 0 && { inProgressHeard: [...inProgressHeard] }),
      };
      // A look that confirms an event runs here and now; a look that only reconciles waits its
      // turn on the read queue. (Before the patch, both took the queue, confirming looks first.)
      const confirming = woken || confirmAgain;
      const r =
        confirming && patched(PATCH_CONFIRM_LOCALLY)
          ? await proxyLocalActivities<Activities>(confirmingLook).observeDeployment(input)
          : await ecsActivities(ecsRead(woken ? priority : reconcilePriority(priority)), quick).observeDeployment(input);
      const ended = arrived.some((e) => endsDeployment(e.name));
      confirmAgain = r.verdict.state === 'in_progress' && ended && !r.verdict.rollingBack;
      nextLookMs = confirmAgain ? CONFIRM_AGAIN_MS : r.nextLookMs;
      return r;
    };
    for (;;) {
      const remaining = Math.floor((deadline - Date.now()) / 1000);
      if (remaining <= 0) {
        const stopped = await stopEcs();
        end('timed_out', FailureType.timedOut, `timed out: ECS had not finished the deployment after ${formatDuration(budgetSeconds)}${lastState(progress)}${stopped}`);
      }
      const { watchDeployment } = ecsActivities(ecsWatch(remaining, priority), watch(remaining));
      const report = byEvents
        ? await lookByEvents(remaining)
        : await watchDeployment({
            target,
            taskDefinitionArn: registered.taskDefinitionArn,
            serviceDeploymentArn: started.serviceDeploymentArn,
            cursor,
            maxWaitSeconds: Math.min(MAX_WATCH_SECONDS, remaining),
            ...(settings && settings.strategy !== 'ROLLING' ? { staged: true } : {}),
            ...(settings?.earlySuccess ? { earlySuccessPercent: settings.earlySuccess.healthyPercent } : {}),
          });
      cursor = report.cursor;
      const c = report.counts;
      const countsMoved = JSON.stringify(c) !== JSON.stringify(progress.counts);
      progress.counts = c;
      if (report.status !== progress.serviceDeploymentStatus) {
        say('ecs.status', { status: report.status, ...(report.statusReason && { reason: report.statusReason }) });
        progress.serviceDeploymentStatus = report.status;
      }
      if (countsMoved) say('ecs.tasks', { counts: c });
      if (report.lifecycleStage && report.lifecycleStage !== progress.lifecycleStage && settings?.strategy !== 'ROLLING') {
        progress.lifecycleStage = report.lifecycleStage;
        say('ecs.stage', { stage: report.lifecycleStage });
      }
      if (report.traffic && JSON.stringify(report.traffic) !== JSON.stringify(progress.traffic)) {
        progress.traffic = report.traffic;
        say('ecs.traffic', { tag: input.tag, production: report.traffic.production, test: report.traffic.test });
        if (report.traffic.production >= 100 && !progress.trafficShiftedAt) {
          progress.trafficShiftedAt = new Date().toISOString();
          say('ecs.traffic-shifted', { at: progress.trafficShiftedAt });
        }
      }
      for (const h of report.hooks ?? []) {
        if (hookSeen.get(h.hookId) === h.status) continue;
        hookSeen.set(h.hookId, h.status);
        say('ecs.hook', { name: h.name, status: h.status, ...(progress.lifecycleStage ? { stage: progress.lifecycleStage } : {}) });
      }
      for (const e of report.newEvents) {
        progress.events.push(e);
        say('ecs.event', { message: e });
      }
      if (progress.events.length > 50) progress.events.splice(0, progress.events.length - 50);
      for (const r of report.newStoppedReasons) {
        progress.stoppedReasons.push(r);
        say('ecs.task-stopped', { reason: r }, 'warn');
      }

      const v = report.verdict;
      if (v.state === 'succeeded') break;
      if (v.state === 'rolled_back_by_alarm') {
        end('rolled_back_by_alarm', FailureType.alarmRollback, `rolled back by ECS: ${v.reason}${reasonsSuffix(progress)}`, { triggeredAlarmNames: v.alarms });
      }
      if (v.state === 'rolled_back_by_ecs') {
        const g = progress.gate;
        if (g?.answered === 'ROLLBACK') {
          end(
            'rolled_back_by_ecs',
            FailureType.rolledBack,
            `rolled back at the test traffic gate: ${g.reason}; Slipway answered ECS's PAUSE hook with ROLLBACK, so production traffic never moved to ${shortTag(input.tag)}${reasonsSuffix(progress)}`,
          );
        }
        end('rolled_back_by_ecs', FailureType.rolledBack, `rolled back by ECS: ${v.reason}${reasonsSuffix(progress)}`);
      }
      if (v.state === 'failed') end('failed', FailureType.failed, `failed: ${v.reason}${reasonsSuffix(progress)}`);
      if (v.state === 'in_progress' && v.rollingBack && progress.phase !== 'rolling_back') enter('rolling_back', () => say('ecs.rolling-back', {}, 'warn'));
      else setCurrentDetails(renderDetails(progress));

      // ---- ECS holds the new revision on test traffic: Slipway's gate decides ----
      const paused = report.lifecycleStage === TEST_STAGE ? report.hooks?.find((h) => h.name === 'PAUSE' && h.status === 'AWAITING_ACTION') : undefined;
      if (v.state === 'in_progress' && !v.rollingBack && paused && target.testTraffic && !gated.has(paused.hookId) && patched(PATCH_TEST_GATE)) {
        gated.add(paused.hookId);
        enter('gating', () => say('gate.started', { tag: input.tag, stage: TEST_STAGE }));
        const gateDeadline = Math.min(Date.now() + target.testTraffic.deadlineMinutes * 60_000, deadline - GATE_MARGIN_MS);
        const verdict = await gate.run(target as TestTrafficTarget, paused.hookId, gateDeadline);
        const action = verdict.ok ? 'CONTINUE' : 'ROLLBACK';
        const answer = await step(() => continueServiceDeployment({ target, serviceDeploymentArn: started.serviceDeploymentArn, hookId: paused.hookId, action }));
        if (answer.answered) progress.gate!.answered = action;
        enter('waiting', () => say('gate.answered', { action, answered: answer.answered, hookStatus: answer.hookStatus }, verdict.ok ? 'info' : 'warn'));
      }
    }

    // ---- the site must serve what ECS runs ----
    let verified: DeployResult['verified'];
    if (target.versionEndpoint && patched(PATCH_VERIFY)) {
      enter('verifying', () => say('verify.checking', { url: target.versionEndpoint!, tag: input.tag }));
      const { awaitVersion } = proxyActivities<Activities>(verify(target.verifyBudgetSeconds));
      try {
        const seen = await awaitVersion({ url: target.versionEndpoint, expected: input.tag, budgetSeconds: target.verifyBudgetSeconds });
        verified = { url: seen.url, release: seen.release };
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        const msg = cause instanceof ApplicationFailure ? cause.message : (err as Error).message;
        end('verification_failed', FailureType.verificationFailed, `ECS succeeded, but ${msg}`);
      }
      say('verify.reported', { url: verified!.url, release: verified!.release });
      await recordValidated({
        app: input.app,
        env: input.env,
        release: {
          tag: input.tag,
          taskDefinitionArn: registered.taskDefinitionArn,
          actor: input.actor,
          workflowId,
          runId,
          at: new Date().toISOString(),
          operation,
        },
      });
    }

    await closing.notifier?.succeeded();
    enter('succeeded', () =>
      say('deploy.succeeded', {
        service: target.service,
        revision: revisionOf(registered.taskDefinitionArn),
        running: progress.counts?.running,
        desired: progress.counts?.desired,
      }),
    );
    upsertSearchAttributes([{ key: SA.outcome, value: 'succeeded' }]);
    return {
      outcome: 'succeeded',
      app: input.app,
      env: input.env,
      tag: input.tag,
      taskDefinitionArn: registered.taskDefinitionArn,
      revision: registered.revision,
      serviceDeploymentArn: started.serviceDeploymentArn,
      counts: progress.counts!,
      ...(verified && { verified }),
    };
  }
}

/** The lifecycle stage at which a PAUSE hook holds the new revision on test traffic only. */
const TEST_STAGE = 'POST_TEST_TRAFFIC_SHIFT';

function reasonsSuffix(p: DeployProgress): string {
  if (p.stoppedReasons.length === 0) return '';
  const shown = p.stoppedReasons.slice(-3);
  return `; stopped tasks: ${shown.join(' | ')}`;
}

function lastState(p: DeployProgress): string {
  const c = p.counts;
  return c ? ` (last seen: ${p.serviceDeploymentStatus ?? 'unknown'}, ${c.running}/${c.desired} running, ${c.failed} failed)` : '';
}

/** Markdown shown as the execution's current details in the Temporal UI. */
function renderDetails(p: DeployProgress): string {
  const lines = [`**${p.phase.replace(/_/g, ' ')}** — ${p.app} \`${p.tag}\` → ${p.env} by @${p.actor}`];
  if (p.service) lines.push(`service: ${p.cluster}/${p.service}`);
  if (p.taskDefinitionArn) lines.push(`revision: ${revisionOf(p.taskDefinitionArn)}`);
  if (p.counts) lines.push(`tasks: ${tasksText(p.counts)}`);
  if (p.strategy) lines.push(`strategy: ${p.strategy}`);
  if (p.budget) lines.push(`budget: ${p.budget.breakdown}`);
  if (p.serviceDeploymentStatus) lines.push(`ECS deployment: ${p.serviceDeploymentStatus}${p.lifecycleStage ? ` (${p.lifecycleStage})` : ''}`);
  if (p.traffic) lines.push(`traffic on the new revision: production ${p.traffic.production}%, test ${p.traffic.test}%`);
  if (p.trafficShiftedAt) lines.push(`production traffic shifted at ${p.trafficShiftedAt}`);
  if (p.gate)
    lines.push(`test traffic gate: ${p.gate.state.replace(/_/g, ' ')}${p.gate.reason ? ` (${p.gate.reason})` : ''}${p.gate.answered ? `, answered ${p.gate.answered}` : ''}`);
  const recent = p.entries.slice(-5).map(progressText);
  if (recent.length) lines.push('', ...recent.map((l) => `- ${l}`));
  return lines.join('\n');
}
