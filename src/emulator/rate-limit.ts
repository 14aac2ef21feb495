import type { EmulatorClock } from "./clock.ts";
import type { Mode } from "./types.ts";

/** Requests per second per account, like Stripe's global limiter (25 in test mode, 100 live). */
export type RateLimits = Record<Mode, number>;
export const DEFAULT_RATE_LIMITS: RateLimits = { test: 25, live: 100 };

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token bucket per account and mode, refilled on the emulator clock; capacity is one second's worth. */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly clock: EmulatorClock,
    private limits: RateLimits | false = DEFAULT_RATE_LIMITS,
  ) {}

  configure(limits: RateLimits | false): void {
    this.limits = limits;
    this.buckets.clear();
  }

  current(): RateLimits | false {
    return this.limits;
  }

  /** Takes one token; false means the request gets a 429. */
  take(accountId: string, mode: Mode): boolean {
    if (!this.limits) return true;
    const rate = this.limits[mode];
    const key = `${accountId}:${mode}`;
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: rate, updatedAt: now };
    bucket.tokens = Math.min(rate, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rate);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}
