/**
 * How an operation ends. One place decides it for deploy, rollback/redeploy and release
 * (and classifies child failures for the pipeline): a refusal (bad input, unknown things,
 * an unauthorised actor) or a failure (typed, of an activity, of a child operation, a
 * cancellation) always leaves the same marks — a line in the progress, the `Outcome`
 * search attribute, the failure notice once the operation was announced, and a typed,
 * non-retryable failure carrying the outcome.
 */
import { ActivityFailure, ApplicationFailure, CancellationScope, ChildWorkflowFailure, isCancellation, patched, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { Notifier } from './notifier';
import { PATCH_EVERY_ENDING } from './patches';
import { FailureType, SA, type DeployFailureDetails, type Outcome } from '../contract';

export type FailedOutcome = Exclude<Outcome, 'running' | 'succeeded'>;

export interface Ending {
  outcome: 'refused' | 'unauthorized' | 'failed';
  type: string;
  message: string;
}

/**
 * The ending an activity failure calls for, or undefined when it is not a typed failure
 * (cancellation, timeouts without a type) — or, with `refusalsOnly`, not a refusal.
 */
export function endingOf(err: unknown, opts: { refusalsOnly?: boolean } = {}): Ending | undefined {
  if (isCancellation(err)) return undefined;
  const cause = activityCause(err);
  if (!(cause instanceof ApplicationFailure) || !cause.type) return undefined;
  if (cause.type === FailureType.unauthorized) return { outcome: 'unauthorized', type: cause.type, message: `refused: ${cause.message}` };
  if (cause.type === FailureType.badInput || cause.type === FailureType.notFound) return { outcome: 'refused', type: cause.type, message: `refused: ${cause.message}` };
  return opts.refusalsOnly ? undefined : { outcome: 'failed', type: cause.type, message: `failed: ${cause.message}` };
}

/**
 * What an activity failed with: an activity's failure wraps it (ActivityFailure, its cause),
 * a local activity's is the failure itself.
 */
function activityCause(err: unknown): unknown {
  return err instanceof ApplicationFailure ? err : (err as { cause?: unknown }).cause;
}

/** How a child operation (a deploy) ended, when it failed with its typed failure. */
export interface ChildEnding {
  outcome: FailedOutcome;
  type: string;
  message: string;
  reasons: string[];
  details?: DeployFailureDetails;
}

export function childEnding(err: unknown): ChildEnding | undefined {
  if (!(err instanceof ChildWorkflowFailure) || !(err.cause instanceof ApplicationFailure)) return undefined;
  const f = err.cause;
  const details = f.details?.[0] as DeployFailureDetails | undefined;
  return { outcome: details?.outcome ?? 'failed', type: f.type ?? FailureType.failed, message: f.message, reasons: details?.reasons ?? [], details };
}

/** Another operation holds the lock the child needed. */
export function alreadyRunning(err: unknown): boolean {
  return err instanceof Error && err.name === 'WorkflowExecutionAlreadyStartedError';
}

/**
 * Why this execution may not run under its workflow ID, or undefined. The ID is the lock
 * (one operation per service, one pipeline per app): an operation started under another
 * ID would run beside the one that holds it, so it refuses before doing anything.
 */
export function lockProblem(what: string, expected: string): string | undefined {
  const actual = workflowInfo().workflowId;
  if (actual === expected) return undefined;
  return `${what} runs only under the workflow ID ${expected} (its lock); this one was started as ${actual}. Start it with the slipway CLI, or under that ID`;
}

/** The words of a failure, whatever wraps it. */
export function messageOf(err: unknown): string {
  const cause = err instanceof ActivityFailure || err instanceof ChildWorkflowFailure ? (err.cause ?? err) : err;
  return cause instanceof Error ? cause.message : String(cause);
}

export interface ClosingOptions {
  /** Writes a line into the operation's progress; `outcome` is set when the line ends it. */
  say(line: string, outcome?: FailedOutcome): void;
  /** Details attached to the failure (the deploy's own); a child's details are passed on as they are. */
  details?(outcome: FailedOutcome): unknown;
  /** Why the operation was cancelled, when it knows (a deploy preempted by a rollback). */
  cancelled?(): string;
  /** Undoes what a cancellation leaves running (a deploy stops the ECS deployment it started). */
  onCancel?(): Promise<void>;
}

/** What a failed child operation means for its parent (release: the release is marked failed first). */
export interface ChildFailureHooks {
  before?(child: ChildEnding): Promise<void>;
  notice?(child: ChildEnding): string;
  message?(child: ChildEnding): string;
}

interface Thrown {
  outcome: FailedOutcome;
  notice: string;
  reasons: string[];
  /** Earlier versions sent this notice too (no patch marker needed for it). */
  noticed: boolean;
  /** Already sent. */
  sent: boolean;
}

/** One operation's way to end. Create it first; set `notifier` once the operation is announced. */
export class Closing {
  notifier?: Notifier;
  child: ChildFailureHooks = {};
  private readonly thrown = new WeakMap<object, Thrown>();

  constructor(private readonly opts: ClosingOptions) {}

  /** Ends the operation now (a refusal or a failure): progress, Outcome, a typed failure; the notice is sent by `caught`. */
  end(outcome: FailedOutcome, type: string, message: string, extra: { details?: unknown; reasons?: string[]; noticed?: boolean; notice?: string; sent?: boolean } = {}): never {
    this.opts.say(message, outcome);
    upsertSearchAttributes([{ key: SA.outcome, value: outcome }]);
    const details = extra.details ?? this.opts.details?.(outcome);
    const failure = ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? undefined : [details] });
    const reasons = extra.reasons ?? (details as DeployFailureDetails | undefined)?.reasons ?? [];
    this.thrown.set(failure, { outcome, notice: extra.notice ?? message, reasons, noticed: extra.noticed ?? true, sent: extra.sent ?? false });
    throw failure;
  }

  /** The details a failure of this operation carries for `outcome`. */
  details(outcome: FailedOutcome): unknown {
    return this.opts.details?.(outcome);
  }

  /** Runs a preflight or effect activity; a refusal (or, without `refusalsOnly`, any typed failure) ends the operation. */
  async step<T>(fn: () => Promise<T>, opts: { refusalsOnly?: boolean } = {}): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof Error && this.thrown.has(err)) throw err;
      const ending = endingOf(err, opts);
      if (ending) this.end(ending.outcome, ending.type, ending.message);
      throw err;
    }
  }

  /** For the operation's outermost `catch`: however `err` came about, the operation ends here. Always throws. */
  async caught(err: unknown): Promise<never> {
    if (isCancellation(err)) {
      if (this.opts.cancelled || patched(PATCH_EVERY_ENDING)) {
        await CancellationScope.nonCancellable(async () => {
          await this.opts.onCancel?.();
          const message = `cancelled: ${this.opts.cancelled?.() ?? 'cancelled'}`;
          this.opts.say(message, 'cancelled');
          upsertSearchAttributes([{ key: SA.outcome, value: 'cancelled' }]);
          await this.notifier?.failed('cancelled', message);
        });
      }
      throw err;
    }

    if (err instanceof Error && this.thrown.has(err)) return this.close(err);

    const child = childEnding(err);
    if (child) {
      await this.child.before?.(child);
      const notice = this.child.notice?.(child) ?? child.message;
      await this.notifier?.failed(child.outcome, notice, child.reasons);
      return this.close(this.ending(child.outcome, child.type, this.child.message?.(child) ?? child.message, { details: child.details, reasons: child.reasons, sent: true }));
    }

    if (alreadyRunning(err)) {
      const id = (err as { workflowId?: string }).workflowId ?? 'the service lock';
      return this.close(this.ending('failed', 'AlreadyRunning', `another operation started on this service meanwhile (workflow ${id}); try again`, { noticed: false }));
    }

    // An activity that failed for good, a child that failed without its typed failure, or a bug.
    if (!patched(PATCH_EVERY_ENDING)) throw err;
    // Refusals were decided where the activity ran (`step`); past that, a failed activity is a failure.
    const cause = activityCause(err);
    const type = cause instanceof ApplicationFailure && cause.type ? cause.type : FailureType.failed;
    return this.close(this.ending('failed', type, `failed: ${messageOf(err)}`, { noticed: false }));
  }

  /** The failure `end` throws, as a value. */
  private ending(...args: Parameters<Closing['end']>): Error {
    try {
      this.end(...args);
    } catch (failure) {
      return failure as Error;
    }
  }

  /** Sends the failure notice (once, where due) and throws the failure. */
  private async close(failure: Error): Promise<never> {
    const own = this.thrown.get(failure)!;
    if (this.notifier && !own.sent && (own.noticed || patched(PATCH_EVERY_ENDING))) {
      own.sent = true;
      await this.notifier.failed(own.outcome, own.notice, own.reasons);
    }
    throw failure;
  }
}
