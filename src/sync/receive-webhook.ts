import type { BackgroundTasks } from "../background-tasks.ts";
import type { Clock } from "../clock.ts";
import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { GatewayCache } from "../orgs/cache.ts";
import { unixToDate } from "../stripe/resources.ts";
import { type SignatureProblem, verifyStripeSignature } from "../stripe/webhook-signature.ts";
import type { StripeEventPayload } from "./apply-event.ts";
import type { EventBatcher } from "./event-batcher.ts";
import type { SyncDeps } from "./sync-deps.ts";
import { isStorableDate } from "./upsert.ts";

/** Why a delivery is acknowledged without being stored: there is nothing to apply it to. */
export type IgnoreReason =
  | "THIN_EVENT"
  | "NO_ACCOUNT"
  | "UNKNOWN_ACCOUNT"
  | "LIVEMODE_MISMATCH"
  | "DISCONNECTED";

/** Why a delivery is refused: it is not (verifiably) an event of this org. */
export type WebhookRefusal =
  | "ORG_NOT_FOUND"
  | "WEBHOOK_SECRET_NOT_CONFIGURED"
  | SignatureProblem
  | "MALFORMED_EVENT";

/** What became of one delivery. Everything but `refused` is durably stored or safely ignored. */
export type WebhookReceipt =
  | { kind: "applied" | "duplicate" | "ignored"; reason?: IgnoreReason }
  | { kind: "refused"; problem: WebhookRefusal };

export type ReceiveWebhookDeps = SyncDeps & {
  /** Applies events in shared transactions (group commit); answers each once its event is committed */
  eventBatcher: Pick<EventBatcher, "apply">;
  db: Pick<Database, "prisma">;
  /** The org's webhook signing secret and its connections of an account, from memory */
  cache: Pick<GatewayCache, "webhookSigningSecret" | "connectionRoutes">;
  clock: Clock;
  /** Where the slow follow-ups of an applied event run, after the delivery is acknowledged */
  background: Pick<BackgroundTasks, "run">;
};

/**
 * Receives one Stripe webhook delivery for an org: verifies it against the org's signing secret, routes it
 * by `account` and `livemode` to the org's connection and hands it to the event batcher, which stores it
 * (once per event id) and applies it in the next transaction it commits, with whatever else arrived meanwhile. Resolves once the event is durably stored, or is known to be
 * one we ignore; throws when the database could not store it, so that Stripe retries. Slow follow-up
 * work is started on `deps.background` and is not awaited.
 *
 * Events without a live connection (no `account`, an unknown or disconnected account, the other mode)
 * are acknowledged, logged and not stored: there is nothing to apply them to, and a later connection of
 * that account is backfilled from Stripe's current data anyway.
 */
export async function receiveStripeWebhook(
  deps: ReceiveWebhookDeps,
  log: Logger,
  input: { orgId: string; rawBody: Uint8Array; signature: string | null | undefined },
): Promise<WebhookReceipt> {
  // Not an id an org can have (a NUL byte, hundreds of characters): no org, and nothing for the database
  // to choke on — a 503 would have Stripe retry for days.
  if (!ORG_ID.test(input.orgId)) return { kind: "refused", problem: "ORG_NOT_FOUND" };
  // From memory (src/orgs/cache.ts): no statement for an org or account seen in the last second.
  const lookup = await deps.cache.webhookSigningSecret(input.orgId);
  if (lookup.org === "missing") return { kind: "refused", problem: "ORG_NOT_FOUND" };
  // Never trust an unsigned event: without a secret nothing can be verified.
  if (!lookup.secret) return { kind: "refused", problem: "WEBHOOK_SECRET_NOT_CONFIGURED" };
  const nowSeconds = Math.floor(deps.clock.now().getTime() / 1000);
  const verdict = verifyStripeSignature(input.rawBody, input.signature, lookup.secret, { nowSeconds });
  if (!verdict.ok) {
    log.warn({ reason: verdict.reason }, "stripe webhook refused: bad signature");
    return { kind: "refused", problem: verdict.reason };
  }
  const json = parseJson(input.rawBody);
  const ignore = (reason: IgnoreReason, about: object = {}): WebhookReceipt => {
    log.info({ ...about, reason }, "stripe webhook ignored");
    return { kind: "ignored", reason };
  };
  // A thin event is Stripe's, validly signed, and not one we handle: refusing it would make Stripe retry.
  if (isObject(json) && json.object === "v2.core.event") return ignore("THIN_EVENT");
  const event = asSnapshotEvent(json);
  if (!event) return { kind: "refused", problem: "MALFORMED_EVENT" };
  const about = { eventId: event.id, type: event.type, account: event.account ?? null };
  if (!event.account) return ignore("NO_ACCOUNT", about);
  const connections = await deps.cache.connectionRoutes(input.orgId, event.account);
  const connection = connections.find((candidate) => candidate.livemode === event.livemode);
  if (!connection) return ignore(connections.length > 0 ? "LIVEMODE_MISMATCH" : "UNKNOWN_ACCOUNT", about);
  if (connection.status === "DISCONNECTED") return ignore("DISCONNECTED", about);

  const result = await deps.eventBatcher.apply({ connection, event, source: "webhook" });
  if (result.followUp) deps.background.run(`webhook follow-up ${event.id}`, result.followUp);
  log.info({ ...about, connectionId: connection.id, outcome: result.outcome }, "stripe webhook");
  return { kind: result.outcome };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Org ids are `org_` and hex (src/orgs/orgs.ts); this admits any plausible id and nothing odd. */
const ORG_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** Far deeper than any Stripe object; a body nested much deeper overflows the stack before it is stored. */
const MAX_JSON_DEPTH = 64;

function parseJson(rawBody: Uint8Array): unknown {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(rawBody);
    return storableJson(text) ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether the JSON text can be stored: nested at most MAX_JSON_DEPTH deep, and no `\u0000` in any string
 * or key (PostgreSQL's jsonb refuses the NUL character). One pass over the text, so that a hostile body
 * cannot make the check itself expensive; a signed event that fails it could never be stored, whatever
 * the retries.
 */
function storableJson(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* backslash */) {
        if (text.startsWith("u0000", i + 1)) return false;
        i += 1;
      } else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) inString = true;
    else if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      if (++depth > MAX_JSON_DEPTH) return false;
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) depth -= 1;
  }
  return true;
}

/** The v1 snapshot event fields the gateway relies on; anything else is malformed. */
function asSnapshotEvent(value: unknown): StripeEventPayload | null {
  if (!isObject(value)) return null;
  const event = value as Partial<StripeEventPayload> & { object?: unknown };
  const object = (event.data as { object?: { id?: unknown } } | undefined)?.object;
  const valid =
    typeof event.id === "string" &&
    event.id.length > 0 &&
    event.id.length <= 255 &&
    typeof event.type === "string" &&
    Number.isSafeInteger(event.created) &&
    isStorableDate(unixToDate(event.created)) &&
    typeof event.livemode === "boolean" &&
    (event.account === undefined || event.account === null || typeof event.account === "string") &&
    !!object &&
    typeof object === "object" &&
    typeof object.id === "string";
  return valid ? (event as StripeEventPayload) : null;
}
