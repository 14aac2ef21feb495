// The emulator's /v1/webhook_endpoints through the official stripe SDK: Stripe's shapes, its validation,
// and delivery of connected accounts' events signed with the endpoint's own secret.
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type StartedEmulator, startEmulator, startWebhookReceiver } from "../helpers/emulator.ts";

describe("webhook endpoints through the stripe SDK", () => {
  let started: StartedEmulator;
  let stripe: Stripe;
  let accountId: string;

  beforeAll(async () => {
    started = await startEmulator({
      seed: "webhook-endpoints",
      accounts: 2,
      size: "small",
      rateLimits: false,
      platforms: [{}, { name: "Other Platform" }],
    });
    stripe = started.stripe(started.emulator.platforms[0]!.keys.test.secretKey, { maxNetworkRetries: 0 });
    accountId = started.emulator.accountIds[0]!;
  });
  afterAll(() => started.close());

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error("expected Stripe to refuse");
      },
      (error: unknown) => error as Stripe.errors.StripeError,
    );

  it("creates a Connect endpoint with Stripe's shape; the secret comes with the create answer only", async () => {
    const created = await stripe.webhookEndpoints.create({
      url: "https://gateway.example.com/stripe/webhooks/org_1",
      connect: true,
      enabled_events: ["payout.paid", "charge.succeeded"],
      description: "gateway",
      metadata: { owner: "gateway" },
    });
    expect(created).toMatchObject({
      object: "webhook_endpoint",
      url: "https://gateway.example.com/stripe/webhooks/org_1",
      enabled_events: ["payout.paid", "charge.succeeded"],
      status: "enabled",
      livemode: false,
      api_version: null,
      application: null,
      description: "gateway",
      metadata: { owner: "gateway" },
    });
    expect(created.id).toMatch(/^we_\w{24}$/);
    expect(created.secret).toMatch(/^whsec_\w{32}$/);
    expect(typeof created.created).toBe("number");

    const retrieved = await stripe.webhookEndpoints.retrieve(created.id);
    expect(retrieved.secret).toBeUndefined();
    expect(retrieved).toMatchObject({ id: created.id, url: created.url, status: "enabled" });
    const listed = await stripe.webhookEndpoints.list({ limit: 100 });
    expect(listed.data.map((e) => e.id)).toContain(created.id);
    expect(listed.data.every((e) => e.secret === undefined)).toBe(true);

    const updated = await stripe.webhookEndpoints.update(created.id, {
      enabled_events: ["*"],
      disabled: true,
      metadata: { owner: "" },
    });
    expect(updated).toMatchObject({ enabled_events: ["*"], status: "disabled", metadata: {} });

    const deleted = await stripe.webhookEndpoints.del(created.id);
    expect(deleted).toEqual({ id: created.id, object: "webhook_endpoint", deleted: true });
    const gone = await failure(stripe.webhookEndpoints.retrieve(created.id));
    expect(gone).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(gone).toMatchObject({ statusCode: 404, code: "resource_missing" });
    expect(gone.message).toBe(`No such webhook endpoint: '${created.id}'`);
  });

  it("validates like Stripe: missing and unknown parameters, unknown event types, URLs", async () => {
    const unknownType = await failure(
      stripe.webhookEndpoints.create({
        url: "https://example.com/hook",
        enabled_events: ["payout.paid", "payout.exploded" as "payout.paid"],
      }),
    );
    expect(unknownType).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(unknownType).toMatchObject({
      statusCode: 400,
      type: "StripeInvalidRequestError",
      param: "enabled_events[1]",
    });
    expect(unknownType.message).toMatch(
      /^Invalid enabled_events\[1\]: must be one of \*, account\.application/,
    );

    const noUrl = await failure(
      stripe.webhookEndpoints.create({ enabled_events: ["*"] } as Stripe.WebhookEndpointCreateParams),
    );
    expect(noUrl).toMatchObject({
      param: "url",
      code: "parameter_missing",
      message: "Missing required param: url.",
    });
    const noEvents = await failure(
      stripe.webhookEndpoints.create({ url: "https://example.com/h" } as Stripe.WebhookEndpointCreateParams),
    );
    expect(noEvents).toMatchObject({ param: "enabled_events", code: "parameter_missing" });
    const notUrl = await failure(stripe.webhookEndpoints.create({ url: "not a url", enabled_events: ["*"] }));
    expect(notUrl).toMatchObject({ param: "url", code: "url_invalid" });
    const extra = await failure(
      stripe.webhookEndpoints.create({
        url: "https://example.com/h",
        enabled_events: ["*"],
        colour: "blue",
      } as Stripe.WebhookEndpointCreateParams),
    );
    expect(extra).toMatchObject({ param: "colour", code: "parameter_unknown" });

    // Test mode takes http (local work); live mode wants a public https URL.
    const local = await stripe.webhookEndpoints.create({
      url: "http://127.0.0.1:4000/hook",
      enabled_events: ["*"],
    });
    expect(local.livemode).toBe(false);
    await stripe.webhookEndpoints.del(local.id);
    const live = started.stripe(started.emulator.platforms[0]!.keys.live.secretKey, { maxNetworkRetries: 0 });
    const plain = await failure(
      live.webhookEndpoints.create({ url: "http://example.com/hook", enabled_events: ["*"] }),
    );
    expect(plain).toMatchObject({
      param: "url",
      code: "url_invalid",
      message: "Invalid URL: URL must use HTTPS in live mode.",
    });
    const loopback = await failure(
      live.webhookEndpoints.create({ url: "https://localhost/hook", enabled_events: ["*"] }),
    );
    expect(loopback.message).toMatch(/publicly accessible/);
    const liveOne = await live.webhookEndpoints.create({
      url: "https://example.com/hook",
      enabled_events: ["*"],
    });
    expect(liveOne.livemode).toBe(true);
    // Each mode and each platform sees its own endpoints only.
    expect((await stripe.webhookEndpoints.list()).data.map((e) => e.id)).not.toContain(liveOne.id);
    const other = started.stripe(started.emulator.platforms[1]!.keys.live.secretKey, {
      maxNetworkRetries: 0,
    });
    expect((await other.webhookEndpoints.list()).data).toEqual([]);
    expect(await failure(other.webhookEndpoints.del(liveOne.id))).toMatchObject({ statusCode: 404 });
    await live.webhookEndpoints.del(liveOne.id);
  });

  it("takes the platform's secret key only, and at most 16 endpoints per account and mode", async () => {
    const anonymous = await failure(
      started.stripe("sk_test_unknown1234", { maxNetworkRetries: 0 }).webhookEndpoints.list(),
    );
    expect(anonymous).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    const onBehalf = await failure(stripe.webhookEndpoints.list({}, { stripeAccount: accountId }));
    expect(onBehalf).toBeInstanceOf(Stripe.errors.StripePermissionError);

    const ids: string[] = [];
    for (let i = 0; i < 16; i++)
      ids.push(
        (await stripe.webhookEndpoints.create({ url: `https://example.com/h${i}`, enabled_events: ["*"] }))
          .id,
      );
    const seventeenth = await failure(
      stripe.webhookEndpoints.create({ url: "https://example.com/h16", enabled_events: ["*"] }),
    );
    expect(seventeenth.message).toMatch(/maximum of 16/);
    const pages: string[] = [];
    for await (const endpoint of stripe.webhookEndpoints.list({ limit: 5 })) pages.push(endpoint.id);
    expect(pages).toEqual([...ids].reverse());
    for (const id of ids) await stripe.webhookEndpoints.del(id);
  });

  it("delivers the platform's connected accounts' events, signed with the endpoint's secret", async () => {
    const receiver = await startWebhookReceiver();
    const otherReceiver = await startWebhookReceiver();
    try {
      const endpoint = await stripe.webhookEndpoints.create({
        url: receiver.url,
        connect: true,
        enabled_events: ["payout.created", "payout.paid"],
      });
      const other = started.stripe(started.emulator.platforms[1]!.keys.test.secretKey, {
        maxNetworkRetries: 0,
      });
      await other.webhookEndpoints.create({ url: otherReceiver.url, connect: true, enabled_events: ["*"] });
      const accountEndpoint = await stripe.webhookEndpoints.create({
        url: otherReceiver.url,
        enabled_events: ["*"],
      });

      const payout = started.emulator.control.createPayout(accountId, "test", { amount: 1_234 });
      started.emulator.control.payPayout(payout.id);
      await started.emulator.control.flushWebhooks();

      expect(receiver.received.map((r) => r.event.type)).toEqual(["payout.created", "payout.paid"]);
      for (const delivery of receiver.received) {
        const event = Stripe.webhooks.constructEvent(
          delivery.body,
          delivery.headers["stripe-signature"] as string,
          endpoint.secret!,
        );
        expect(event).toMatchObject({ account: accountId, livemode: false });
        expect((event.data.object as Stripe.Payout).id).toBe(payout.id);
      }
      // Not a connected account of the other platform; not an event of the platform's own account.
      expect(otherReceiver.received).toEqual([]);
      await stripe.webhookEndpoints.del(endpoint.id);
      await stripe.webhookEndpoints.del(accountEndpoint.id);
    } finally {
      await receiver.close();
      await otherReceiver.close();
    }
  });
});
