import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { retryAfterSeconds } from "../../src/orgs/rate-limits.ts";
import { createLocalBuckets } from "../../src/orgs/token-bucket.ts";

describe("a token bucket in memory", () => {
  it("passes the burst, then says how long until the next token, refilled at the rate", () => {
    const buckets = createLocalBuckets({ burst: 3, perSecond: 2 });
    expect([0, 0, 0].map(() => buckets.take("a", 1_000))).toEqual([0, 0, 0]);
    expect(buckets.take("a", 1_000)).toBe(500);
    expect(buckets.take("a", 1_200)).toBe(300);
    expect(buckets.take("a", 1_500)).toBe(0);
    expect(buckets.take("a", 1_500)).toBe(500);
    // Idle for long: full again, never more than the burst.
    expect([0, 0, 0, 0].map(() => buckets.take("a", 60_000))).toEqual([0, 0, 0, 500]);
  });

  it("keeps ids apart, and lends nothing when the clock goes back", () => {
    const buckets = createLocalBuckets({ burst: 1, perSecond: 1 });
    expect(buckets.take("a", 10_000)).toBe(0);
    expect(buckets.take("b", 10_000)).toBe(0);
    expect(buckets.take("a", 5_000)).toBe(1_000);
    expect(buckets.take("a", 11_000)).toBe(0);
  });

  it("drops refilled buckets as new ones come, so ids seen once do not pile up", () => {
    const buckets = createLocalBuckets({ burst: 5, perSecond: 1000 });
    for (let i = 0; i < 10_000; i++) buckets.take(`made-up-${i}`, 0);
    expect(buckets.size).toBe(10_000);
    // 1 ms later every one of them has refilled: the next new id sweeps them away.
    buckets.take("one more", 1);
    expect(buckets.size).toBe(1);
  });

  it("answers Retry-After in whole seconds, at least one", () => {
    expect([1, 999, 1_000, 1_001, 60_000].map(retryAfterSeconds)).toEqual([1, 1, 1, 2, 60]);
  });
});

describe("rate limit settings", () => {
  it("defaults to limits a dashboard never reaches", () => {
    expect(loadConfig({}).rateLimits).toEqual({
      apiKey: { burst: 1000, perSecond: 100 },
      accessToken: { burst: 100, perSecond: 5 },
      webhook: { burst: 5000, perSecond: 500 },
      oauthRedirect: { burst: 100, perSecond: 10 },
    });
  });

  it("reads each from its variable, rates may be fractions, and refuses what is no limit", () => {
    const config = loadConfig({
      RATE_LIMIT_ACCESS_TOKEN_BURST: "20",
      RATE_LIMIT_ACCESS_TOKEN_PER_SECOND: "0.5",
    });
    expect(config.rateLimits.accessToken).toEqual({ burst: 20, perSecond: 0.5 });
    let problems: string[] = [];
    try {
      loadConfig({
        RATE_LIMIT_API_KEY_BURST: "0",
        RATE_LIMIT_WEBHOOK_BURST: "1.5",
        RATE_LIMIT_OAUTH_PER_SECOND: "0",
      });
    } catch (error) {
      if (error instanceof ConfigError) problems = error.problems;
    }
    expect(problems.map((problem) => problem.split(":")[0]).sort()).toEqual([
      "RATE_LIMIT_API_KEY_BURST",
      "RATE_LIMIT_OAUTH_PER_SECOND",
      "RATE_LIMIT_WEBHOOK_BURST",
    ]);
  });
});
