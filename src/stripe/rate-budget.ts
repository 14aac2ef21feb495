/**
 * A token bucket per connection. Stripe allows 100 read requests/s per account in live mode and 25 in
 * test mode; the gateway keeps to half of that, so the merchant's own integration keeps its share.
 */
export const BUDGET_PER_SECOND = { live: 50, test: 12.5 } as const;

export type RateBudget = {
  take(key: string, perSecond: number): Promise<void>;
  /**
   * Stripe answered 429: every request of this key waits `ms` before its turn (its several lists in
   * flight back off together instead of each racing for Stripe's tokens).
   */
  holdOff(key: string, ms: number): void;
};

export function createRateBudget(now: () => number = () => performance.now()): RateBudget {
  const buckets = new Map<string, { tokens: number; at: number; queue: Promise<void>; until?: number }>();
  return {
    holdOff(key, ms) {
      const bucket = buckets.get(key);
      if (!bucket) return;
      // No tokens saved up meanwhile: after the pause the requests resume at the budget's pace, not in a burst.
      bucket.until = Math.max(bucket.until ?? 0, now() + ms);
      bucket.tokens = Math.min(bucket.tokens, 0);
      bucket.at = bucket.until;
    },
    take(key, perSecond) {
      const burst = Math.max(1, Math.floor(perSecond / 2));
      let bucket = buckets.get(key);
      if (!bucket) {
        bucket = { tokens: burst, at: now(), queue: Promise.resolve() };
        buckets.set(key, bucket);
      }
      const current = bucket;
      // Callers queue up: each waits for the one before it, then for its own token.
      const turn = current.queue.then(async () => {
        for (;;) {
          const t = now();
          if (current.until !== undefined && t < current.until) {
            await new Promise((resolve) => setTimeout(resolve, current.until! - t));
            continue;
          }
          current.tokens = Math.min(burst, current.tokens + ((t - current.at) / 1000) * perSecond);
          current.at = t;
          if (current.tokens >= 1) {
            current.tokens -= 1;
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, ((1 - current.tokens) / perSecond) * 1000));
        }
      });
      current.queue = turn;
      return turn;
    },
  };
}
