import { describe, expect, it } from "vitest";
import { createClock } from "../../src/emulator/clock.ts";
import { createEmulator } from "../../src/emulator/create-emulator.ts";
import { RateLimiter } from "../../src/emulator/rate-limit.ts";
import { call } from "../helpers/emulator.ts";

describe("emulator rate limit", () => {
  it("is a token bucket per account and mode on the emulator clock", () => {
    const clock = createClock({ start: 0, frozen: true });
    const limiter = new RateLimiter(clock);
    const takes = (account: string, mode: "test" | "live", n: number) =>
      Array.from({ length: n }, () => limiter.take(account, mode)).filter(Boolean).length;
    expect(takes("acct_a", "test", 30)).toBe(25);
    expect(takes("acct_b", "test", 30)).toBe(25);
    expect(takes("acct_a", "live", 120)).toBe(100);
    clock.advance(40); // 25/s refills one token every 40 ms
    expect(takes("acct_a", "test", 5)).toBe(1);
    clock.advance(10_000); // never more than one second's burst
    expect(takes("acct_a", "test", 100)).toBe(25);
    limiter.configure(false);
    expect(takes("acct_a", "test", 1000)).toBe(1000);
  });

  it("answers 429 with Stripe's rate_limit body, per connected account", async () => {
    const clock = createClock({ frozen: true });
    const emulator = createEmulator({
      seed: "rate",
      accounts: 2,
      size: "tiny",
      clock,
      rateLimits: { test: 3, live: 5 },
    });
    const key = emulator.platforms[0]!.keys.test.secretKey;
    const [first, second] = emulator.accountIds as [string, string];
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++)
      statuses.push((await call(emulator, "/v1/payouts", { key, account: first })).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const limited = await call(emulator, "/v1/payouts", { key, account: first });
    expect(limited.body.error).toMatchObject({ type: "invalid_request_error", code: "rate_limit" });
    expect(limited.body.error.message).toMatch(/^Request rate limit exceeded/);
    expect((await call(emulator, "/v1/payouts", { key, account: second })).status).toBe(200);
    clock.advance(1000);
    expect((await call(emulator, "/v1/payouts", { key, account: first })).status).toBe(200);
  });
});
