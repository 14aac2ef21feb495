import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { APPLIED_EVENT_TYPES } from "../../src/stripe/resources.ts";

describe("README's webhook setup", () => {
  it("lists exactly the event types the gateway applies", () => {
    const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
    const start = readme.indexOf("| synced data | event types |");
    expect(start).toBeGreaterThan(0);
    const table = readme.slice(start, readme.indexOf("\n\n", start));
    const listed = [...table.matchAll(/`([a-z_.]+\.[a-z_]+)`/g)].map((match) => match[1]).sort();
    const applied = [...APPLIED_EVENT_TYPES].sort();
    expect(listed).toEqual(applied);
  });
});
