import type { Context as HonoContext, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { Deps } from "../deps.ts";
import type { Logger } from "../logger.ts";
import { receiveStripeWebhook } from "../stripe/webhook.ts";

/** Stripe's events are a few kilobytes; anything near this is not one. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

type Env = { Variables: { log: Logger } };

const errorBody = (code: string, message: string) => ({ error: { code, message } });

/**
 * Refuses bodies over 1 MB with 413: at once from Content-Length, or while streaming when there is none,
 * so an oversized body is never read whole.
 */
export const limitWebhookBody: MiddlewareHandler = bodyLimit({
  maxSize: MAX_WEBHOOK_BYTES,
  onError: (c) =>
    c.json(errorBody("PAYLOAD_TOO_LARGE", `A webhook body may be at most ${MAX_WEBHOOK_BYTES} bytes.`), 413),
});

/**
 * POST /stripe/webhooks/:orgId — Stripe's event deliveries. 2xx once the event is stored (or is one we
 * ignore), 400 for a bad signature or body, 404 for an unknown org, 503 when it could not be stored, so
 * that Stripe retries. The raw bytes are read here and verified before anything parses them.
 */
export function createStripeWebhookHandler(deps: Deps) {
  return async (c: HonoContext<Env>) => {
    const log = c.get("log");
    const rawBody = new Uint8Array(await c.req.arrayBuffer());
    try {
      const result = await receiveStripeWebhook(deps, log, {
        orgId: c.req.param("orgId") ?? "",
        rawBody,
        signature: c.req.header("stripe-signature"),
      });
      if (result.status === 200) return c.json({ received: true, outcome: result.outcome }, 200);
      return c.json(errorBody(result.code, result.message), result.status);
    } catch (error) {
      log.error({ err: error }, "stripe webhook not stored; Stripe will retry");
      return c.json(
        errorBody("EVENT_NOT_STORED", "The event could not be stored; it will be accepted when retried."),
        503,
      );
    }
  };
}
