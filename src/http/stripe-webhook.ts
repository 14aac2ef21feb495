import type { Context as HonoContext, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Deps } from "../deps.ts";
import type { Logger } from "../logger.ts";
import { DEFAULT_TOLERANCE_SECONDS } from "../stripe/webhook-signature.ts";
import { receiveStripeWebhook, type WebhookRefusal } from "../sync/receive-webhook.ts";
import { errorBody } from "./error-body.ts";
import { limitOrgRoute } from "./rate-limit.ts";

/** Stripe's events are a few kilobytes; anything near this is not one. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

type Env = { Variables: { log: Logger } };

const REFUSALS: Record<WebhookRefusal, { status: 400 | 404; message: string }> = {
  ORG_NOT_FOUND: { status: 404, message: "No such org." },
  WEBHOOK_SECRET_NOT_CONFIGURED: {
    status: 400,
    message:
      "This org has no webhook signing secret: set it with setStripeConfig(input: { webhookSigningSecret }).",
  },
  MISSING_SIGNATURE: { status: 400, message: "The Stripe-Signature header is missing." },
  MALFORMED_SIGNATURE: {
    status: 400,
    message: "The Stripe-Signature header has no timestamp or no v1 signature.",
  },
  NO_MATCH: {
    status: 400,
    message:
      "No v1 signature matches the body: check the org's webhook signing secret, and that the body is passed on unmodified.",
  },
  TIMESTAMP_OUT_OF_TOLERANCE: {
    status: 400,
    message: `The signature's timestamp is more than ${DEFAULT_TOLERANCE_SECONDS} s away from now.`,
  },
  MALFORMED_EVENT: { status: 400, message: "The body is not a Stripe event object (JSON)." },
};

const limitBody = bodyLimit({
  maxSize: MAX_WEBHOOK_BYTES,
  onError: (c) =>
    c.json(errorBody("PAYLOAD_TOO_LARGE", `A webhook body may be at most ${MAX_WEBHOOK_BYTES} bytes.`), 413),
});

/** The sender went away mid-body (or broke its framing): nothing to verify, and not the gateway's failure. */
function bodyIncomplete(c: HonoContext<Env>, error: unknown) {
  c.get("log").info({ err: error }, "stripe webhook body not received whole");
  return c.json(errorBody("BODY_INCOMPLETE", "The request body was not received whole."), 400);
}

/**
 * Refuses bodies over 1 MB with 413: at once from Content-Length, or while streaming when there is none,
 * so an oversized body is never read whole. A body that stops midway is a 400.
 */
export const limitWebhookBody: MiddlewareHandler<Env> = async (c, next) => {
  let handled = false;
  try {
    return await limitBody(c, () => {
      handled = true;
      return next();
    });
  } catch (error) {
    // Only the reading of the body: the handler's own errors are not the sender's.
    if (handled) throw error;
    return bodyIncomplete(c, error);
  }
};

/**
 * POST /stripe/webhooks/:orgId — Stripe's event deliveries. 2xx once the event is stored (or is one we
 * ignore), 400 for a bad signature or body, 404 for an unknown org, 429 past the org's rate limit, 503 when
 * it could not be stored, so that Stripe retries. The raw bytes are read here and verified before anything parses them.
 */
export function createStripeWebhookHandler(deps: Deps) {
  return async (c: HonoContext<Env>) => {
    const log = c.get("log");
    const orgId = c.req.param("orgId") ?? "";
    // Refusing loses nothing: Stripe redelivers whatever is not answered 2xx (with backoff, for up to three
    // days in live mode), and the events poller reconciles the connection from /v1/events meanwhile.
    const retryAfter = await limitOrgRoute(deps, "webhook", orgId);
    if (retryAfter !== null) {
      return c.json(
        errorBody("RATE_LIMITED", `Too many webhook deliveries for this org: retry in ${retryAfter} s.`),
        429,
        { "retry-after": String(retryAfter) },
      );
    }
    let rawBody: Uint8Array;
    try {
      rawBody = new Uint8Array(await c.req.arrayBuffer());
    } catch (error) {
      return bodyIncomplete(c, error);
    }
    try {
      const receipt = await receiveStripeWebhook(deps, log, {
        orgId,
        rawBody,
        signature: c.req.header("stripe-signature"),
      });
      if (receipt.kind !== "refused") return c.json({ received: true, outcome: receipt.kind }, 200);
      const refusal = REFUSALS[receipt.problem];
      return c.json(errorBody(receipt.problem, refusal.message), refusal.status);
    } catch (error) {
      log.error({ err: error }, "stripe webhook not stored; Stripe will retry");
      return c.json(
        errorBody("EVENT_NOT_STORED", "The event could not be stored; it will be accepted when retried."),
        503,
      );
    }
  };
}
