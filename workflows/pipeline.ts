/**
 * The promotion pipeline of one app: a long-lived workflow (`pipeline/<app>`, its ID is
 * the lock) that takes merges to main from a queue, one cycle at a time:
 *
 *   pick → deploy to staging (verified) → gate (Playwright or a GitHub workflow) →
 *   approval → promote the tag staging reports (production deploy, and the release's
 *   GitHub writes alongside) →
 *   production reports what staging reports → production smoke suite (a failure rolls
 *   production back to the previous validated release) → record → next.
 *
 * The queue loses nothing: merges arriving during a cycle wait, the same SHA twice is one
 * entry, and every entry ends in a visible status. State lives in one object; the
 * workflow continues as new before its history grows large, carrying that state.
 */
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  executeChild,
  getExternalWorkflowHandle,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { PipelinePlan } from '../activities/config';
import { planPick, type Relations } from '../domain/ancestry';
import { normalizeLogin, provenShown, sameLogin } from '../domain/identity';
import { approvalRequestProblem, clip, MAX_REASON, mergeReportProblem, queueActionProblem } from '../domain/input';
import { gateSummary } from '../domain/gates';
import { pickCandidate } from '../domain/queue';
import { shortTag } from '../domain/tags';
import { deploy } from './deploy';
import { childEnding, lockProblem } from './failures';
import { reportPipeline } from './metrics';
import { Notifier } from './notifier';
import { PATCH_LOGINS_AS_GITHUB, PATCH_MERGER_FROM_GITHUB, PATCH_PIPELINE_CONTROL, PATCH_PRODUCTION_SMOKE, PATCH_PROMOTE_ALONGSIDE } from './patches';
import { githubGate, githubWrite, playwrightGate, quick } from './profiles';
import { rollback } from './operations';
import { release } from './release';
import {
  approveSignal,
  approveUpdate,
  cancelEntryUpdate,
  deployWorkflowId,
  mergedSignal,
  pauseUpdate,
  pipelineStateQuery,
  pipelineWorkflowId,
  rejectSignal,
  rejectUpdate,
  releaseWorkflowId,
  resumeUpdate,
  recordWorkflowId,
  rollbackWorkflowId,
  withdrawnSignal,
  FailureType,
  SA,
  type ApprovalRecord,
  type ApprovalRequest,
  type MergeReport,
  type PipelineState,
  type ProvenActor,
  type QueueAction,
  type QueueEntry,
} from '../contract';

const acts = proxyActivities<Activities>(quick);
/** GitHub writes: a release's failure mark. */
const writes = proxyActivities<Activities>(githubWrite);

/** Kept in the state: finished entries and approvals beyond these are dropped. */
const KEEP_FINISHED = 50;
const KEEP_HISTORY = 20;
const KEEP_APPROVALS = 50;
const HISTORY_LIMIT = 5000;

export interface PipelineInput {
  app: string;
  /** Carried across continue-as-new. */
  state?: PipelineState;
  /** Continue as new once the history has this many events (default 5000). */
  maxHistory?: number;
}

export async function pipeline(input: PipelineInput): Promise<void> {
  // One pipeline per app: its workflow ID is the lock.
  const lock = lockProblem(`the pipeline of ${input.app}`, pipelineWorkflowId(input.app));
  if (lock) throw ApplicationFailure.create({ type: 'BadInput', message: `refused: ${lock}`, nonRetryable: true });
  const state: PipelineState = input.state ?? {
    app: input.app,
    phase: 'idle',
    paused: false,
    policy: 'latest',
    queue: [],
    approvals: [],
    history: [],
  };
  /** Approvals of the current candidate: approver (as compared) → approver (as given). */
  let decision: { approvers: Map<string, string>; rejected?: ApprovalRecord } = { approvers: new Map() };
  let plan: PipelinePlan | undefined;
  const shouldContinueAsNew = () => shouldContinueAsNewAfter(input.maxHistory ?? HISTORY_LIMIT);

  const show = () => {
    const c = state.candidate;
    const waiting = state.queue.filter((e) => e.status === 'waiting');
    setCurrentDetails(
      [
        `**${state.paused ? 'paused' : state.phase.replace(/_/g, ' ')}** — pipeline of ${state.app} (${state.policy})`,
        c ? `candidate: \`${shortTag(c.sha)}\` ${c.title} (merged by @${c.mergedBy ?? c.actor})` : 'candidate: —',
        `waiting: ${waiting.length ? waiting.map((e) => shortTag(e.sha)).join(', ') : '—'}`,
        `staging: ${state.staging ? shortTag(state.staging) : '?'} · production: ${state.production ? shortTag(state.production) : '?'} · last validated: ${state.lastValidated ? shortTag(state.lastValidated) : '—'}`,
        ...state.approvals.slice(-3).map((a) => `- ${a.decision} ${shortTag(a.tag)} by @${a.approver} at ${a.at}${a.refused ? ` — refused: ${a.refused}` : ''}`),
      ].join('\n'),
    );
    reportPipeline(state);
  };
  const setPhase = (phase: PipelineState['phase']) => {
    state.phase = phase;
    show();
  };
  const trim = () => {
    const finished = state.queue.filter((e) => e.status !== 'waiting');
    if (finished.length > KEEP_FINISHED) {
      const drop = new Set(finished.slice(0, finished.length - KEEP_FINISHED));
      state.queue = state.queue.filter((e) => !drop.has(e));
    }
    if (state.history.length > KEEP_HISTORY) state.history.splice(0, state.history.length - KEEP_HISTORY);
    if (state.approvals.length > KEEP_APPROVALS) state.approvals.splice(0, state.approvals.length - KEEP_APPROVALS);
  };
  const now = () => new Date().toISOString();
  // Logins compare as GitHub compares them (trimmed, no '@', any case); runs that began
  // before that compared them exactly and replay so.
  const githubLogins = patched(PATCH_LOGINS_AS_GITHUB);
  const loginKey = (login: string) => (githubLogins ? normalizeLogin(login) : login);
  const isMerger = (login: string, merger: string) => (githubLogins ? sameLogin(login, merger) : login === merger);
  /** The reported merger, or the one GitHub records. */
  const mergedIt = (login: string, c: QueueEntry) => isMerger(login, c.actor) || (c.mergedBy !== undefined && isMerger(login, c.mergedBy));
  // Pause, resume and cancel need an authorised (and, in oidc mode, proven) actor.
  const controlAuthorized = patched(PATCH_PIPELINE_CONTROL);

  upsertSearchAttributes([
    { key: SA.operation, value: 'pipeline' },
    { key: SA.app, value: input.app },
  ]);

  // ---- messages ----
  setHandler(pipelineStateQuery, () => state);

  /** A message that was not taken: one short line in the state's history, whatever its size. */
  const refusedMessage = (what: string, problem: string) => {
    state.history.push({ sha: '', outcome: 'refused', at: now(), note: clip(`${what} refused: ${problem}`, 300) });
    trim();
    show();
  };

  setHandler(mergedSignal, (m: MergeReport) => {
    const problem = mergeReportProblem(m);
    if (problem) return refusedMessage('merge report', problem);
    const known = state.queue.find((e) => e.sha === m.sha) ?? (state.candidate?.sha === m.sha ? state.candidate : undefined);
    if (known) return; // the same merge reported twice is one entry
    state.queue.push({ sha: m.sha, actor: m.actor, title: m.title ?? '', at: now(), status: 'waiting' });
    show();
  });

  /** Checks that can be made without I/O; used by the Update validators and the Signals. */
  const checkRequest = (r: ApprovalRequest): string | undefined => {
    const c = state.candidate;
    const problem = approvalRequestProblem(r);
    if (problem) return problem;
    if (!c || state.phase !== 'awaiting_approval') {
      return `there is no candidate awaiting approval (phase: ${state.phase}${c ? `, candidate ${c.sha}` : ''})`;
    }
    if (r.tag !== c.sha) return `'${r.tag}' is not the candidate: the candidate awaiting approval is ${c.sha} (${c.title})`;
    return undefined;
  };

  /** Approve or reject: authorised, distinct, not the merger alone unless allowed. Records refusals. */
  const decide = async (r: ApprovalRequest, kind: 'approve' | 'reject', via: 'update' | 'signal'): Promise<ApprovalRecord> => {
    // Whatever arrives, what is kept of it is small.
    const text = (v: unknown, max: number) => clip(typeof v === 'string' ? v : String(v), max);
    const record: ApprovalRecord = { approver: text(r?.approver, 64), tag: text(r?.tag, 128), at: now(), decision: kind, via };
    if (r?.reason !== undefined && r?.reason !== null) record.reason = text(r.reason, MAX_REASON);
    let proven: ProvenActor | undefined;
    const refuse = (why: string): ApprovalRecord => {
      record.refused = why;
      state.approvals.push(record);
      show();
      if (via === 'update') throw ApplicationFailure.create({ type: 'ApprovalRefused', message: why, nonRetryable: true });
      return record;
    };
    const early = checkRequest(r);
    if (early) return refuse(early);
    const candidate = state.candidate!;
    try {
      const auth = await acts.authorize({ actor: record.approver, operation: 'approve', app: state.app, env: plan?.production.env, idToken: r?.idToken });
      proven = auth.proven && provenShown(auth.proven);
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      return refuse(cause instanceof ApplicationFailure ? cause.message : `could not check @${record.approver}: ${(err as Error).message}`);
    }
    // The candidate may have moved on while the membership was checked.
    if (state.candidate !== candidate || state.phase !== 'awaiting_approval') return refuse(`the candidate ${candidate.sha} is no longer awaiting approval`);
    if (kind === 'approve') {
      if (decision.approvers.has(loginKey(record.approver))) return refuse(`@${record.approver} already approved ${candidate.sha}`);
      // The merger's approval never suffices alone (unless allowed); with one approval
      // required it is refused outright, with more it counts beside someone else's.
      const required = plan?.settings.approvals ?? 1;
      if (mergedIt(record.approver, candidate) && !plan?.settings.allowSelfApproval && required <= 1) {
        return refuse(`@${record.approver} merged ${shortTag(candidate.sha)} and may not approve it alone: another authorised approver is needed`);
      }
      decision.approvers.set(loginKey(record.approver), record.approver);
    } else {
      decision.rejected = record;
    }
    if (proven) record.proven = proven;
    state.approvals.push(record);
    show();
    return record;
  };

  setHandler(approveUpdate, (r) => decide(r, 'approve', 'update'), {
    validator: (r) => {
      const problem = checkRequest(r);
      if (problem) throw refusal('BadInput', problem);
    },
  });
  setHandler(rejectUpdate, (r) => decide(r, 'reject', 'update'), {
    validator: (r) => {
      const problem = checkRequest(r);
      if (problem) throw refusal('BadInput', problem);
      if (!r.reason) throw refusal('BadInput', 'a rejection needs a reason');
    },
  });
  setHandler(approveSignal, (r) => void decide(r, 'approve', 'signal'));
  setHandler(rejectSignal, (r) => void decide(r, 'reject', 'signal'));

  /**
   * Pause, resume and cancel: the actor must be authorised for pipeline control (and
   * proven in oidc mode). A refusal is recorded in the pipeline's history and answered.
   */
  const control = async (a: QueueAction, what: string): Promise<void> => {
    if (!controlAuthorized) return;
    try {
      plan ??= await acts.resolvePipeline({ app: state.app });
      await acts.authorize({ actor: String(a?.actor), operation: 'pipeline', app: state.app, env: plan.production.env, idToken: a?.idToken });
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const why = cause instanceof ApplicationFailure ? cause.message : `could not check @${String(a?.actor)}: ${(err as Error).message}`;
      state.history.push({ sha: a?.sha ?? state.candidate?.sha ?? '', outcome: 'refused', at: now(), note: `${what} by @${String(a?.actor)} refused: ${why}` });
      trim();
      show();
      throw ApplicationFailure.create({ type: FailureType.unauthorized, message: why, nonRetryable: true });
    }
  };

  setHandler(
    cancelEntryUpdate,
    async (a: QueueAction) => {
      await control(a, `cancel ${a?.sha}`);
      const entry = state.queue.find((e) => e.sha === a.sha && e.status === 'waiting');
      if (!entry) throw ApplicationFailure.create({ type: FailureType.badInput, message: `${a.sha} is no longer waiting`, nonRetryable: true });
      entry.status = 'cancelled';
      entry.note = `cancelled by @${a.actor}${a.reason ? `: ${a.reason}` : ''}`;
      show();
      return entry;
    },
    {
      validator: (a) => {
        const problem = queueActionProblem(a);
        if (problem) throw refusal('BadInput', problem);
        if (!state.queue.some((e) => e.sha === a?.sha && e.status === 'waiting')) {
          const waiting = state.queue.filter((e) => e.status === 'waiting').map((e) => e.sha);
          throw refusal('BadInput', `no waiting entry ${a?.sha}; waiting: ${waiting.length ? waiting.join(', ') : 'none'}`);
        }
      },
    },
  );
  const actionValidator = {
    validator: (a: QueueAction) => {
      const problem = queueActionProblem(a);
      if (problem) throw refusal('BadInput', problem);
    },
  };
  setHandler(
    pauseUpdate,
    async (a: QueueAction) => {
      await control(a, 'pause');
      state.paused = true;
      state.history.push({ sha: state.candidate?.sha ?? '', outcome: 'paused', at: now(), note: `by @${a.actor}${a.reason ? `: ${a.reason}` : ''}` });
      trim();
      show();
      return state;
    },
    actionValidator,
  );
  setHandler(
    resumeUpdate,
    async (a: QueueAction) => {
      await control(a, 'resume');
      state.paused = false;
      state.history.push({ sha: state.candidate?.sha ?? '', outcome: 'resumed', at: now(), note: `by @${a.actor}` });
      trim();
      show();
      return state;
    },
    actionValidator,
  );

  show();

  // ---- cycles ----
  for (;;) {
    if (!state.candidate) {
      setPhase(state.paused ? 'paused' : 'idle');
      await condition(() => shouldContinueAsNew() || (!state.paused && state.queue.some((e) => e.status === 'waiting')));
      if (shouldContinueAsNew()) break;
      plan = await acts.resolvePipeline({ app: state.app });
      state.policy = plan.settings.policy;
      if (patched('pick-by-ancestry')) await pickByAncestry(state, now);
      else pickCandidate(state);
      if (!state.candidate) {
        show();
        continue; // everything waiting was refused or superseded
      }
    }
    plan ??= await acts.resolvePipeline({ app: state.app });
    const candidate = state.candidate!;
    // The merger GitHub vouches for, beside the one the report named: either may not approve alone.
    if (candidate.mergedBy === undefined && patched(PATCH_MERGER_FROM_GITHUB)) {
      const { merger, pull } = await acts.mergerOf({ sha: candidate.sha }).catch((err: unknown) => {
        state.history.push({
          sha: candidate.sha,
          outcome: 'note',
          at: now(),
          note: clip(`who merged it is unknown to Slipway (GitHub: ${(err as Error).message}); the reported merger @${candidate.actor} counts`, 300),
        });
        return {} as { merger?: string; pull?: number };
      });
      if (merger) {
        candidate.mergedBy = merger;
        if (!isMerger(merger, candidate.actor)) {
          state.history.push({ sha: candidate.sha, outcome: 'note', at: now(), note: `reported as merged by @${candidate.actor}; GitHub says @${merger} merged #${pull}` });
        }
      }
    }
    decision = { approvers: new Map() };
    const finish = (status: QueueEntry['status'], outcome: string, note?: string) => {
      candidate.status = status;
      if (note) candidate.note = note;
      state.history.push({ sha: candidate.sha, outcome, at: now(), note });
      state.candidate = undefined;
      trim();
      show();
    };
    /** Tells people about the candidate in `env` (failures reach the maintainers). */
    const notifierIn = (env: string, actor = candidate.actor) =>
      new Notifier({ kind: 'pipeline', app: state.app, env, tag: candidate.sha, actor, reason: candidate.title }, (l) =>
        state.history.push({ sha: candidate.sha, outcome: 'note', at: now(), note: l }),
      );
    const notifier = notifierIn(plan.staging.env);

    // 1b. staging only sees images that exist: a merge reported before CI published them waits
    if (patched('pipeline-waits-for-images')) {
      const note = candidate.note;
      const missing = await waitForImages(plan, candidate.sha, (why) => {
        candidate.note = `waiting for images: ${why}`;
        setPhase('waiting_for_images');
      });
      candidate.note = note;
      if (missing) {
        finish('expired', 'images_missing', `the images never appeared within ${plan.settings.imageWaitMinutes} min: ${missing}`);
        continue;
      }
    }

    // 2. staging, verified by the deploy itself
    setPhase('deploying_staging');
    const staged = await runChild(() =>
      executeChild(deploy, {
        workflowId: deployWorkflowId(state.app, plan!.staging.env),
        args: [{ app: state.app, env: plan!.staging.env, tag: candidate.sha, actor: candidate.actor, reason: `pipeline: ${candidate.title}` }],
        staticSummary: `deploy ${state.app} ${shortTag(candidate.sha)} → ${plan!.staging.env} (pipeline)`,
      }),
    );
    if (!staged.ok) {
      await notifier.failed(staged.outcome, `staging deploy failed: ${staged.message}`, staged.reasons);
      finish('failed', 'staging_failed', staged.message);
      continue;
    }
    state.staging = candidate.sha;

    // 3. the gate
    setPhase('gating');
    const gate = await runGate(plan, candidate.sha);
    if (!gate.ok) {
      await notifier.failed('gate_failed', `the gate rejected ${shortTag(candidate.sha)}: ${gate.summary}`);
      finish('rejected', 'gate_failed', gate.summary);
      continue;
    }
    state.history.push({ sha: candidate.sha, outcome: 'gate_passed', at: now(), note: gate.summary });

    // 4. approval
    setPhase('awaiting_approval');
    const required = plan.settings.approvals;
    const hasApproval = () => decision.approvers.size >= required && (plan!.settings.allowSelfApproval || [...decision.approvers.values()].some((a) => !mergedIt(a, candidate)));
    if (plan.settings.autoApprove) {
      state.approvals.push({ approver: 'slipway', tag: candidate.sha, at: now(), decision: 'approve', via: 'update', reason: 'autoApprove' });
    } else {
      const answered = await condition(() => hasApproval() || !!decision.rejected, `${plan.settings.approvalDeadlineHours * 3600}s`);
      if (!answered) {
        finish('expired', 'expired', `no approval within ${plan.settings.approvalDeadlineHours} h`);
        continue;
      }
      if (decision.rejected) {
        finish('rejected', 'rejected', `rejected by @${decision.rejected.approver}: ${decision.rejected.reason ?? ''}`);
        continue;
      }
    }

    // 5. promote exactly what staging reports, which must be the candidate
    setPhase('promoting');
    const reported = await acts.readVersion({ url: plan.staging.versionEndpoint! }).then(
      (v) => v.release,
      (err) => `unreadable (${(err as Error).message})`,
    );
    state.staging = reported;
    if (reported !== candidate.sha) {
      await notifier.failed('staging_moved', `staging reports ${reported}, not the approved candidate ${candidate.sha}`);
      finish('failed', 'staging_moved', `staging reports ${reported}, not the approved candidate`);
      continue;
    }
    const approver = [...decision.approvers.values()][0] ?? candidate.actor;
    let releaseId: number | undefined;
    if (patched(PATCH_PROMOTE_ALONGSIDE)) {
      // Production starts at once; the release's GitHub writes (tag, release, aliases,
      // changelog pull request) run alongside, as a child whose writes are retried until
      // done and never repeated.
      const prodEnv = plan.production.env;
      const [deployed, released] = await Promise.all([
        runChild(() =>
          executeChild(deploy, {
            workflowId: deployWorkflowId(state.app, prodEnv),
            args: [{ app: state.app, env: prodEnv, tag: candidate.sha, actor: approver, reason: `pipeline: ${candidate.title} (approved by @${approver})` }],
            staticSummary: `deploy ${state.app} ${shortTag(candidate.sha)} → ${prodEnv} (pipeline)`,
          }),
        ),
        runChild(() =>
          executeChild(release, {
            workflowId: releaseWorkflowId(state.app, candidate.sha),
            args: [{ app: state.app, tag: candidate.sha, actor: approver, productionByCaller: true }],
            staticSummary: `release ${state.app} ${shortTag(candidate.sha)} (pipeline)`,
          }),
        ),
      ]);
      if (!deployed.ok) {
        const why = `the ${prodEnv} deploy failed: ${deployed.message}`;
        if (released.ok && released.value.releaseId !== undefined) await writes.markReleaseFailed({ releaseId: released.value.releaseId, reason: why });
        await notifierIn(prodEnv, approver).failed(deployed.outcome, `${shortTag(candidate.sha)}: ${why}`, deployed.reasons);
        finish('failed', 'production_failed', why);
        continue;
      }
      if (released.ok) releaseId = released.value.releaseId;
      if (!released.ok) {
        state.production = candidate.sha;
        await notifierIn(prodEnv, approver).failed('release_failed', `${prodEnv} runs ${shortTag(candidate.sha)}, but its release could not be completed: ${released.message}`);
        finish('failed', 'release_failed', `${prodEnv} runs ${shortTag(candidate.sha)}, but its release could not be completed: ${released.message}`);
        continue;
      }
    } else {
      const released = await runChild(() =>
        executeChild(release, {
          workflowId: releaseWorkflowId(state.app, candidate.sha),
          args: [{ app: state.app, tag: candidate.sha, actor: approver }],
          staticSummary: `release ${state.app} ${shortTag(candidate.sha)} (pipeline)`,
        }),
      );
      if (!released.ok) {
        finish('failed', 'release_failed', released.message);
        continue;
      }
      releaseId = released.value.releaseId;
    }

    // 6. production must report what staging reports
    setPhase('verifying_production');
    const [prod, stag] = await Promise.all([
      acts.readVersion({ url: plan.production.versionEndpoint! }).then(
        (v) => v.release,
        () => undefined,
      ),
      acts.readVersion({ url: plan.staging.versionEndpoint! }).then(
        (v) => v.release,
        () => undefined,
      ),
    ]);
    state.production = prod;
    state.staging = stag;
    if (prod !== candidate.sha) {
      finish('failed', 'production_mismatch', `production reports ${prod ?? 'nothing readable'}, staging ${stag ?? '?'}`);
      continue;
    }

    // 6b. the production smoke suite; a failure rolls production back to the previous validated release
    let smoked = '';
    const smoke = plan.settings.productionSmoke?.playwright;
    if (smoke && patched(PATCH_PRODUCTION_SMOKE)) {
      setPhase('smoke_testing_production');
      const result = await runPlaywright(smoke, plan.smokeUrls ?? {}, candidate.sha);
      if (result.ok) {
        state.history.push({ sha: candidate.sha, outcome: 'smoke_passed', at: now(), note: result.summary });
        smoked = `; production smoke suite: ${result.summary}`;
      } else {
        const prodEnv = plan.production.env;
        const failedWhy = `the ${prodEnv} smoke suite failed: ${result.summary}`;
        state.history.push({ sha: candidate.sha, outcome: 'smoke_failed', at: now(), note: result.summary });
        setPhase('rolling_back_production');
        // The deploy recorded the release as validated; it is not: no rollback may pick it again.
        try {
          await getExternalWorkflowHandle(recordWorkflowId(state.app, prodEnv)).signal(withdrawnSignal, {
            tag: candidate.sha,
            workflowId: workflowInfo().workflowId,
            reason: clip(failedWhy, 500),
          });
        } catch (err) {
          state.history.push({
            sha: candidate.sha,
            outcome: 'note',
            at: now(),
            note: `could not withdraw ${shortTag(candidate.sha)} from the validated releases of ${prodEnv}: ${causeOf(err)}`,
          });
        }
        const back = await runChild(() =>
          executeChild(rollback, {
            workflowId: rollbackWorkflowId(state.app, prodEnv),
            args: [{ app: state.app, env: prodEnv, actor: approver, reason: clip(`pipeline: ${shortTag(candidate.sha)} failed the ${prodEnv} smoke suite`, MAX_REASON) }],
            staticSummary: `rollback ${state.app} → ${prodEnv}: ${shortTag(candidate.sha)} failed the smoke suite (pipeline)`,
          }),
        );
        const after = back.ok
          ? `${prodEnv} rolled back to ${back.value.tag} (${back.value.taskDefinitionArn.split('/').pop()})`
          : `the rollback of ${prodEnv} failed: ${back.message}`;
        if (back.ok) state.production = back.value.tag;
        if (releaseId !== undefined) await writes.markReleaseFailed({ releaseId, reason: `${failedWhy}; ${after}` });
        await notifierIn(prodEnv, approver).failed('smoke_failed', `${shortTag(candidate.sha)}: ${failedWhy}; ${after}`);
        finish('failed', 'smoke_failed', `${failedWhy}; ${after}`);
        continue;
      }
    }

    // 7. the validated release
    state.lastValidated = candidate.sha;
    finish('released', 'released', `${stag === prod ? 'staging and production report' : 'production reports'} ${shortTag(candidate.sha)}${smoked}`);
    if (shouldContinueAsNew()) break;
  }

  // Hand the whole state to a fresh run once every handler has finished.
  await condition(allHandlersFinished);
  await continueAsNew<typeof pipeline>({ app: state.app, state, maxHistory: input.maxHistory });
}

/** A refusal from an Update validator: typed and never retried, like those from the handlers. */
function refusal(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

function shouldContinueAsNewAfter(limit: number): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > limit;
}

/**
 * Picks the next candidate by git ancestry (one compare through GitHub): `latest` takes the
 * newest commit on the default branch and supersedes only what it contains; `fifo` keeps
 * arrival order and says when that differs from git order. A commit not on the default
 * branch is refused. Without GitHub, arrival order decides and the history says so.
 */
async function pickByAncestry(state: PipelineState, now: () => string): Promise<void> {
  const waiting = state.queue.filter((e) => e.status === 'waiting');
  if (waiting.length === 0) return;
  let relations: Relations;
  try {
    relations = await acts.relateCommits({ shas: waiting.map((e) => e.sha), base: state.lastValidated });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    const next = state.policy === 'fifo' ? waiting[0] : waiting[waiting.length - 1];
    state.history.push({ sha: next.sha, outcome: 'note', at: now(), note: `git ancestry unknown (${why}): picked by arrival order, nothing superseded` });
    next.status = 'candidate';
    state.candidate = next;
    return;
  }
  const plan = planPick(
    relations,
    waiting.map((e) => e.sha),
    state.policy,
  );
  const entry = (sha: string) => waiting.find((e) => e.sha === sha)!;
  for (const r of plan.refused) Object.assign(entry(r.sha), { status: 'refused', note: r.note });
  for (const s of plan.superseded) Object.assign(entry(s.sha), { status: 'superseded', note: s.note });
  for (const r of plan.refused) state.history.push({ sha: r.sha, outcome: 'refused', at: now(), note: r.note });
  if (!plan.candidate) return;
  const next = entry(plan.candidate);
  next.status = 'candidate';
  if (plan.note) {
    next.note = plan.note;
    state.history.push({ sha: next.sha, outcome: 'note', at: now(), note: plan.note });
  }
  state.candidate = next;
}

/**
 * Checks the registry for every image of `tag` with growing intervals (2 s doubling, at most
 * a tenth of the wait or a minute) until they exist — undefined — or `imageWaitMinutes`
 * pass: then what is still missing. `onWait` hears why each check came up short.
 */
async function waitForImages(plan: PipelinePlan, tag: string, onWait: (why: string) => void): Promise<string | undefined> {
  const waitMs = (plan.settings.imageWaitMinutes ?? 60) * 60_000;
  const deadline = Date.now() + waitMs;
  const cap = Math.max(1_000, Math.min(60_000, waitMs / 10));
  let delay = Math.min(2_000, cap);
  for (;;) {
    try {
      await acts.checkImageTags({ images: plan.staging.images, tag });
      return undefined;
    } catch (err) {
      const cause = (err as { cause?: unknown }).cause;
      const why = cause instanceof Error ? cause.message : (err as Error).message;
      const left = deadline - Date.now();
      if (left <= 0) return why;
      onWait(why);
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, cap);
    }
  }
}

type ChildOutcome<T> = { ok: true; value: T } | { ok: false; outcome: string; message: string; reasons: string[] };

async function runChild<T>(fn: () => Promise<T>): Promise<ChildOutcome<T>> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    const child = childEnding(err);
    if (child) return { ok: false, outcome: child.outcome, message: child.message, reasons: child.reasons };
    if (err instanceof ChildWorkflowFailure) return { ok: false, outcome: 'failed', message: err.cause?.message ?? err.message, reasons: [] };
    if (err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError') {
      return { ok: false, outcome: 'failed', message: `another operation holds the service: ${err.message}`, reasons: [] };
    }
    throw err;
  }
}

/** A Playwright suite against `urls`, expecting `sha`: its verdict in one line; a suite that cannot run fails (`what` could not run). */
async function runPlaywright(
  pw: { suiteDir: string; grep?: string; taskQueue?: string; retries?: number; timeoutMinutes: number },
  urls: { baseUrl?: string; apiUrl?: string },
  sha: string,
  what = 'the suite',
): Promise<{ ok: boolean; summary: string }> {
  try {
    const { runPlaywrightGate } = proxyActivities<Activities>(playwrightGate(pw.taskQueue, pw.timeoutMinutes));
    const r = await runPlaywrightGate({
      suiteDir: pw.suiteDir,
      baseUrl: urls.baseUrl ?? '',
      apiUrl: urls.apiUrl,
      grep: pw.grep,
      ...(pw.retries !== undefined && { retries: pw.retries }),
      timeoutSeconds: pw.timeoutMinutes * 60,
      expectedRelease: sha,
    });
    return { ok: r.ok, summary: gateSummary(r) };
  } catch (err) {
    return { ok: false, summary: `${what} could not run: ${causeOf(err)}` };
  }
}

function causeOf(err: unknown): string {
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? cause.message : (err as Error).message;
}

async function runGate(plan: PipelinePlan, sha: string): Promise<{ ok: boolean; summary: string }> {
  const gate = plan.settings.gate;
  if (!gate?.playwright && !gate?.githubWorkflow) return { ok: true, summary: 'no gate configured' };
  if (gate.playwright) return runPlaywright(gate.playwright, { baseUrl: plan.gateUrls?.baseUrl ?? plan.staging.url, apiUrl: plan.gateUrls?.apiUrl }, sha, 'the gate');
  try {
    const gh = gate.githubWorkflow!;
    const { dispatchGitHubGate } = proxyActivities<Activities>(githubGate);
    const r = await dispatchGitHubGate({ owner: plan.github!.owner, repo: plan.github!.repo, workflow: gh.workflow, ref: gh.ref, inputs: { sha } });
    return { ok: r.ok, summary: `${gh.workflow}: ${r.conclusion} ${r.runUrl}` };
  } catch (err) {
    return { ok: false, summary: `the gate could not run: ${causeOf(err)}` };
  }
}
