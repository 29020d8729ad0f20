/**
 * The worker's ECS budget: one set of token buckets per account and Region, one bucket per
 * ECS throttling category, sized at a configured share of ECS's buckets so that other tools
 * in the account (console, Terraform, monitoring) keep the rest. Every ECS call of every
 * activity on the worker draws one token per attempt, through a middleware on the ECS
 * client (`attachBudget`).
 *
 * - Calls wait their turn for a token (registrations queue at the category's rate instead
 *   of failing): the activity's Temporal priority key first (a rollback before a production
 *   deploy before the rest), then a retried attempt before a first attempt.
 * - A ThrottlingException means someone else in the account is using more than we assumed:
 *   the category's share is halved (at most once per second) and grows back slowly
 *   (additive increase); the throttled call is retried by the middleware after a fully
 *   jittered, exponentially growing pause, so throttled callers do not come back together.
 *   A throttled call had no effect, so this is safe for mutating calls too.
 *
 * This budget is one process's. Across worker processes the guarantee is Temporal's: the
 * activities that make these calls run on rate-limited task queues (domain/ecs-queues.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { ECSClient } from '@aws-sdk/client-ecs';
import { Context } from '@temporalio/activity';
import { defaultPayloadConverter } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { PRIORITY_KEY_HEADER } from '../domain/ecs-queues';
import { type BucketLimit, type ThrottlingCategory, TokenBucket, categoryOf, limitsWith } from '../domain/ecs-throttling';

export interface EcsBudgetOptions {
  /** Share (0..1] of each ECS bucket this worker may use. */
  share: number;
  /** ECS's buckets for this account, when its quotas differ from the documented ones. */
  limits?: Partial<Record<ThrottlingCategory, BucketLimit>>;
  /** Refill speed-up, for sandboxes that run time faster (default 1). */
  timeScale?: number;
  /** Lowest fraction of the share that throttling answers can shrink it to (default 0.1). */
  minFactor?: number;
  /** Fraction of the share regained per second without throttling (default 0.02: 0.5 → 1 in 25 s). */
  recoverPerSecond?: number;
  /** Throttled attempts the middleware retries itself before giving up the call (default 8). */
  maxThrottleRetries?: number;
  /** First backoff cap after a throttle, in ms (default 250; doubled per retry, at most 20 s). */
  backoffBaseMs?: number;
  now?: () => number;
  random?: () => number;
}

export interface CategoryStats {
  /** Calls this category may make per second now (share × AIMD factor × ECS's rate). */
  perSecond: number;
  burst: number;
  /** Current AIMD factor (1 = the full configured share). */
  factor: number;
  sent: number;
  throttled: number;
  /** Calls waiting for a token now. */
  waiting: number;
  /** Total time calls spent waiting for tokens, in ms. */
  waitedMs: number;
}

/** A watch that has not polled for this long is no longer counted as in flight. */
const WATCH_WINDOW_MS = 30_000;

interface Waiter {
  priority: number;
  seq: number;
  resolve: () => void;
  reject: (err: unknown) => void;
  cleanup?: () => void;
}

class CategoryBudget {
  readonly bucket: TokenBucket;
  factor = 1;
  lastCut = Number.NEGATIVE_INFINITY;
  lastRecover: number;
  readonly waiters: Waiter[] = [];
  timer: NodeJS.Timeout | undefined;
  stats = { sent: 0, throttled: 0, waitedMs: 0 };

  constructor(
    readonly ecs: BucketLimit,
    readonly share: number,
    readonly now: () => number,
    readonly scale: number,
  ) {
    this.lastRecover = now();
    this.bucket = new TokenBucket(this.limit(), now, scale);
  }

  limit(): BucketLimit {
    const f = this.share * this.factor;
    return { burst: Math.max(1, Math.floor(this.ecs.burst * f)), perSecond: this.ecs.perSecond * f };
  }

  /** Additive increase since the last look. */
  recover(perSecond: number): void {
    const t = this.now();
    if (this.factor < 1) {
      this.factor = Math.min(1, this.factor + ((t - this.lastRecover) / 1000) * perSecond * this.scale);
      this.bucket.resize(this.limit());
    }
    this.lastRecover = t;
  }
}

export class EcsBudget {
  private readonly categories = new Map<ThrottlingCategory, CategoryBudget>();
  private readonly limits: Record<ThrottlingCategory, BucketLimit>;
  private readonly now: () => number;
  private readonly random: () => number;
  private seq = 0;
  private readonly watches = new Map<string, number>();
  /** Event-watched rollouts → until when they count as in flight (wall clock). */
  private readonly reconciling = new Map<string, number>();

  constructor(readonly options: EcsBudgetOptions) {
    if (!(options.share > 0 && options.share <= 1)) throw new Error(`the ECS API share must be in (0, 1], got ${options.share}`);
    this.limits = limitsWith(options.limits);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  private get scale(): number {
    return this.options.timeScale ?? 1;
  }

  private category(c: ThrottlingCategory): CategoryBudget {
    let b = this.categories.get(c);
    if (!b) {
      b = new CategoryBudget(this.limits[c], this.options.share, this.now, this.scale);
      this.categories.set(c, b);
    }
    b.recover(this.options.recoverPerSecond ?? 0.02);
    return b;
  }

  /**
   * Waits for a token of `category`. Higher `priority` goes first (then first come, first
   * served). Rejects when `signal` aborts (the activity was cancelled or timed out).
   */
  acquire(category: ThrottlingCategory, opts: { priority?: number; signal?: AbortSignal } = {}): Promise<void> {
    const b = this.category(category);
    if (b.waiters.length === 0 && b.bucket.tryTake()) {
      b.stats.sent++;
      return Promise.resolve();
    }
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason ?? new Error('aborted'));
    const started = this.now();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        priority: opts.priority ?? 0,
        seq: this.seq++,
        resolve: () => {
          waiter.cleanup?.();
          b.stats.waitedMs += this.now() - started;
          b.stats.sent++;
          resolve();
        },
        reject: (err) => {
          waiter.cleanup?.();
          reject(err);
        },
      };
      if (opts.signal) {
        const signal = opts.signal;
        const onAbort = () => {
          const i = b.waiters.indexOf(waiter);
          if (i >= 0) b.waiters.splice(i, 1);
          waiter.reject(signal.reason ?? new Error('aborted'));
        };
        signal.addEventListener('abort', onAbort, { once: true });
        waiter.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      // Highest priority first, then arrival order.
      let i = b.waiters.length;
      while (i > 0 && b.waiters[i - 1].priority < waiter.priority) i--;
      b.waiters.splice(i, 0, waiter);
      this.pump(category, b);
    });
  }

  /** Hands out tokens to waiters as the bucket refills. */
  private pump(category: ThrottlingCategory, b: CategoryBudget): void {
    if (b.timer) return;
    b.recover(this.options.recoverPerSecond ?? 0.02);
    while (b.waiters.length > 0 && b.bucket.tryTake()) b.waiters.shift()!.resolve();
    if (b.waiters.length === 0) return;
    const wait = Math.max(1, b.bucket.msUntilToken());
    b.timer = setTimeout(() => {
      b.timer = undefined;
      this.pump(category, b);
    }, wait);
  }

  /** ECS throttled a call of `category`: halve the share (at most once per second). */
  throttled(category: ThrottlingCategory): void {
    const b = this.category(category);
    b.stats.throttled++;
    const t = this.now();
    if ((t - b.lastCut) * this.scale < 1000) return;
    b.lastCut = t;
    b.factor = Math.max(this.options.minFactor ?? 0.1, b.factor / 2);
    b.bucket.resize(b.limit());
  }

  /** A pause before retrying a throttled call: uniformly random up to a cap that doubles per retry. */
  backoffMs(retry: number): number {
    const cap = Math.min(20_000, (this.options.backoffBaseMs ?? 250) * 2 ** retry) / this.scale;
    return Math.round(this.random() * cap);
  }

  /** Calls per second `category` may make now. */
  ratePerSecond(category: ThrottlingCategory): number {
    return this.category(category).limit().perSecond * this.scale;
  }

  /** Rollout watches that polled in the last `WATCH_WINDOW_MS` (wall clock), by key. */
  get watchesInFlight(): number {
    const t = Date.now();
    for (const [k, at] of this.watches) if (t - at > WATCH_WINDOW_MS) this.watches.delete(k);
    return this.watches.size;
  }

  /**
   * The poll interval for the rollout watch `key`: at least `baseMs`, and long enough that
   * all watches in flight on this worker together use at most half of the service-read
   * budget (one DescribeServices per look), leaving the rest for the reads of
   * registrations and updates and for the occasional deployment read. A watch is in flight
   * while it keeps polling.
   */
  pollIntervalMs(baseMs: number, key: string): number {
    this.watches.set(key, Date.now());
    const rate = this.ratePerSecond('service-read');
    const spread = rate > 0 ? (this.watchesInFlight / (rate * 0.5)) * 1000 : baseMs;
    return Math.max(baseMs, Math.round(spread));
  }

  /**
   * The time until the next reconciling look of the event-watched rollout `key`: at least
   * `baseMs`, and long enough that all event-watched rollouts on this worker together use
   * at most a quarter of the service-read budget (a look costs `callsPerLook` calls: less than
   * one when looks share batched calls). Events, not these looks, tell when a rollout ends;
   * the looks catch what an event did not say.
   */
  reconcileIntervalMs(baseMs: number, key: string, callsPerLook: number): number {
    const t = Date.now();
    for (const [k, until] of this.reconciling) if (until < t) this.reconciling.delete(k);
    const rate = this.ratePerSecond('service-read');
    const inFlight = this.reconciling.size + (this.reconciling.has(key) ? 0 : 1);
    const spread = rate > 0 ? ((inFlight * Math.max(0.1, Math.min(1, callsPerLook))) / (rate * 0.25)) * 1000 : baseMs;
    const interval = Math.max(baseMs, Math.round(spread));
    // Still in flight until well after its next look is due.
    this.reconciling.set(key, t + interval * 2 + 5000);
    return interval;
  }

  stats(): Partial<Record<ThrottlingCategory, CategoryStats>> {
    const out: Partial<Record<ThrottlingCategory, CategoryStats>> = {};
    for (const [c, b] of this.categories) {
      const l = b.limit();
      out[c] = { perSecond: l.perSecond * this.scale, burst: l.burst, factor: b.factor, waiting: b.waiters.length, ...b.stats };
    }
    return out;
  }

  /** Stops timers and rejects every waiting call (worker shutdown). */
  close(): void {
    for (const b of this.categories.values()) {
      if (b.timer) clearTimeout(b.timer);
      b.timer = undefined;
      for (const w of b.waiters.splice(0)) w.reject(new Error('the ECS budget was closed'));
    }
  }
}

function isThrottling(err: unknown): boolean {
  const name = (err as { name?: string } | undefined)?.name;
  return name === 'ThrottlingException' || name === 'Throttling' || name === 'TooManyRequestsException' || name === 'RequestLimitExceeded';
}

/** Temporal's default priority key, and its lowest (highest number). */
const DEFAULT_PRIORITY_KEY = 3;
const LOWEST_PRIORITY_KEY = 5;

/**
 * Where a call waits for a token (higher first): by the activity's priority key (1 goes
 * first), then by attempt (a retry before a first attempt).
 */
export function waitingOrder(priorityKey: number | undefined, attempt: number): number {
  const key = Math.min(LOWEST_PRIORITY_KEY, Math.max(1, priorityKey || DEFAULT_PRIORITY_KEY));
  return (LOWEST_PRIORITY_KEY + 1 - key) * 1000 + Math.min(attempt, 999);
}

/** The priority key of the running local activity, which carries no priority of its own: its workflow's. */
const priorityKeys = new AsyncLocalStorage<number>();

/**
 * The worker's activity interceptor: a local activity whose header names its operation's
 * priority key (workflows/priority.ts) makes its ECS calls at that key.
 */
export const localActivityPriority: ActivityInterceptorsFactory = (ctx) => ({
  inbound: {
    execute(input, next) {
      const header = ctx.info.isLocal ? input.headers[PRIORITY_KEY_HEADER] : undefined;
      const key: unknown = header ? defaultPayloadConverter.fromPayload(header) : undefined;
      return typeof key === 'number' ? priorityKeys.run(key, () => next(input)) : next(input);
    },
  },
});

/** The running activity's cancellation signal and place in line (nothing outside an activity). */
function activity(): { signal?: AbortSignal; priority: number } {
  try {
    const ctx = Context.current();
    return { signal: ctx.cancellationSignal, priority: waitingOrder(priorityKeys.getStore() ?? ctx.info.priority?.priorityKey, ctx.info.attempt) };
  } catch {
    return { priority: waitingOrder(undefined, 1) };
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal?.reason ?? new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Puts `client`'s every attempt (the SDK's own retries included) under `budget`: the
 * middleware sits inside the SDK's retry and before request signing, so a call that waited
 * for a token is signed when it leaves.
 */
export function attachBudget(client: ECSClient, budget: EcsBudget): ECSClient {
  client.middlewareStack.addRelativeTo(
    (next: any, context: any) => async (args: any) => {
      const category = categoryOf(String(context.commandName ?? '').replace(/Command$/, ''));
      const { signal, priority } = activity();
      for (let retry = 0; ; retry++) {
        await budget.acquire(category, { priority, signal });
        try {
          return await next(args);
        } catch (err) {
          if (!isThrottling(err) || retry >= (budget.options.maxThrottleRetries ?? 8)) throw err;
          budget.throttled(category);
          await sleep(budget.backoffMs(retry), signal);
        }
      }
    },
    { name: 'slipwayEcsBudget', relation: 'before', toMiddleware: 'httpSigningMiddleware', override: true },
  );
  return client;
}
