import type { RateLimit } from "../config.ts";

/** The token buckets of one limit in this process's memory, one per id. */
export type LocalBuckets = {
  /** Takes a token from `id`'s bucket at `nowMs`: 0 when taken, else the milliseconds until one is there. */
  take(id: string, nowMs: number): number;
  /** Buckets held (refilled ones are dropped as new ones come) */
  readonly size: number;
};

type Bucket = { tokens: number; atMs: number };

/** What float rounding may leave a refilled bucket short of a whole token (the Lua script allows the same). */
const ROUNDING = 1e-9;
/** Below this many buckets none is ever dropped. */
const MIN_SWEEP_SIZE = 10_000;

/**
 * O(1) per request, and no allocation once an id has a bucket. A bucket that has refilled is the same as
 * none, so refilled ones are dropped whenever the map has doubled since the last sweep (amortized O(1)):
 * ids seen once (made-up org ids on the webhook route) cost memory only until they refill.
 */
export function createLocalBuckets(limit: RateLimit): LocalBuckets {
  const { burst } = limit;
  const perMs = limit.perSecond / 1000;
  const buckets = new Map<string, Bucket>();
  let sweepAt = MIN_SWEEP_SIZE;
  const refill = (bucket: Bucket, nowMs: number) => {
    // A clock that went back refills nothing (and never takes tokens away).
    if (nowMs <= bucket.atMs) return;
    bucket.tokens = Math.min(burst, bucket.tokens + (nowMs - bucket.atMs) * perMs);
    bucket.atMs = nowMs;
  };
  const sweep = (nowMs: number) => {
    for (const [id, bucket] of buckets) {
      refill(bucket, nowMs);
      if (bucket.tokens + ROUNDING >= burst) buckets.delete(id);
    }
    sweepAt = Math.max(MIN_SWEEP_SIZE, buckets.size * 2);
  };
  return {
    take(id, nowMs) {
      let bucket = buckets.get(id);
      if (bucket) {
        refill(bucket, nowMs);
      } else {
        if (buckets.size >= sweepAt) sweep(nowMs);
        bucket = { tokens: burst, atMs: nowMs };
        buckets.set(id, bucket);
      }
      if (bucket.tokens + ROUNDING >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.ceil((1 - bucket.tokens) / perMs);
    },
    get size() {
      return buckets.size;
    },
  };
}
