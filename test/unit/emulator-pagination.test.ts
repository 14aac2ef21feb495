import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { createEmulator, type Emulator } from "../../src/emulator/create-emulator.ts";
import { call, type Json } from "../helpers/emulator.ts";

describe("emulator lists: pagination, filters and Stripe's errors", () => {
  let emulator: Emulator;
  let key: string;
  let account: string;
  const get = (path: string, options: { key?: string; account?: string } = {}) =>
    call(emulator, path, { key, account, ...options });

  beforeAll(() => {
    emulator = createEmulator({ seed: "pagination", accounts: 2, size: "tiny", rateLimits: false });
    key = emulator.platforms[0]!.keys.test.secretKey;
    account = emulator.accountIds[0]!;
  });

  it("defaults to 10, newest first, in Stripe's list envelope", async () => {
    const { status, body, headers } = await get("/v1/balance_transactions");
    expect(status).toBe(200);
    expect(headers.get("request-id")).toMatch(/^req_/);
    expect(body).toMatchObject({ object: "list", has_more: true, url: "/v1/balance_transactions" });
    expect(body.data).toHaveLength(10);
    const created = body.data.map((t: Json) => t.created);
    expect(created).toEqual([...created].sort((a, b) => b - a));
  });

  it("walks pages with starting_after and back with ending_before", async () => {
    const all: string[] = [];
    let cursor: string | undefined;
    for (;;) {
      const { body } = await get(`/v1/charges?limit=7${cursor ? `&starting_after=${cursor}` : ""}`);
      all.push(...body.data.map((c: Json) => c.id));
      if (!body.has_more) break;
      cursor = body.data.at(-1).id;
    }
    expect(new Set(all).size).toBe(all.length);
    const { body: whole } = await get("/v1/charges?limit=100");
    expect(all).toEqual(whole.data.map((c: Json) => c.id));

    const { body: back } = await get(`/v1/charges?limit=3&ending_before=${all[5]}`);
    expect(back.data.map((c: Json) => c.id)).toEqual(all.slice(2, 5));
    expect(back.has_more).toBe(true);
  });

  it("pages through any filtered view exactly once, forwards and backwards (property)", async () => {
    const { body: everything } = await get("/v1/balance_transactions?limit=100");
    const all: Json[] = everything.data;
    for (let cursor = all.at(-1).id; ; ) {
      const { body } = await get(`/v1/balance_transactions?limit=100&starting_after=${cursor}`);
      all.push(...body.data);
      if (!body.has_more) break;
      cursor = body.data.at(-1).id;
    }
    const times = all.map((t) => t.created);
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: Math.min(...times) - 10, max: Math.max(...times) + 10 }),
        fc.constantFrom(undefined, "charge", "payout", "refund"),
        async (limit, since, type) => {
          const filter = `created[gte]=${since}${type ? `&type=${type}` : ""}`;
          const expected = all
            .filter((t) => t.created >= since && (!type || t.type === type))
            .map((t) => t.id);
          const forward: string[] = [];
          let query = "";
          for (;;) {
            const { body } = await get(`/v1/balance_transactions?limit=${limit}&${filter}${query}`);
            forward.push(...body.data.map((t: Json) => t.id));
            if (!body.has_more || body.data.length === 0) break;
            query = `&starting_after=${body.data.at(-1).id}`;
          }
          expect(forward).toEqual(expected);
          if (expected.length < 2) return;
          // Backwards from the oldest match, as auto-pagination does with ending_before.
          const backward: string[] = [];
          let before = expected.at(-1) as string;
          for (;;) {
            const { body } = await get(
              `/v1/balance_transactions?limit=${limit}&${filter}&ending_before=${before}`,
            );
            backward.unshift(...body.data.map((t: Json) => t.id));
            if (!body.has_more || body.data.length === 0) break;
            before = body.data[0].id;
          }
          expect([...backward, expected.at(-1)]).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
  });

  it.each([
    ["0", "This value must be greater than or equal to 1."],
    ["101", "This value must be less than or equal to 100."],
    ["ten", "Invalid integer: ten"],
  ])("rejects limit=%s with parameter_invalid_integer", async (limit, message) => {
    const { status, body } = await get(`/v1/payouts?limit=${limit}`);
    expect(status).toBe(400);
    expect(body.error).toMatchObject({
      type: "invalid_request_error",
      code: "parameter_invalid_integer",
      param: "limit",
      message,
    });
  });

  it("answers 404 for an unknown starting_after id, like Stripe", async () => {
    const { status, body } = await get("/v1/payouts?starting_after=po_unknown");
    expect(status).toBe(404);
    expect(body.error).toMatchObject({
      code: "resource_missing",
      param: "starting_after",
      message: "No such payout: 'po_unknown'",
    });
  });

  it("rejects unknown parameters, bad ranges and unknown URLs", async () => {
    expect((await get("/v1/payouts?colour=red")).body.error).toMatchObject({
      code: "parameter_unknown",
      param: "colour",
    });
    expect((await get("/v1/payouts?created[after]=1")).body.error.param).toBe("created[after]");
    expect((await get("/v1/payouts?created[gte]=soon")).body.error.code).toBe("parameter_invalid_integer");
    expect((await get("/v1/payouts?status=lost")).status).toBe(400);
    const unknown = await get("/v1/foo");
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/^Unrecognized request URL \(GET: \/v1\/foo\)/);
    expect((await get("/v1/charges?expand[]=balance_transaction")).status).toBe(400);
  });

  it("filters by created and arrival_date ranges and by status", async () => {
    const { body: all } = await get("/v1/payouts?limit=100");
    const middle = all.data[Math.floor(all.data.length / 2)];
    const { body: older } = await get(`/v1/payouts?limit=100&created[lte]=${middle.created}`);
    expect(older.data.every((p: Json) => p.created <= middle.created)).toBe(true);
    expect(older.data.length).toBe(all.data.filter((p: Json) => p.created <= middle.created).length);
    const { body: arriving } = await get(`/v1/payouts?limit=100&arrival_date[gt]=${middle.arrival_date}`);
    expect(arriving.data.every((p: Json) => p.arrival_date > middle.arrival_date)).toBe(true);
    const { body: paid } = await get("/v1/payouts?limit=100&status=paid");
    expect(paid.data.length).toBeGreaterThan(0);
    expect(paid.data.every((p: Json) => p.status === "paid")).toBe(true);
  });

  it("filters balance transactions by automatic payout only, like Stripe", async () => {
    expect((await get("/v1/balance_transactions?payout=po_unknown")).body.error).toMatchObject({
      code: "resource_missing",
      param: "payout",
      message: "No such payout: 'po_unknown'",
    });
    emulator.control.createCharge(account, "test", { amount: 9000 });
    const manual = emulator.control.createPayout(account, "test", { amount: 1000 });
    const refused = await get(`/v1/balance_transactions?payout=${manual.id}`);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toBe(
      "Balance transaction history can only be filtered on automatic transfers, not manual.",
    );
  });

  it("hides canceled subscriptions unless asked, and supports status=all", async () => {
    const { body: visible } = await get("/v1/subscriptions?limit=100");
    const { body: all } = await get("/v1/subscriptions?limit=100&status=all");
    const { body: canceled } = await get("/v1/subscriptions?limit=100&status=canceled");
    expect(visible.data.every((s: Json) => s.status !== "canceled")).toBe(true);
    expect(all.data.length).toBe(visible.data.length + canceled.data.length);
  });

  it("expands data.balance_transaction and data.source", async () => {
    const { body } = await get("/v1/charges?limit=2&expand[]=data.balance_transaction");
    expect(body.data[0].balance_transaction).toMatchObject({
      object: "balance_transaction",
      source: body.data[0].id,
    });
    const { body: txns } = await get("/v1/balance_transactions?limit=5&type=charge&expand[0]=data.source");
    expect(txns.data.every((t: Json) => t.source.object === "charge")).toBe(true);
  });

  it("filters events by type wildcard and types[]", async () => {
    const { body } = await get("/v1/events?limit=100&type=payout.*");
    expect(body.data.length).toBeGreaterThan(0);
    expect(body.data.every((e: Json) => e.type.startsWith("payout."))).toBe(true);
    const { body: both } = await get("/v1/events?limit=100&types[]=charge.succeeded&types[]=payout.paid");
    expect(new Set(both.data.map((e: Json) => e.type))).toEqual(new Set(["charge.succeeded", "payout.paid"]));
  });

  it("keeps modes apart: a live key sees live data only", async () => {
    const live = emulator.platforms[0]!.keys.live.secretKey;
    const { body } = await get("/v1/charges?limit=100", { key: live });
    const { body: test } = await get("/v1/charges?limit=100");
    expect(body.data.every((c: Json) => c.livemode === true)).toBe(true);
    const testIds = new Set(test.data.map((c: Json) => c.id));
    expect(body.data.some((c: Json) => testIds.has(c.id))).toBe(false);
    expect((await get(`/v1/charges/${test.data[0].id}`, { key: live })).status).toBe(404);
  });

  it("answers 401 without echoing the key and 403 for an unconnected account", async () => {
    const missing = await call(emulator, "/v1/charges");
    expect(missing.status).toBe(401);
    const bad = await call(emulator, "/v1/charges", { key: "sk_test_abcdefghijklmnop9876" });
    expect(bad.body.error.message).toBe("Invalid API Key provided: sk_test_****9876");
    const stranger = await get("/v1/charges", { account: "acct_1NotConnected000" });
    expect(stranger.status).toBe(403);
    expect(JSON.stringify(stranger.body)).not.toContain(key);
  });
});
