// The one retry policy for requests to Stripe: exponential backoff with jitter, through p-retry.
import pRetry from "p-retry";

export type RetryPolicy = {
  /** Attempts in all, the first included. */
  attempts: number;
  /** Backoff before the first resend; each further one doubles, up to maxDelayMs, times a jitter of 1–2. */
  firstDelayMs: number;
  maxDelayMs: number;
  /** Whether this failure may be sent again; anything else fails at once. */
  retryable(error: unknown): boolean;
  onRetry?(error: Error, attempt: number): void;
};

/** Runs `attempt` until it succeeds, fails with an error the policy does not retry, or runs out of attempts. */
export function withRetry<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  policy: RetryPolicy,
): Promise<T> {
  return pRetry(attempt, {
    retries: Math.max(0, policy.attempts - 1),
    factor: 2,
    minTimeout: policy.firstDelayMs,
    maxTimeout: policy.maxDelayMs,
    randomize: true,
    unref: true,
    shouldRetry: ({ error }) => policy.retryable(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && policy.retryable(error)) policy.onRetry?.(error, attemptNumber);
    },
  });
}
