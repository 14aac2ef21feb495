import Stripe from "stripe";
import { afterEach, describe, expect, it } from "vitest";
import { createClock } from "../../src/emulator/clock.ts";
import { createEmulator, type Emulator, type EmulatorOptions } from "../../src/emulator/create-emulator.ts";
import { call, type Json, startEmulator, startWebhookReceiver } from "../helpers/emulator.ts";

const START = Date.UTC(2026, 10, 1);
const REDIRECT = encodeURIComponent("http://localhost:4000/stripe/proxy/org_1/redirect");

async function listAll(emulator: Emulator, path: string, account: string): Promise<Json[]> {
  const key = emulator.platforms[0]!.keys.test.secretKey;
  const out: Json[] = [];
  for (let cursor = ""; ; ) {
    const { status, body } = await call(emulator, `${path}?limit=100${cursor}`, { key, account });
    expect(status, path).toBe(200);
    out.push(...body.data);
    if (!body.has_more) return out;
    cursor = `&starting_after=${body.data.at(-1).id}`;
  }
}

describe("emulator application fee refunds", () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of cleanup.splice(0)) await close();
  });

  /** A tiny emulator, the first account's test key, and a fee of it with nothing refunded yet. */
  async function setup(options: EmulatorOptions = {}) {
    const emulator = createEmulator({
      seed: "fee-refunds",
      accounts: 2,
      size: "tiny",
      rateLimits: false,
      ...options,
    });
    cleanup.push(() => emulator.close());
    const key = emulator.platforms[0]!.keys.test.secretKey;
    const account = emulator.accountIds[0]!;
    const fees = await listAll(emulator, "/v1/application_fees", account);
    const fee = fees.find((f) => f.amount_refunded === 0 && f.amount >= 20)!;
    expect(fee).toBeDefined();
    const api = (path: string, as = account) => call(emulator, path, { key, account: as });
    const control = (path: string, json: unknown = {}) => call(emulator, `/_emulator${path}`, { json });
    return { emulator, key, account, fee, fees, api, control };
  }

  it("generates fee refunds that match each fee's amount_refunded, refunded and refunds, per seed", async () => {
    const make = () =>
      createEmulator({
        seed: "fee-refunds",
        accounts: 2,
        size: "small",
        rateLimits: false,
        clock: createClock({ start: START, frozen: true }),
      });
    const emulator = make();
    const now = emulator.clock.seconds();
    let fully = 0;
    let partially = 0;
    let total = 0;
    for (const account of emulator.accountIds) {
      const fees = await listAll(emulator, "/v1/application_fees", account);
      total += fees.length;
      for (const fee of fees) {
        const url = `/v1/application_fees/${fee.id}/refunds`;
        const refunds = await listAll(emulator, url, account);
        const refunded = refunds.reduce((sum, r) => sum + r.amount, 0);
        expect(fee.amount_refunded).toBe(refunded);
        expect(fee.refunded).toBe(refunded === fee.amount);
        expect(fee.refunds).toEqual({
          object: "list",
          data: refunds.slice(0, 10),
          has_more: refunds.length > 10,
          total_count: refunds.length,
          url,
        });
        for (const refund of refunds) {
          expect(Object.keys(refund).sort()).toEqual(
            [
              "amount",
              "balance_transaction",
              "created",
              "currency",
              "fee",
              "id",
              "metadata",
              "object",
            ].sort(),
          );
          expect(refund).toMatchObject({
            object: "fee_refund",
            fee: fee.id,
            currency: fee.currency,
            metadata: {},
          });
          expect(refund.id).toMatch(/^fr_/);
          expect(refund.balance_transaction).toMatch(/^txn_/);
          expect(refund.created).toBeGreaterThanOrEqual(fee.created);
          expect(refund.created).toBeLessThanOrEqual(now);
        }
        if (fee.refunded) fully++;
        else if (fee.amount_refunded > 0) partially++;
      }
    }
    expect(fully).toBeGreaterThan(0);
    expect(partially).toBeGreaterThan(0);
    expect(fully + partially).toBeLessThan(total * 0.25);

    const again = make();
    const account = emulator.accountIds[1]!;
    expect(await listAll(again, "/v1/application_fees", account)).toEqual(
      await listAll(emulator, "/v1/application_fees", account),
    );
  });

  it("pages a fee's refunds newest first, and embeds the 10 newest in the fee", async () => {
    const { emulator, fee, api } = await setup();
    const created: string[] = [];
    for (let i = 0; i < 12; i++) {
      created.push(emulator.control.refundApplicationFee(fee.id, { amount: 1 }).id);
      emulator.clock.advance(1000);
    }
    const newest = created.reverse();
    const url = `/v1/application_fees/${fee.id}/refunds`;
    const first = (await api(`${url}?limit=5`)).body;
    expect(first).toMatchObject({ object: "list", has_more: true, url });
    expect(first.data.map((r: Json) => r.id)).toEqual(newest.slice(0, 5));
    const walked: string[] = [];
    for (let cursor = ""; ; ) {
      const { body } = await api(`${url}?limit=5${cursor}`);
      walked.push(...body.data.map((r: Json) => r.id));
      if (!body.has_more) break;
      cursor = `&starting_after=${body.data.at(-1).id}`;
    }
    expect(walked).toEqual(newest);
    const back = (await api(`${url}?limit=3&ending_before=${newest[6]}`)).body;
    expect(back.data.map((r: Json) => r.id)).toEqual(newest.slice(3, 6));
    expect(back.has_more).toBe(true);
    expect((await api(`${url}`)).body.data).toHaveLength(10);

    const stored = (await api(`/v1/application_fees/${fee.id}`)).body;
    expect(stored).toMatchObject({ amount_refunded: 12, refunded: false });
    expect(stored.refunds).toMatchObject({ has_more: true, total_count: 12, url });
    expect(stored.refunds.data.map((r: Json) => r.id)).toEqual(newest.slice(0, 10));

    const one = (await api(`${url}/${newest[3]}?expand[]=fee`)).body;
    expect(one).toMatchObject({ id: newest[3], object: "fee_refund", amount: 1 });
    expect(one.fee).toMatchObject({ id: fee.id, object: "application_fee" });
    const expanded = (await api(`${url}?limit=1&expand[]=data.fee`)).body;
    expect(expanded.data[0].fee.object).toBe("application_fee");
  });

  it("answers Stripe's 404s and 400s for unknown fees, other accounts and bad parameters", async () => {
    const { emulator, fee, api } = await setup();
    const refund = emulator.control.refundApplicationFee(fee.id, { amount: 5 });
    const other = (await listAll(emulator, "/v1/application_fees", emulator.accountIds[1]!))[0];
    const otherRefund = emulator.control.refundApplicationFee(other.id, { amount: 1 });
    const url = `/v1/application_fees/${fee.id}/refunds`;

    const unknown = await api("/v1/application_fees/fee_nope/refunds");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toMatchObject({
      type: "invalid_request_error",
      code: "resource_missing",
      message: "No such application fee: 'fee_nope'",
    });
    const foreign = await api(`/v1/application_fees/${other.id}/refunds`);
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.message).toBe(`No such application fee: '${other.id}'`);
    const foreignOne = await api(`/v1/application_fees/${other.id}/refunds/${otherRefund.id}`);
    expect(foreignOne.body.error.message).toBe(`No such application fee: '${other.id}'`);
    const live = await call(emulator, url, {
      key: emulator.platforms[0]!.keys.live.secretKey,
      account: emulator.accountIds[0],
    });
    expect(live.status).toBe(404);

    const wrongFee = await api(`/v1/application_fees/${fee.id}/refunds/${otherRefund.id}`);
    expect(wrongFee.status).toBe(404);
    expect(wrongFee.body.error.message).toBe(`No such fee refund: '${otherRefund.id}'`);
    const cursor = await api(`${url}?starting_after=${otherRefund.id}`);
    expect(cursor.status).toBe(404);
    expect(cursor.body.error.param).toBe("starting_after");
    expect((await api(`${url}/${refund.id}`)).body.id).toBe(refund.id);

    const created = await api(`${url}?created[gte]=0`);
    expect(created.status).toBe(400);
    expect(created.body.error.code).toBe("parameter_unknown");
    expect((await api(`${url}?limit=101`)).status).toBe(400);
    expect((await api(`${url}?expand[]=data.charge`)).status).toBe(400);
  });

  it("needs application_fee_read for a Stripe Apps access token", async () => {
    const { emulator, key, fee } = await setup();
    const clientId = emulator.platforms[0]!.keys.test.clientId;
    const authorize = await emulator.fetch(
      new Request(`http://emulator.test/oauth/v2/authorize?client_id=${clientId}&redirect_uri=${REDIRECT}`),
    );
    const code = new URL(authorize.headers.get("location")!).searchParams.get("code")!;
    const token = (
      await call(emulator, "/v1/oauth/token", { key, form: { grant_type: "authorization_code", code } })
    ).body.access_token;
    const url = `/v1/application_fees/${fee.id}/refunds`;
    emulator.control.updatePlatform(undefined, { permissions: ["payout_read"] });
    const denied = await call(emulator, url, { key: token });
    expect(denied.status).toBe(403);
    expect(denied.body.error.code).toBe("more_permissions_required_for_application");
    expect(denied.body.error.message).toContain("'application_fee_read'");
    emulator.control.updatePlatform(undefined, { permissions: ["application_fee_read"] });
    expect((await call(emulator, url, { key: token })).status).toBe(200);
  });

  it("refunds a fee through the control API: application_fee.refunded with the fee, recorded and delivered", async () => {
    const receiver = await startWebhookReceiver();
    cleanup.push(receiver.close);
    const secret = "whsec_fee_refunds";
    const { emulator, fee, fees, api, control } = await setup({
      webhookEndpoints: [{ url: receiver.url, secret }],
    });
    const partial = await control(`/application_fees/${fee.id}/refund`, {
      amount: 10,
      metadata: { order: "A1" },
    });
    expect(partial.status).toBe(200);
    expect(partial.body).toMatchObject({
      object: "fee_refund",
      amount: 10,
      fee: fee.id,
      currency: fee.currency,
      metadata: { order: "A1" },
      created: emulator.clock.seconds(),
    });
    const afterPartial = (await api(`/v1/application_fees/${fee.id}`)).body;
    expect(afterPartial).toMatchObject({ amount_refunded: 10, refunded: false });
    expect(afterPartial.refunds).toMatchObject({ total_count: 1, has_more: false, data: [partial.body] });

    const rest = await control(`/application_fees/${fee.id}/refund`);
    expect(rest.body.amount).toBe(fee.amount - 10);
    expect((await api(`/v1/application_fees/${fee.id}`)).body).toMatchObject({
      amount_refunded: fee.amount,
      refunded: true,
    });

    const events = (await api("/v1/events?type=application_fee.*")).body.data;
    expect(events.map((e: Json) => e.type)).toEqual(["application_fee.refunded", "application_fee.refunded"]);
    const [full, first] = events;
    expect(first.data.object).toMatchObject({ id: fee.id, object: "application_fee", amount_refunded: 10 });
    expect(first.data.previous_attributes).toEqual({
      amount_refunded: 0,
      refunds: { data: [], total_count: 0 },
    });
    expect(full.data.object).toMatchObject({ amount_refunded: fee.amount, refunded: true });
    expect(full.data.object.refunds.data.map((r: Json) => r.id)).toEqual([rest.body.id, partial.body.id]);
    expect(full.data.previous_attributes).toEqual({
      amount_refunded: 10,
      refunded: false,
      refunds: { data: [partial.body], total_count: 1 },
    });

    const again = await control(`/application_fees/${fee.id}/refund`);
    expect(again.status).toBe(400);
    expect(again.body.error).toMatchObject({
      type: "invalid_request_error",
      message: `Application fee ${fee.id} has already been refunded.`,
    });
    const another = fees.find((f) => f.id !== fee.id && f.amount_refunded === 0)!;
    const tooMuch = await control(`/application_fees/${another.id}/refund`, { amount: another.amount + 1 });
    expect(tooMuch.status).toBe(400);
    expect(tooMuch.body.error).toMatchObject({
      param: "amount",
      message: `Refund amount (${another.amount + 1}) is greater than unrefunded amount on fee (${another.amount})`,
    });
    expect((await control("/application_fees/fee_nope/refund")).status).toBe(404);
    expect((await control(`/application_fees/${another.id}/refund`, { amount: 0 })).status).toBe(400);

    await emulator.control.flushWebhooks();
    const delivered = receiver.received.filter((r) => r.event.type.startsWith("application_fee."));
    // Stripe delivers concurrently, in no guaranteed order: both arrive, each once.
    expect(delivered.map((r) => r.event.id).sort()).toEqual([first.id, full.id].sort());
    for (const { body, headers } of delivered)
      expect(Stripe.webhooks.constructEvent(body, headers["stripe-signature"] as string, secret).type).toBe(
        "application_fee.refunded",
      );
  });

  it("updates a fee refund's metadata: application_fee.refund.updated with the fee refund", async () => {
    const { emulator, fee, api, control } = await setup();
    const refund = emulator.control.refundApplicationFee(fee.id, { amount: 3, metadata: { order: "A1" } });
    const path = `/application_fees/${fee.id}/refunds/${refund.id}`;
    const updated = await control(path, { metadata: { order: "A2", note: "goodwill" } });
    expect(updated.body).toMatchObject({ id: refund.id, metadata: { order: "A2", note: "goodwill" } });
    await control(path, { metadata: { note: "" } });
    expect((await control(path, { metadata: { order: "A2" } })).status).toBe(200); // no change, no event

    const events = (await api("/v1/events?type=application_fee.refund.updated")).body.data;
    expect(events).toHaveLength(2);
    expect(events[1].data.object).toMatchObject({ object: "fee_refund", id: refund.id, fee: fee.id });
    expect(events[1].data.previous_attributes).toEqual({ metadata: { order: "A1", note: null } });
    expect(events[0].data.object.metadata).toEqual({ order: "A2" });
    expect(events[0].data.previous_attributes).toEqual({ metadata: { note: "goodwill" } });
    expect((await api("/v1/events?type=application_fee.refund.created")).body.data).toHaveLength(0);

    const url = `/v1/application_fees/${fee.id}/refunds/${refund.id}`;
    expect((await api(url)).body.metadata).toEqual({ order: "A2" });
    expect((await api(`/v1/application_fees/${fee.id}`)).body.refunds.data[0].metadata).toEqual({
      order: "A2",
    });
    const refunded = (await api("/v1/events?type=application_fee.refunded")).body.data[0];
    expect(refunded.data.object.refunds.data[0].metadata).toEqual({ order: "A1" }); // a snapshot

    expect((await control(`/application_fees/fee_nope/refunds/${refund.id}`, { metadata: {} })).status).toBe(
      404,
    );
    expect((await control(`/application_fees/${fee.id}/refunds/fr_nope`, { metadata: {} })).status).toBe(404);
    expect((await control(path, {})).status).toBe(400);
  });

  it("serves the official SDK's listRefunds and retrieveRefund", async () => {
    const started = await startEmulator({
      seed: "fee-refunds-sdk",
      accounts: 2,
      size: "tiny",
      rateLimits: false,
    });
    cleanup.push(() => started.close());
    const { emulator } = started;
    const stripeAccount = emulator.accountIds[0]!;
    const stripe = started.stripe(emulator.platforms[0]!.keys.test.secretKey, { maxNetworkRetries: 0 });
    const fee = (await stripe.applicationFees.list({ limit: 100 }, { stripeAccount })).data.find(
      (f) => f.amount_refunded === 0 && f.amount >= 3,
    )!;
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.unshift(emulator.control.refundApplicationFee(fee.id, { amount: 1 }).id);
      emulator.clock.advance(1000);
    }
    const seen: Stripe.FeeRefund[] = [];
    for await (const refund of stripe.applicationFees.listRefunds(fee.id, { limit: 2 }, { stripeAccount }))
      seen.push(refund);
    expect(seen.map((r) => r.id)).toEqual(ids);
    const one = await stripe.applicationFees.retrieveRefund(fee.id, ids[1]!, undefined, { stripeAccount });
    expect(one).toMatchObject({ id: ids[1], object: "fee_refund", amount: 1, fee: fee.id });
    expect(one.lastResponse.requestId).toMatch(/^req_/);
    const missing = await stripe.applicationFees
      .listRefunds("fee_missing", undefined, { stripeAccount })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(missing).toMatchObject({ statusCode: 404, code: "resource_missing" });
    const event = (
      await stripe.events.list({ type: "application_fee.refunded", limit: 1 }, { stripeAccount })
    ).data[0]!;
    expect((event.data.object as Stripe.ApplicationFee).refunds.data[0]!.id).toBe(ids[0]);
  });
});
