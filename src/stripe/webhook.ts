import { createHmac, timingSafeEqual } from "node:crypto";
import type { Deps } from "../deps.ts";
import type { Logger } from "../logger.ts";
import { openWebhookSecret } from "../orgs/stripe-config.ts";
import { applyStripeEvent, type StripeEventPayload } from "../sync/apply-event.ts";

/** Stripe's libraries default to five minutes; we also refuse timestamps that far in the future. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export type SignatureVerdict =
  | { ok: true; timestamp: number }
  | {
      ok: false;
      reason: "MISSING_SIGNATURE" | "MALFORMED_SIGNATURE" | "NO_MATCH" | "TIMESTAMP_OUT_OF_TOLERANCE";
    };

export type VerifyOptions = {
  /** Current time in unix seconds. */
  nowSeconds: number;
  toleranceSeconds?: number;
};

const HEX_SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks a `Stripe-Signature` header (`t=…,v1=…[,v1=…][,v0=…]`) against the raw request bytes: HMAC-SHA256
 * of `${t}.${body}` keyed with the whole `whsec_…` secret, compared in constant time with every `v1`
 * (one per active secret while a secret is rolled). Every other scheme is ignored, so a test-mode `v0`
 * cannot downgrade the check. Parsing follows stripe-node exactly (no trimming), so the verdicts match.
 */
export function verifyStripeSignature(
  rawBody: Uint8Array | string,
  header: string | null | undefined,
  secret: string,
  options: VerifyOptions,
): SignatureVerdict {
  if (!header) return { ok: false, reason: "MISSING_SIGNATURE" };
  let timestamp = Number.NaN;
  const signatures: string[] = [];
  for (const item of header.split(",")) {
    const [key, value = ""] = item.split("=");
    if (key === "t") timestamp = /^\d{1,12}$/.test(value) ? Number(value) : Number.NaN;
    else if (key === "v1") signatures.push(value);
  }
  if (!Number.isSafeInteger(timestamp) || signatures.length === 0) {
    return { ok: false, reason: "MALFORMED_SIGNATURE" };
  }
  const expected = createHmac("sha256", secret).update(`${timestamp}.`, "utf8").update(rawBody).digest();
  // Every candidate is compared (no early exit), each only after its length and form are checked.
  let matched = false;
  for (const signature of signatures) {
    if (!HEX_SHA256.test(signature)) continue;
    const given = Buffer.from(signature, "hex");
    if (given.length === expected.length && timingSafeEqual(given, expected)) matched = true;
  }
  if (!matched) return { ok: false, reason: "NO_MATCH" };
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(options.nowSeconds - timestamp) > tolerance) {
    return { ok: false, reason: "TIMESTAMP_OUT_OF_TOLERANCE" };
  }
  return { ok: true, timestamp };
}

/** What the route answers; `status` is the HTTP status. */
export type WebhookOutcome =
  | { status: 200; outcome: "applied" | "duplicate" | "ignored"; reason?: string }
  | { status: 400 | 404; code: string; message: string };

const SIGNATURE_MESSAGES: Record<Exclude<SignatureVerdict, { ok: true }>["reason"], string> = {
  MISSING_SIGNATURE: "The Stripe-Signature header is missing.",
  MALFORMED_SIGNATURE: "The Stripe-Signature header has no timestamp or no v1 signature.",
  NO_MATCH:
    "No v1 signature matches the body: check the org's webhook signing secret, and that the body is passed on unmodified.",
  TIMESTAMP_OUT_OF_TOLERANCE: `The signature's timestamp is more than ${DEFAULT_TOLERANCE_SECONDS} s away from now.`,
};

/**
 * Receives one Stripe webhook delivery for an org: verifies it against the org's signing secret, routes it
 * by `account` and `livemode` to the org's connection and hands it to `applyStripeEvent`, which stores it
 * (once per event id) before applying it. Resolves once the event is durably stored, or is known to be
 * one we ignore; throws when the database could not store it, so that Stripe retries. Slow follow-up
 * work is started on `deps.background` and is not awaited.
 *
 * Events without a live connection (no `account`, an unknown or disconnected account, the other mode)
 * are acknowledged, logged and not stored: there is nothing to apply them to, and a later connection of
 * that account is backfilled from Stripe's current data anyway.
 */
export async function receiveStripeWebhook(
  deps: Deps,
  log: Logger,
  input: { orgId: string; rawBody: Uint8Array; signature: string | null | undefined },
): Promise<WebhookOutcome> {
  const config = await deps.db.prisma.stripeConfig.findUnique({ where: { orgId: input.orgId } });
  if (!config) {
    const org = await deps.db.prisma.org.findUnique({ where: { id: input.orgId }, select: { id: true } });
    if (!org) return { status: 404, code: "ORG_NOT_FOUND", message: "No such org." };
  }
  const secret = config ? openWebhookSecret(deps.secrets, config) : null;
  if (!secret) {
    // Never trust an unsigned event: without a secret nothing can be verified.
    return {
      status: 400,
      code: "WEBHOOK_SECRET_NOT_CONFIGURED",
      message:
        "This org has no webhook signing secret: set it with setStripeConfig(input: { webhookSigningSecret }).",
    };
  }
  const nowSeconds = Math.floor(deps.clock.now().getTime() / 1000);
  const verdict = verifyStripeSignature(input.rawBody, input.signature, secret, { nowSeconds });
  if (!verdict.ok) {
    log.warn({ reason: verdict.reason }, "stripe webhook refused: bad signature");
    return { status: 400, code: verdict.reason, message: SIGNATURE_MESSAGES[verdict.reason] };
  }
  const json = parseJson(input.rawBody);
  const ignore = (reason: string, about: object = {}): WebhookOutcome => {
    log.info({ ...about, reason }, "stripe webhook ignored");
    return { status: 200, outcome: "ignored", reason };
  };
  // A thin event is Stripe's, validly signed, and not one we handle: answering 4xx would make Stripe retry.
  if (isObject(json) && json.object === "v2.core.event") return ignore("THIN_EVENT");
  const event = asSnapshotEvent(json);
  if (!event) {
    return { status: 400, code: "MALFORMED_EVENT", message: "The body is not a Stripe event object (JSON)." };
  }
  const about = { eventId: event.id, type: event.type, account: event.account ?? null };
  if (!event.account) return ignore("NO_ACCOUNT", about);
  const connections = await deps.db.prisma.stripeConnection.findMany({
    where: { orgId: input.orgId, stripeAccountId: event.account },
  });
  const connection = connections.find((candidate) => candidate.livemode === event.livemode);
  if (!connection) return ignore(connections.length > 0 ? "LIVEMODE_MISMATCH" : "UNKNOWN_ACCOUNT", about);
  if (connection.status === "DISCONNECTED") return ignore("DISCONNECTED", about);

  const result = await applyStripeEvent(deps, connection, event, "webhook");
  if (result.followUp) deps.background.run(`webhook follow-up ${event.id}`, result.followUp);
  log.info({ ...about, connectionId: connection.id, outcome: result.outcome }, "stripe webhook");
  return { status: 200, outcome: result.outcome };
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function parseJson(rawBody: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(rawBody));
  } catch {
    return undefined;
  }
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
    typeof event.livemode === "boolean" &&
    (event.account === undefined || event.account === null || typeof event.account === "string") &&
    !!object &&
    typeof object === "object" &&
    typeof object.id === "string";
  return valid ? (event as StripeEventPayload) : null;
}
