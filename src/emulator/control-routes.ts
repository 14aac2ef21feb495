import type { Context, Hono } from "hono";
import { z } from "zod";
import { apiError } from "./api-errors.ts";
import type { EmulatorControl } from "./control.ts";
import { maskKey } from "./random.ts";
import type { EmulatorEnv } from "./state.ts";
import { PERMISSIONS } from "./types.ts";

const mode = z.enum(["test", "live"]).default("test");
const currency = z.string().regex(/^[a-zA-Z]{3}$/, "a three-letter ISO currency code");
const schemas = {
  clock: z.object({ ms: z.number().nonnegative().optional(), seconds: z.number().nonnegative().optional() }),
  oauth: z.object({
    decision: z.enum(["approve", "deny", "page"]).optional(),
    next_account: z.string().nullable().optional(),
  }),
  platform: z.object({
    redirect_uris: z.array(z.string()).optional(),
    oauth_links: z.array(z.string()).optional(),
    permissions: z.array(z.enum(PERMISSIONS)).optional(),
  }),
  failure: z.discriminatedUnion("kind", [
    z.object({
      kind: z.literal("error"),
      status: z.union([z.literal(500), z.literal(502), z.literal(503)]).optional(),
      count: z.number().int().positive().optional(),
      path_prefix: z.string().optional(),
    }),
    z.object({
      kind: z.literal("latency"),
      ms: z.number().nonnegative(),
      count: z.number().int().positive().optional(),
      path_prefix: z.string().optional(),
    }),
    z.object({
      kind: z.literal("drop"),
      count: z.number().int().positive().optional(),
      path_prefix: z.string().optional(),
    }),
    z.object({
      kind: z.literal("drop_response"),
      count: z.number().int().positive().optional(),
      path_prefix: z.string().optional(),
    }),
  ]),
  rateLimit: z.union([
    z.object({ enabled: z.literal(false) }),
    z.object({ test: z.number().positive(), live: z.number().positive() }),
  ]),
  endpoint: z.object({
    url: z.url(),
    secret: z.string().startsWith("whsec_").optional(),
    connect: z.boolean().optional(),
    mode: z.enum(["test", "live", "both"]).optional(),
    enabled_events: z.array(z.string()).optional(),
  }),
  delivery: z.object({
    retry_base_ms: z.number().nonnegative().optional(),
    max_attempts: z.number().int().positive().optional(),
    timeout_ms: z.number().positive().optional(),
    duplicate: z.number().min(0).max(1).optional(),
    delay_ms: z.number().nonnegative().optional(),
    reorder: z.boolean().optional(),
  }),
  charge: z.object({
    mode,
    amount: z.number().int(),
    currency: currency.optional(),
    customer: z.string().optional(),
    description: z.string().optional(),
  }),
  payout: z.object({ mode, amount: z.number().int().positive().optional(), currency: currency.optional() }),
  payoutUpdate: z.object({
    status: z.enum(["in_transit", "paid", "failed", "canceled"]),
    failure_code: z.string().optional(),
  }),
  refund: z.object({
    amount: z.number().int().positive().optional(),
    reason: z.string().nullable().optional(),
  }),
  feeRefund: z.object({
    amount: z.number().int().positive().optional(),
    metadata: z.record(z.string(), z.string().nullable()).optional(),
  }),
  feeRefundUpdate: z.object({ metadata: z.record(z.string(), z.string().nullable()) }),
  dispute: z.object({ reason: z.string().optional() }),
  disputeClose: z.object({ status: z.enum(["won", "lost"]) }),
  uninstall: z.object({ platform: z.string().optional(), mode: z.enum(["test", "live"]).optional() }),
  account: z.record(z.string(), z.unknown()),
};

async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  const text = await c.req.text();
  let json: unknown = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw apiError(400, { message: "The control API takes a JSON body." });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw apiError(400, { message: z.prettifyError(parsed.error) });
  return parsed.data;
}

/** HTTP form of `emulator.control`, under /_emulator (documented in docs/emulator.md). */
export function registerControlRoutes(app: Hono<EmulatorEnv>, control: EmulatorControl): void {
  // Over HTTP secret and restricted keys stay masked; the CLI prints them to the operator once.
  app.get("/_emulator", (c) => {
    const info = control.info();
    const platforms = info.platforms.map((p) => ({
      ...p,
      keys: Object.fromEntries(
        Object.entries(p.keys).map(([mode, k]) => [
          mode,
          {
            secret_key: maskKey(k.secretKey),
            restricted_key: maskKey(k.restrictedKey),
            publishable_key: k.publishableKey,
            client_id: k.clientId,
          },
        ]),
      ),
    }));
    return c.json({ ...info, platforms });
  });
  app.post("/_emulator/clock/advance", async (c) => {
    const input = await body(c, schemas.clock);
    const now = control.advanceClock((input.ms ?? 0) + (input.seconds ?? 0) * 1000);
    return c.json({ now: Math.floor(now / 1000) });
  });
  app.post("/_emulator/oauth", async (c) => {
    const input = await body(c, schemas.oauth);
    if (input.decision) control.setOAuthDecision(input.decision);
    if (input.next_account !== undefined) control.setNextAccount(input.next_account);
    return c.json(control.info().oauth);
  });
  app.post("/_emulator/platforms/:id", async (c) => {
    const input = await body(c, schemas.platform);
    const platform = control.updatePlatform(c.req.param("id"), {
      redirectUris: input.redirect_uris,
      oauthLinks: input.oauth_links,
      permissions: input.permissions,
    });
    return c.json({
      id: platform.id,
      redirect_uris: platform.redirectUris,
      oauth_links: platform.oauthLinks,
      permissions: platform.permissions,
    });
  });
  app.post("/_emulator/failures", async (c) => {
    const { path_prefix, ...input } = await body(c, schemas.failure);
    control.injectFailure({ ...input, pathPrefix: path_prefix });
    return c.json({ failures: control.info().failures });
  });
  app.delete("/_emulator/failures", (c) => {
    control.clearFailures();
    return c.json({ failures: [] });
  });
  app.post("/_emulator/rate-limits", async (c) => {
    const input = await body(c, schemas.rateLimit);
    control.setRateLimits("enabled" in input ? false : input);
    return c.json({ rate_limits: control.info().rate_limits });
  });
  app.post("/_emulator/webhook-endpoints", async (c) => {
    const input = await body(c, schemas.endpoint);
    const endpoint = control.addWebhookEndpoint({ ...input, enabledEvents: input.enabled_events });
    return c.json(endpoint);
  });
  app.delete("/_emulator/webhook-endpoints/:id", (c) =>
    c.json({ id: c.req.param("id"), deleted: control.removeWebhookEndpoint(c.req.param("id")) }),
  );
  app.post("/_emulator/webhooks/options", async (c) => {
    const input = await body(c, schemas.delivery);
    const options = control.setDeliveryOptions({
      retryBaseMs: input.retry_base_ms,
      maxAttempts: input.max_attempts,
      timeoutMs: input.timeout_ms,
      duplicate: input.duplicate,
      delayMs: input.delay_ms,
      reorder: input.reorder,
    });
    return c.json({
      retry_base_ms: options.retryBaseMs,
      max_attempts: options.maxAttempts,
      timeout_ms: options.timeoutMs,
      duplicate: options.duplicate,
      delay_ms: options.delayMs,
      reorder: options.reorder,
    });
  });
  app.post("/_emulator/webhooks/flush", async (c) => {
    await control.flushWebhooks();
    return c.json({ deliveries: control.deliveries.length });
  });
  app.get("/_emulator/deliveries", (c) => c.json({ data: control.deliveries }));
  app.post("/_emulator/accounts/:id/charges", async (c) => {
    const { mode: m, ...input } = await body(c, schemas.charge);
    return c.json(control.createCharge(c.req.param("id"), m, input));
  });
  app.post("/_emulator/accounts/:id/payouts", async (c) => {
    const { mode: m, ...input } = await body(c, schemas.payout);
    return c.json(control.createPayout(c.req.param("id"), m, input));
  });
  app.post("/_emulator/accounts/:id/uninstall", async (c) => {
    const input = await body(c, schemas.uninstall);
    const events = control.uninstallApp(c.req.param("id"), {
      platformId: input.platform,
      modes: input.mode ? [input.mode] : undefined,
    });
    return c.json({ events: events.map((e) => e.id) });
  });
  app.post("/_emulator/accounts/:id", async (c) =>
    c.json(control.updateAccount(c.req.param("id"), await body(c, schemas.account))),
  );
  app.post("/_emulator/payouts/:id", async (c) => {
    const input = await body(c, schemas.payoutUpdate);
    return c.json(
      control.updatePayout(c.req.param("id"), { status: input.status, failureCode: input.failure_code }),
    );
  });
  app.post("/_emulator/charges/:id/refund", async (c) =>
    c.json(control.refundCharge(c.req.param("id"), await body(c, schemas.refund))),
  );
  app.post("/_emulator/application_fees/:id/refund", async (c) =>
    c.json(control.refundApplicationFee(c.req.param("id"), await body(c, schemas.feeRefund))),
  );
  app.post("/_emulator/application_fees/:fee/refunds/:id", async (c) => {
    const input = await body(c, schemas.feeRefundUpdate);
    return c.json(control.updateFeeRefund(c.req.param("fee"), c.req.param("id"), input));
  });
  app.post("/_emulator/charges/:id/dispute", async (c) =>
    c.json(control.openDispute(c.req.param("id"), await body(c, schemas.dispute))),
  );
  app.post("/_emulator/disputes/:id/close", async (c) => {
    const input = await body(c, schemas.disputeClose);
    return c.json(control.closeDispute(c.req.param("id"), input.status));
  });
  app.post("/_emulator/disputes/:id/evidence", (c) =>
    c.json(control.submitDisputeEvidence(c.req.param("id"))),
  );
  app.delete("/_emulator/customers/:id", (c) => c.json(control.deleteCustomer(c.req.param("id"))));
  app.delete("/_emulator/subscriptions/:id", (c) => c.json(control.cancelSubscription(c.req.param("id"))));
}
