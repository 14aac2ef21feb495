import type { Redis } from "ioredis";
import type { RateLimit } from "../config.ts";

/**
 * One token bucket, atomically: refill from the time elapsed, take a token or say how long until one is
 * there, and expire the key when the bucket would be full again (a full bucket and no key are the same).
 * Time is the caller's (its clock is the gateway's, which tests move): an instance whose clock lags
 * refills nothing until it passes the stored time, so a skew of s seconds costs at most s × rate tokens.
 */
const TAKE_TOKEN = `
local burst = tonumber(ARGV[1])
local per_ms = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call("HMGET", KEYS[1], "tokens", "at")
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
if now > at then
  tokens = math.min(burst, tokens + (now - at) * per_ms)
  at = now
end
local wait = 0
if tokens + 1e-9 >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / per_ms)
end
redis.call("HSET", KEYS[1], "tokens", tokens, "at", at)
redis.call("PEXPIRE", KEYS[1], math.min(1e12, math.max(1, math.ceil((burst - tokens) / per_ms))))
return wait
`;

type TakeToken = (key: string, burst: number, perMs: number, nowMs: number) => Promise<number>;

/** Buckets in Redis, shared by every instance that uses the same Redis. */
export type RedisBuckets = {
  /** As LocalBuckets.take, over the network: rejects when Redis does not answer. */
  take(key: string, limit: RateLimit, nowMs: number): Promise<number>;
};

/** The script is sent once and run by its SHA afterwards (ioredis falls back to EVAL after a restart). */
export function createRedisBuckets(client: Redis): RedisBuckets {
  client.defineCommand("takeRateLimitToken", { numberOfKeys: 1, lua: TAKE_TOKEN });
  const takeToken = (client as unknown as { takeRateLimitToken: TakeToken }).takeRateLimitToken.bind(client);
  return {
    take: (key, limit, nowMs) => takeToken(key, limit.burst, limit.perSecond / 1000, nowMs),
  };
}
