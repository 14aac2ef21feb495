// The retry schedule of the Standard Webhooks specification: at once, then about 5 s, 5 min, 30 min, 2 h,
// 5 h, 10 h, 10 h … until 3 days, with jitter; Retry-After replaces a step.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_RETRY_POLICY,
  nextAttemptAt,
  parseRetryAfter,
} from "../../src/feed/webhooks/retry-schedule.ts";

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const created = new Date("2026-12-01T00:00:00.000Z");

/** Every attempt's time for a delivery that always fails, without jitter (random 0.5). */
function schedule(): number[] {
  const times = [0];
  for (;;) {
    const now = new Date(created.getTime() + times.at(-1)!);
    const next = nextAttemptAt(
      DEFAULT_RETRY_POLICY,
      { createdAt: created, attempts: times.length },
      now,
      null,
      0.5,
    );
    if (!next) return times;
    times.push(next.getTime() - created.getTime());
  }
}

describe("the retry schedule", () => {
  it("waits 5 s, 5 min, 30 min, 2 h, 5 h, then 10 h at a time, and gives up after 3 days", () => {
    const times = schedule();
    const waits = times.slice(1).map((time, index) => time - times[index]!);
    expect(waits).toEqual([
      5 * SECOND,
      5 * MINUTE,
      30 * MINUTE,
      2 * HOUR,
      5 * HOUR,
      ...Array.from({ length: 6 }, () => 10 * HOUR),
    ]);
    expect(times.at(-1)).toBeLessThanOrEqual(72 * HOUR);
    expect(times.at(-1)! + 10 * HOUR).toBeGreaterThan(72 * HOUR);
  });

  it("moves each wait by at most 10 % either way", () => {
    const now = created;
    const early = nextAttemptAt(DEFAULT_RETRY_POLICY, { createdAt: created, attempts: 2 }, now, null, 0)!;
    const late = nextAttemptAt(
      DEFAULT_RETRY_POLICY,
      { createdAt: created, attempts: 2 },
      now,
      null,
      0.999999,
    )!;
    expect(early.getTime() - now.getTime()).toBe(4.5 * MINUTE);
    expect(late.getTime() - now.getTime()).toBeCloseTo(5.5 * MINUTE, -2);
  });

  it("waits what Retry-After says instead (at most a day), and still gives up after 3 days", () => {
    const now = new Date(created.getTime() + HOUR);
    expect(
      nextAttemptAt(DEFAULT_RETRY_POLICY, { createdAt: created, attempts: 3 }, now, 7 * SECOND)!.getTime(),
    ).toBe(now.getTime() + 7 * SECOND);
    expect(
      nextAttemptAt(DEFAULT_RETRY_POLICY, { createdAt: created, attempts: 1 }, now, 5 * 24 * HOUR)!.getTime(),
    ).toBe(now.getTime() + 24 * HOUR);
    const late = new Date(created.getTime() + 71 * HOUR);
    expect(
      nextAttemptAt(DEFAULT_RETRY_POLICY, { createdAt: created, attempts: 9 }, late, 2 * HOUR),
    ).toBeNull();
  });

  it("reads Retry-After as seconds or as an HTTP date", () => {
    const now = new Date("2026-12-01T12:00:00.000Z");
    expect(parseRetryAfter("120", now)).toBe(120 * SECOND);
    expect(parseRetryAfter("Tue, 01 Dec 2026 12:00:30 GMT", now)).toBe(30 * SECOND);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(undefined, now)).toBeNull();
  });
});
