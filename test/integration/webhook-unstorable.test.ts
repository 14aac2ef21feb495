// Deliveries that no retry could ever store must not answer 503 (which tells Stripe "try again"): found by
// bench/reliability.ts (scenario 1). A path whose org id cannot be an org's is 404; a validly signed body
// that PostgreSQL cannot hold as jsonb (a NUL character) or that is nested past any Stripe object is
// 400 MALFORMED_EVENT; a body the client never finished sending is 400, not an unhandled 500.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { makeEvent, postWebhook, signatureFor, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

describe.each(databaseTargets)("webhook deliveries that can never be stored, on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string; rawId: string };
  let connection: { id: string; rowId: string; account: string };

  const now = () => world.clock.seconds();
  const storedEvents = () => world.gateway.deps.db.prisma.stripeEvent.count({ where: { orgId: org.rawId } });
  const payoutEventText = (id: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify(
      makeEvent(
        "payout.updated",
        {
          id,
          object: "payout",
          amount: 100,
          currency: "usd",
          status: "paid",
          created: now(),
          arrival_date: now(),
          ...extra,
        },
        { account: connection.account, created: now() },
      ),
    );

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, seed: "webhook-unstorable" });
    ({ org, connection } = await connectedOrg(world, {
      name: "Unstorable",
      webhookSigningSecret: WEBHOOK_SECRET,
    }));
  }, 120_000);
  afterAll(() => world?.close());

  it("answers 404 for an org id that cannot be an org's, without asking the database", async () => {
    const body = payoutEventText("po_no_org");
    for (const orgId of ["%00", `org_${"x".repeat(300)}`, "org%20with%20spaces"]) {
      const answer = await postWebhook(world.gateway.app, orgId, body, { timestamp: now() });
      expect(answer, orgId).toMatchObject({ status: 404, json: { error: { code: "ORG_NOT_FOUND" } } });
    }
  });

  it("refuses a validly signed event holding a NUL character with 400 MALFORMED_EVENT, storing nothing", async () => {
    const before = await storedEvents();
    for (const body of [
      payoutEventText("po_nul", { description: "a\u0000b" }),
      payoutEventText("po_nul_key", { metadata: { "k\u0000": "v" } }),
    ]) {
      const answer = await postWebhook(world.gateway.app, org.rawId, body, { timestamp: now() });
      expect(answer).toMatchObject({ status: 400, json: { error: { code: "MALFORMED_EVENT" } } });
    }
    // The same text with a backslash before "u0000" is an ordinary string.
    const escaped = await postWebhook(
      world.gateway.app,
      org.rawId,
      payoutEventText("po_backslash", { description: "a\\u0000b" }),
      {
        timestamp: now(),
      },
    );
    expect(escaped).toMatchObject({ status: 200, json: { outcome: "applied" } });
    expect(await storedEvents()).toBe(before + 1);
  });

  it("refuses a validly signed event nested 10,000 levels deep with 400 MALFORMED_EVENT", async () => {
    const depth = 10_000;
    const body = payoutEventText("po_deep").replace(
      /}$/,
      `,"deep":${'{"d":'.repeat(depth)}1${"}".repeat(depth)}}`,
    );
    const before = await storedEvents();
    const answer = await postWebhook(world.gateway.app, org.rawId, body, { timestamp: now() });
    expect(answer).toMatchObject({ status: 400, json: { error: { code: "MALFORMED_EVENT" } } });
    expect(await storedEvents()).toBe(before);
  });

  it("stores a validly signed event whose object holds a date no database can hold, skipping that object", async () => {
    for (const [id, extra] of [
      ["po_far_arrival", { arrival_date: 1e20 }],
      ["po_far_created", { created: 2 ** 53 }],
      ["po_before_year_1", { arrival_date: -8e12 }],
    ] as const) {
      const answer = await postWebhook(world.gateway.app, org.rawId, payoutEventText(id, extra), {
        timestamp: now(),
      });
      expect(answer, id).toMatchObject({ status: 200, json: { received: true } });
      const row = await world.gateway.deps.db.prisma.stripePayout.findFirst({
        where: { connectionId: connection.rowId, stripeId: id },
      });
      expect(row, id).toBeNull();
    }
  });

  it("refuses a validly signed event whose own created is no date with 400 MALFORMED_EVENT", async () => {
    for (const created of [9e15, -9e12]) {
      const body = payoutEventText("po_event_created").replace(
        /"created":\d+,"livemode"/,
        `"created":${created},"livemode"`,
      );
      expect(body).toContain(`"created":${created}`);
      const answer = await postWebhook(world.gateway.app, org.rawId, body, { timestamp: now() });
      expect(answer, String(created)).toMatchObject({
        status: 400,
        json: { error: { code: "MALFORMED_EVENT" } },
      });
    }
  });

  it("answers 400 when the client stops sending the body midway, not an unhandled 500", async () => {
    const body = payoutEventText("po_aborted");
    // Without a length the body limit reads the stream; with one, the handler does.
    for (const length of [null, String(body.length)]) {
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(body.slice(0, 40)));
          controller.error(new Error("aborted"));
        },
      });
      const response = await world.gateway.app.fetch(
        new Request(`https://gateway.test/stripe/webhooks/${org.rawId}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "stripe-signature": signatureFor(body, { timestamp: now() }),
            ...(length ? { "content-length": length } : {}),
          },
          body: stream,
          duplex: "half",
        } as RequestInit),
      );
      expect(response.status, `content-length ${length}`).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: "BODY_INCOMPLETE" } });
    }
  });
});
