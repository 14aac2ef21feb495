// When a failed delivery is tried again, as the Standard Webhooks specification recommends: at once, then
// after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h … until 3 days have passed since the delivery was
// created. A `Retry-After` from a 429 or 503 answer replaces the next step.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

export type RetryPolicy = {
  /** The wait after the first, second … failed attempt; the last repeats. */
  delaysMs: readonly number[];
  /** A delivery not delivered this long after it was created is given up (EXHAUSTED). */
  giveUpAfterMs: number;
  /** Each wait is moved by up to this fraction either way, so that retries of many deliveries spread. */
  jitter: number;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  delaysMs: [5 * SECOND, 5 * MINUTE, 30 * MINUTE, 2 * HOUR, 5 * HOUR, 10 * HOUR],
  giveUpAfterMs: 3 * 24 * HOUR,
  jitter: 0.1,
};

/** The longest `Retry-After` honoured: a larger one waits this long. */
const MAX_RETRY_AFTER_MS = 24 * HOUR;

/**
 * When to try again after the `attempts`-th failed attempt, or null to give up. `retryAfterMs` is the
 * endpoint's own `Retry-After`; `random` is in [0, 1).
 */
export function nextAttemptAt(
  policy: RetryPolicy,
  delivery: { createdAt: Date; attempts: number },
  now: Date,
  retryAfterMs: number | null,
  random: number = Math.random(),
): Date | null {
  const scheduled = policy.delaysMs[Math.min(delivery.attempts, policy.delaysMs.length) - 1] ?? 0;
  const wait =
    retryAfterMs !== null
      ? Math.min(Math.max(retryAfterMs, 0), MAX_RETRY_AFTER_MS)
      : Math.round(scheduled * (1 + policy.jitter * (2 * random - 1)));
  const at = now.getTime() + wait;
  return at > delivery.createdAt.getTime() + policy.giveUpAfterMs ? null : new Date(at);
}

/** A `Retry-After` header in milliseconds from `now` (delay-seconds or an HTTP date), or null. */
export function parseRetryAfter(value: string | null | undefined, now: Date): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * SECOND;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(date - now.getTime(), 0);
}
