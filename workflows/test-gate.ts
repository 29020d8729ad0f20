/**
 * The gate on test traffic: while ECS holds a new revision at a PAUSE lifecycle hook at
 * POST_TEST_TRAFFIC_SHIFT (test listener on the new revision, production still on the old
 * one), the deploy checks it there — the test route's version endpoint reports the tag,
 * the app's Playwright suite passes against the test route, a person approves the exact
 * tag — and then answers the hook. Deterministic workflow code: the checks are activities,
 * the approval arrives as the same Update or Signal the pipeline takes.
 */
import { ApplicationFailure, condition, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { Target } from '../domain/config';
import { gateSummary } from '../domain/gates';
import { approvalRequestProblem, clip } from '../domain/input';
import { shortTag } from '../domain/tags';
import { playwrightGate, verify } from './profiles';
import {
  approveSignal,
  approveUpdate,
  rejectSignal,
  rejectUpdate,
  type ApprovalRecord,
  type ApprovalRequest,
  type DeployInput,
  type DeployProgress,
  type ProgressCode,
  type ProgressData,
  type ProgressLevel,
  type TestGateProgress,
} from '../contract';

/** Emits a typed progress event of the deploy. */
export type Emit = <C extends ProgressCode>(code: C, data: ProgressData[C], level?: ProgressLevel) => void;

const MAX_REASON = 500;

export type TestTrafficTarget = Target & { testTraffic: NonNullable<Target['testTraffic']> };

export class TestGate {
  private decision: ApprovalRecord | undefined;

  constructor(
    private readonly input: DeployInput,
    private readonly progress: DeployProgress,
    private readonly say: Emit,
  ) {
    setHandler(approveUpdate, (r) => this.decide(r, 'approve', 'update'), { validator: (r) => this.validate(r, false) });
    setHandler(rejectUpdate, (r) => this.decide(r, 'reject', 'update'), { validator: (r) => this.validate(r, true) });
    setHandler(approveSignal, (r) => void this.decide(r, 'approve', 'signal'));
    setHandler(rejectSignal, (r) => void this.decide(r, 'reject', 'signal'));
  }

  /**
   * Runs the configured checks against the test route until `deadline` (workflow time, ms).
   * Never throws for a failed check: the answer is `ok: false` with the reason.
   */
  async run(target: TestTrafficTarget, hookId: string, deadline: number): Promise<{ ok: true } | { ok: false; reason: string }> {
    const tt = target.testTraffic;
    const tag = this.input.tag;
    const gate: TestGateProgress = { state: 'checking', hookId, deadline: new Date(deadline).toISOString(), approvals: [] };
    this.progress.gate = gate;
    const left = () => Math.max(1, Math.floor((deadline - Date.now()) / 1000));
    const fail = (reason: string) => {
      gate.state = 'failed';
      gate.reason = reason;
      this.say('gate.failed', { reason }, 'warn');
      return { ok: false as const, reason };
    };

    // 1. The test route serves the new revision.
    const budget = Math.min(target.verifyBudgetSeconds, left());
    const { awaitVersion } = proxyActivities<Activities>(verify(budget));
    try {
      const seen = await awaitVersion({ url: tt.versionEndpoint, expected: tag, budgetSeconds: budget });
      this.say('gate.version', { url: seen.url, release: seen.release });
    } catch (err) {
      return fail(`the test route ${causeOf(err)}`);
    }

    // 2. The app's Playwright suite against the test route.
    const pw = tt.playwrightGate;
    if (pw && tt.url) {
      const minutes = Math.min(pw.timeoutMinutes, Math.max(1, Math.ceil(left() / 60)));
      const { runPlaywrightGate } = proxyActivities<Activities>(playwrightGate(pw.taskQueue, minutes));
      this.say('gate.playwright-running', { url: tt.url });
      try {
        const r = await runPlaywrightGate({
          suiteDir: pw.suiteDir,
          baseUrl: tt.url,
          grep: pw.grep,
          retries: pw.retries,
          timeoutSeconds: minutes * 60,
          expectedRelease: tag,
        });
        if (!r.ok) return fail(`the Playwright gate on the test route failed: ${gateSummary(r)}`);
        this.say('gate.playwright-passed', { summary: gateSummary(r) });
      } catch (err) {
        return fail(`the Playwright gate on the test route could not run: ${causeOf(err)}`);
      }
    }

    // 3. A person approves the exact tag.
    if (tt.approval) {
      gate.state = 'awaiting_approval';
      this.say('gate.awaiting-approval', { tag, deadline: gate.deadline, workflowId: workflowInfo().workflowId });
      const answered = await condition(() => this.decision !== undefined, left() * 1000);
      if (!answered) return fail(`nobody approved ${shortTag(tag)} by ${gate.deadline}`);
      const d = this.decision!;
      if (d.decision === 'reject') return fail(`rejected by @${d.approver}${d.reason ? `: ${d.reason}` : ''}`);
    }
    gate.state = 'passed';
    return { ok: true };
  }

  /** What the Update validators refuse without I/O. */
  private validate(r: ApprovalRequest, rejecting: boolean): void {
    const problem = this.requestProblem(r) ?? (rejecting && !r.reason ? 'a rejection needs a reason' : undefined);
    if (problem) throw ApplicationFailure.create({ type: 'BadInput', message: problem, nonRetryable: true });
  }

  private requestProblem(r: ApprovalRequest): string | undefined {
    const problem = approvalRequestProblem(r);
    if (problem) return problem;
    const gate = this.progress.gate;
    if (!gate || gate.state !== 'awaiting_approval' || this.decision) {
      return `${workflowInfo().workflowId} is not waiting for an approval (${gate ? `test traffic gate: ${gate.state.replace(/_/g, ' ')}` : `phase: ${this.progress.phase}`})`;
    }
    if (r.tag !== this.input.tag) return `'${r.tag}' is not on test traffic: the revision awaiting approval runs ${this.input.tag}`;
    return undefined;
  }

  /** Approve or reject the tag on test traffic: an authorised (and, in oidc mode, proven) person; refusals are recorded. */
  private async decide(r: ApprovalRequest, kind: 'approve' | 'reject', via: 'update' | 'signal'): Promise<ApprovalRecord> {
    const text = (v: unknown, max: number) => clip(typeof v === 'string' ? v : String(v), max);
    const record: ApprovalRecord = { approver: text(r?.approver, 64), tag: text(r?.tag, 128), at: new Date().toISOString(), decision: kind, via };
    if (r?.reason !== undefined && r?.reason !== null) record.reason = text(r.reason, MAX_REASON);
    const refuse = (why: string): ApprovalRecord => {
      record.refused = why;
      this.progress.gate?.approvals.push(record);
      if (via === 'update') throw ApplicationFailure.create({ type: 'ApprovalRefused', message: why, nonRetryable: true });
      return record;
    };
    const early = this.requestProblem(r);
    if (early) return refuse(early);
    const { authorize } = proxyActivities<Activities>({
      startToCloseTimeout: '30s',
      retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['BadInput', 'NotFound', 'Unauthorized'] },
    });
    try {
      const auth = await authorize({ actor: record.approver, operation: 'approve', app: this.input.app, env: this.input.env, idToken: r?.idToken });
      if (auth.proven) record.proven = { actor: auth.proven.actor, triggeringActor: auth.proven.triggeringActor, workflowRef: auth.proven.workflowRef, runId: auth.proven.runId };
    } catch (err) {
      return refuse(causeOf(err, `could not check @${record.approver}`));
    }
    // Decided by someone else, or past the deadline, while the membership was checked.
    if (this.decision || this.progress.gate?.state !== 'awaiting_approval') return refuse(`${shortTag(this.input.tag)} is no longer awaiting approval`);
    this.decision = record;
    this.progress.gate.approvals.push(record);
    this.say('gate.decided', { decision: kind, tag: record.tag, approver: record.approver, ...(record.reason !== undefined && { reason: record.reason }) });
    return record;
  }
}

/** The words of an activity's failure. */
function causeOf(err: unknown, prefix?: string): string {
  const cause = (err as { cause?: unknown }).cause;
  const msg = cause instanceof ApplicationFailure ? cause.message : (err as Error).message;
  return prefix ? `${prefix}: ${msg}` : msg;
}
