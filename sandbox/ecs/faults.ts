/** Seeded fault injection: throttling, server errors and latency for a share of calls. */
import { seededRandom } from '../random';

export interface FaultConfig {
  /** Share of calls (0..1) answered with ThrottlingException. */
  throttleRate?: number;
  /** Share of calls (0..1) answered with ServerException (HTTP 500). */
  errorRate?: number;
  /** Added to every answer, in milliseconds. */
  latencyMs?: number;
  /** PRNG seed; the same seed and call sequence give the same faults. Default 1. */
  seed?: number;
}

export type Fault = 'throttle' | 'error';

export class FaultInjector {
  private config: Required<FaultConfig> = { throttleRate: 0, errorRate: 0, latencyMs: 0, seed: 1 };
  private random = seededRandom(1);

  /** Replaces the fault configuration and restarts the PRNG from the seed. */
  set(config: FaultConfig): void {
    const rate = (v: number | undefined, name: string) => {
      const r = v ?? 0;
      if (!(r >= 0 && r <= 1)) throw new Error(`${name} must be between 0 and 1, got ${v}`);
      return r;
    };
    this.config = {
      throttleRate: rate(config.throttleRate, 'throttleRate'),
      errorRate: rate(config.errorRate, 'errorRate'),
      latencyMs: Math.max(0, config.latencyMs ?? 0),
      seed: config.seed ?? 1,
    };
    this.random = seededRandom(this.config.seed);
  }

  get latencyMs(): number {
    return this.config.latencyMs;
  }

  /** Decides the fault, if any, of the next call. */
  draw(): Fault | undefined {
    const { throttleRate, errorRate } = this.config;
    if (throttleRate === 0 && errorRate === 0) return undefined;
    const r = this.random();
    if (r < throttleRate) return 'throttle';
    if (r < throttleRate + errorRate) return 'error';
    return undefined;
  }
}
