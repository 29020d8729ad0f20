/**
 * ECS's per-account, per-Region request throttling in the sandbox: one token bucket per
 * throttling category (domain/ecs-throttling.ts), shared by every caller, with counters per
 * category and per caller (the access key ID the request was signed with).
 */
import { type BucketLimit, type ThrottlingCategory, TokenBucket, categoryOf, limitsWith } from '../../domain/ecs-throttling';

export interface ThrottlingConfig {
  /** Bucket overrides per category; the rest keep ECS's documented numbers. */
  limits?: Partial<Record<ThrottlingCategory, BucketLimit>>;
  /**
   * Refill speed-up, for runs that scale time (5 = buckets refill five times as fast).
   * Default: the sandbox's simulation speed.
   */
  timeScale?: number;
}

export interface ThrottleCount {
  allowed: number;
  throttled: number;
}

export interface ThrottlingStats {
  enabled: boolean;
  byCategory: Partial<Record<ThrottlingCategory, ThrottleCount>>;
  /** Access key ID → category → counts. */
  byCaller: Record<string, Partial<Record<ThrottlingCategory, ThrottleCount>>>;
}

export class Throttle {
  private buckets = new Map<ThrottlingCategory, TokenBucket>();
  private limits: Record<ThrottlingCategory, BucketLimit> | undefined;
  private scale = 1;
  private fixedScale: number | undefined;
  private stats: ThrottlingStats = { enabled: false, byCategory: {}, byCaller: {} };

  /** Turns throttling on with `config` (buckets start full), or off with `false`. */
  set(config: ThrottlingConfig | false): void {
    if (config !== false) {
      if (config.timeScale !== undefined && !(config.timeScale > 0)) throw new Error(`timeScale must be a positive number, got ${config.timeScale}`);
      for (const [k, v] of Object.entries(config.limits ?? {})) {
        if (!v || !(v.burst >= 1) || !(v.perSecond > 0)) throw new Error(`throttling limit ${k} needs burst >= 1 and perSecond > 0`);
      }
    }
    this.buckets.clear();
    if (config === false) {
      this.limits = undefined;
      this.stats.enabled = false;
      return;
    }
    this.limits = limitsWith(config.limits);
    this.fixedScale = config.timeScale;
    this.stats.enabled = true;
  }

  /** The sandbox's simulation speed; it scales refill unless a timeScale was set. */
  setSpeed(factor: number): void {
    this.scale = factor;
    for (const b of this.buckets.values()) b.scale = this.fixedScale ?? factor;
  }

  /** Decides one call: true when it may proceed, false when ECS would throttle it. */
  admit(op: string, caller: string): { category: ThrottlingCategory; allowed: boolean } {
    const category = categoryOf(op);
    if (!this.limits) return { category, allowed: true };
    let bucket = this.buckets.get(category);
    if (!bucket) {
      bucket = new TokenBucket(this.limits[category], Date.now, this.fixedScale ?? this.scale);
      this.buckets.set(category, bucket);
    }
    const allowed = bucket.tryTake();
    const bump = (m: Partial<Record<ThrottlingCategory, ThrottleCount>>) => {
      const c = (m[category] ??= { allowed: 0, throttled: 0 });
      if (allowed) c.allowed++;
      else c.throttled++;
    };
    bump(this.stats.byCategory);
    bump((this.stats.byCaller[caller] ??= {}));
    return { category, allowed };
  }

  snapshot(): ThrottlingStats {
    return JSON.parse(JSON.stringify(this.stats)) as ThrottlingStats;
  }

  resetStats(): void {
    this.stats = { enabled: this.stats.enabled, byCategory: {}, byCaller: {} };
  }
}

/** The access key ID of a SigV4-signed request (`Credential=AKID/date/region/ecs/aws4_request`). */
export function callerOf(authorization: string | string[] | undefined): string {
  const header = Array.isArray(authorization) ? authorization[0] : authorization;
  const m = /Credential=([^/,\s]+)\//.exec(header ?? '');
  return m ? m[1] : 'anonymous';
}
