// The event types the emulator lets a webhook endpoint enable are stripe-node's own list: an SDK upgrade
// that adds or drops one fails here until src/emulator/event-types.json is regenerated from it.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import eventTypes from "../../src/emulator/event-types.json" with { type: "json" };
import { APPLIED_EVENT_TYPES } from "../../src/stripe/resources.ts";

function sdkEnabledEvents(): string[] {
  const file = new URL("../../node_modules/stripe/cjs/resources/WebhookEndpoints.d.ts", import.meta.url);
  const text = readFileSync(file, "utf8");
  const union = /namespace WebhookEndpointCreateParams \{\s*type EnabledEvent = ([^;]+);/.exec(text)?.[1];
  if (!union) throw new Error(`no EnabledEvent union in ${file}`);
  return [...union.matchAll(/'([^']+)'/g)].map((match) => match[1]!).filter((type) => type !== "*");
}

describe("the emulator's webhook event types", () => {
  it("are exactly stripe-node's WebhookEndpointCreateParams.EnabledEvent", () => {
    expect(eventTypes.types).toEqual(sdkEnabledEvents().sort());
  });

  it("include every event type the gateway applies", () => {
    expect(APPLIED_EVENT_TYPES.filter((type) => !eventTypes.types.includes(type))).toEqual([]);
  });
});
