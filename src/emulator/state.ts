import type { IncomingMessage } from "node:http";
import type { EmulatorClock } from "./clock.ts";
import { buildEvent } from "./objects.ts";
import type { Platform } from "./platforms.ts";
import type { Store } from "./store.ts";
import type { TokenStore } from "./tokens.ts";
import type { Mode, StripeObject } from "./types.ts";
import type { WebhookDispatcher } from "./webhooks.ts";

/** Hono bindings: `incoming` is present when served over a real port (@hono/node-server). */
export type EmulatorEnv = { Bindings: { incoming?: IncomingMessage } };

export type OAuthDecision = "approve" | "deny" | "page";

/** Everything the route handlers and control operations share. */
export interface EmulatorState {
  store: Store;
  tokens: TokenStore;
  platforms: Platform[];
  clock: EmulatorClock;
  webhooks: WebhookDispatcher;
  apiVersion: string;
  /** Connected accounts of the generated dataset, in order. */
  accountIds: string[];
  oauth: { decision: OAuthDecision; nextAccount: string | null };
  /** Ids for objects created at run time (deterministic per seed and call order). */
  ids(prefix: string): string;
}

export interface EventInput {
  accountId: string;
  mode: Mode;
  type: string;
  object: StripeObject | Record<string, unknown>;
  previousAttributes?: Record<string, unknown>;
}

/** Records a Stripe event for a connected account and hands it to webhook delivery. */
export function recordEvent(state: EmulatorState, input: EventInput): StripeObject {
  const event = buildEvent(
    { id: state.ids, livemode: input.mode === "live" },
    {
      type: input.type,
      account: input.accountId,
      object: input.object,
      created: state.clock.seconds(),
      apiVersion: state.apiVersion,
      previousAttributes: input.previousAttributes,
    },
  );
  event.pending_webhooks = state.webhooks.recipients(event).length;
  state.store.insert(input.accountId, input.mode, "event", event);
  state.webhooks.enqueue(event);
  return event;
}

/** The previous values of the fields `patch` changes, nested like Stripe's `previous_attributes`. */
export function previousAttributes(
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(patch)) {
    const old = current[key];
    if (isPlainObject(value) && isPlainObject(old)) {
      const nested = previousAttributes(old, value);
      if (Object.keys(nested).length > 0) previous[key] = nested;
    } else if (JSON.stringify(old) !== JSON.stringify(value)) previous[key] = old ?? null;
  }
  return previous;
}

/** Applies `patch` to an object and records the event Stripe sends for it, with `previous_attributes`. */
export function patchAndRecord(
  state: EmulatorState,
  where: { accountId: string; mode: Mode },
  object: StripeObject,
  type: string,
  patch: Record<string, unknown>,
): StripeObject {
  const previous = previousAttributes(object, patch);
  Object.assign(object, patch);
  return recordEvent(state, { ...where, type, object, previousAttributes: previous });
}

/** Deep-merges `patch` into `target` (objects merge, everything else replaces). */
export function mergeInto(target: Record<string, unknown>, patch: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(patch)) {
    const old = target[key];
    if (isPlainObject(value) && isPlainObject(old)) mergeInto(old, value);
    else target[key] = structuredClone(value);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
