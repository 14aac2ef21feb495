import { Redis } from "ioredis";
import type { Clock } from "../clock.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../logger.ts";
import { createRedisBuckets } from "./redis-buckets.ts";
import { createLocalBuckets, type LocalBuckets } from "./token-bucket.ts";

/** The limits of Config.rateLimits: per API key, per access token, per org on the two REST routes. */
export type RateLimitName = keyof Config["rateLimits"];

export type RateLimiter = {
  /** "redis" when REDIS_URL is set: every instance takes from the same buckets. */
  readonly kind: "memory" | "redis";
  /**
   * Takes one request from `id`'s bucket of `limit`: 0 when it may go on, else the milliseconds until it
   * could. Synchronous in memory; with Redis, one round trip.
   */
  take(limit: RateLimitName, id: string): number | Promise<number>;
  /** Whether buckets are shared through Redis right now (false in memory, and while Redis is away). */
  shared(): boolean;
  close(): Promise<void>;
};

export type RateLimiterDeps = {
  config: Pick<Config, "rateLimits" | "redisUrl">;
  clock: Clock;
  logger: Logger;
};

/** What `Retry-After` says for a wait: whole seconds, at least 1. */
export function retryAfterSeconds(waitMs: number): number {
  return Math.max(1, Math.ceil(waitMs / 1000));
}

/** Long enough for a loaded Redis, short enough that a hung one does not stall requests. */
const REDIS_TIMEOUT_MS = 250;
/** After a command failed on a connection that looks up (a hung Redis), how long to ask it nothing. */
const RETRY_REDIS_AFTER_MS = 1000;

/**
 * Token buckets per credential and per org (README, "Rate limits"): in this process's memory, or in Redis
 * when REDIS_URL is set. A Redis that cannot answer never fails a request: while it is away (not
 * connected, a command that errs or times out) each instance counts in its own buckets, which lets up to
 * N × the limit through across N instances rather than refuse or stall everyone; this is logged once per
 * outage, and sharing resumes with the first answer.
 */
export function createRateLimiter(deps: RateLimiterDeps): RateLimiter {
  const { rateLimits, redisUrl } = deps.config;
  const local: Record<RateLimitName, LocalBuckets> = {
    apiKey: createLocalBuckets(rateLimits.apiKey),
    accessToken: createLocalBuckets(rateLimits.accessToken),
    webhook: createLocalBuckets(rateLimits.webhook),
    oauthRedirect: createLocalBuckets(rateLimits.oauthRedirect),
  };
  const takeLocal = (limit: RateLimitName, id: string, nowMs = deps.clock.now().getTime()) =>
    local[limit].take(id, nowMs);
  if (!redisUrl) {
    return { kind: "memory", take: takeLocal, shared: () => false, close: async () => {} };
  }

  const log = deps.logger.child({ component: "rate-limits" });
  // As pubsub's publisher: fail fast while disconnected rather than queue requests behind a dead Redis.
  const client = new Redis(redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: REDIS_TIMEOUT_MS,
    // Concurrent requests' scripts go out in one write.
    enableAutoPipelining: true,
  });
  const redis = createRedisBuckets(client);
  let everReady = false;
  let degraded = false;
  let askRedisAfter = 0;
  const degrade = (error: unknown) => {
    askRedisAfter = performance.now() + RETRY_REDIS_AFTER_MS;
    if (degraded) return;
    degraded = true;
    log.warn(
      { err: error },
      "Redis unreachable: rate limits are counted by each instance alone until it is back",
    );
  };
  const recover = () => {
    if (!degraded) return;
    degraded = false;
    log.info("Redis answers again: rate limits are shared across instances");
  };
  // ioredis reconnects on its own; without a listener its errors would reach the console.
  client.on("error", degrade);
  client.on("ready", () => {
    everReady = true;
    recover();
  });

  return {
    kind: "redis",
    take(limit, id) {
      const nowMs = deps.clock.now().getTime();
      if (client.status !== "ready") {
        // Not connected yet (start-up), or the connection was lost: an outage from the first request on.
        if (everReady && !degraded) degrade(new Error(`the Redis connection is ${client.status}`));
        return takeLocal(limit, id, nowMs);
      }
      if (degraded && performance.now() < askRedisAfter) return takeLocal(limit, id, nowMs);
      return redis.take(`ratelimit:${limit}:${id}`, rateLimits[limit], nowMs).then(
        (waitMs) => {
          recover();
          return waitMs;
        },
        (error: unknown) => {
          degrade(error);
          return takeLocal(limit, id, nowMs);
        },
      );
    },
    shared: () => client.status === "ready" && !degraded,
    async close() {
      if (client.status === "ready") await client.quit().catch(() => client.disconnect());
      else client.disconnect();
    },
  };
}
