import { beforeEach, describe, expect, it, vi } from "vitest";
import { createEmulator, type Emulator } from "../../src/emulator/create-emulator.ts";
import { call, type Json } from "../helpers/emulator.ts";

describe("emulator control API", () => {
  let emulator: Emulator;
  let key: string;
  let account: string;
  const api = (path: string) => call(emulator, path, { key, account });
  const control = (path: string, json: unknown = {}) => call(emulator, `/_emulator${path}`, { json });
  const lastEvent = async (type: string) => (await api(`/v1/events?type=${type}&limit=1`)).body.data[0];

  beforeEach(() => {
    emulator = createEmulator({ seed: "control", accounts: 2, size: "tiny", rateLimits: false });
    key = emulator.platforms[0]!.keys.test.secretKey;
    account = emulator.accountIds[0]!;
  });

  it("refunds a charge partially then fully, with refunds, balance transactions and events", async () => {
    const charge = (await control(`/accounts/${account}/charges`, { amount: 10_000 })).body;
    const partial = await control(`/charges/${charge.id}/refund`, { amount: 4000 });
    expect(partial.body).toMatchObject({
      object: "refund",
      amount: 4000,
      charge: charge.id,
      status: "succeeded",
    });
    const txn = (await api(`/v1/balance_transactions/${partial.body.balance_transaction}`)).body;
    expect(txn).toMatchObject({ type: "refund", amount: -4000, net: -4000, source: partial.body.id });
    const refunded = await lastEvent("charge.refunded");
    expect(refunded.data.object).toMatchObject({ id: charge.id, amount_refunded: 4000, refunded: false });
    expect(refunded.data.previous_attributes).toMatchObject({ amount_refunded: 0 });
    expect((await lastEvent("refund.created")).data.object.id).toBe(partial.body.id);
    await control(`/charges/${charge.id}/refund`);
    expect((await api(`/v1/charges/${charge.id}`)).body).toMatchObject({
      amount_refunded: 10_000,
      refunded: true,
    });
    const again = await control(`/charges/${charge.id}/refund`);
    expect(again.body.error.code).toBe("charge_already_refunded");
  });

  it("makes a new charge's funds available two days later on the emulator clock", async () => {
    const balanceOf = async () => (await api("/v1/balance")).body;
    const before = await balanceOf();
    const charge = (await control(`/accounts/${account}/charges`, { amount: 10_000 })).body;
    const txn = (await api(`/v1/balance_transactions/${charge.balance_transaction}`)).body;
    expect(txn).toMatchObject({ status: "pending", amount: 10_000, fee: 320, net: 9680 });
    expect((await balanceOf()).pending[0].amount).toBe(before.pending[0].amount + 9680);
    await control("/clock/advance", { seconds: txn.available_on - emulator.clock.seconds() });
    expect((await api(`/v1/balance_transactions/${txn.id}`)).body.status).toBe("available");
    const after = await balanceOf();
    expect(after.available[0].amount - before.available[0].amount).toBeGreaterThanOrEqual(9680);
  });

  it("moves payouts to paid or failed with failure codes and events", async () => {
    await control(`/accounts/${account}/charges`, { amount: 20_000 });
    const payout = (await control(`/accounts/${account}/payouts`)).body;
    expect(payout).toMatchObject({ object: "payout", status: "pending", automatic: true });
    const failed = await control(`/payouts/${payout.id}`, {
      status: "failed",
      failure_code: "account_closed",
    });
    expect(failed.body).toMatchObject({ status: "failed", failure_code: "account_closed" });
    expect(failed.body.failure_message).toBe("The bank account has been closed.");
    const reversal = (await api(`/v1/balance_transactions/${failed.body.failure_balance_transaction}`)).body;
    expect(reversal).toMatchObject({ type: "payout_failure", amount: payout.amount });
    const updated = await lastEvent("payout.updated");
    expect(updated.data.previous_attributes).toMatchObject({ status: "pending", failure_code: null });
    expect((await lastEvent("payout.failed")).data.object.id).toBe(payout.id);
    expect((await control(`/payouts/${payout.id}`, { status: "paid" })).status).toBe(400);
    expect((await control("/payouts/po_nope", { status: "paid" })).status).toBe(404);
  });

  it("opens and closes disputes", async () => {
    const charge = (await control(`/accounts/${account}/charges`, { amount: 7000 })).body;
    const dispute = (await control(`/charges/${charge.id}/dispute`, { reason: "fraudulent" })).body;
    expect(dispute).toMatchObject({
      object: "dispute",
      status: "needs_response",
      charge: charge.id,
      amount: 7000,
    });
    expect((await api(`/v1/charges/${charge.id}`)).body.disputed).toBe(true);
    const won = (await control(`/disputes/${dispute.id}/close`, { status: "won" })).body;
    expect(won.status).toBe("won");
    expect(won.balance_transactions.map((t: Json) => t.reporting_category)).toEqual([
      "dispute",
      "dispute_reversal",
    ]);
    const closed = await lastEvent("charge.dispute.closed");
    expect(closed.data).toMatchObject({
      object: { id: dispute.id, status: "won" },
      previous_attributes: { status: "needs_response" },
    });
    expect((await lastEvent("charge.dispute.created")).data.object.id).toBe(dispute.id);
  });

  it("updates an account with nested previous_attributes", async () => {
    const patch = { business_profile: { name: "Renamed Co" }, email: "new@example.com" };
    const updated = (await control(`/accounts/${account}`, patch)).body;
    expect(updated.business_profile.name).toBe("Renamed Co");
    expect(updated.business_profile.mcc).toBeNull(); // other nested fields kept
    const event = await lastEvent("account.updated");
    expect(event.data.previous_attributes).toEqual({
      business_profile: { name: "Rocket Rides" },
      email: "owner@rocketrides.example",
    });
    expect((await api("/v1/account")).body.email).toBe("new@example.com");
  });

  it("injects 5xx, latency and dropped connections on matching paths only", async () => {
    await control("/failures", { kind: "error", status: 503, count: 2, path_prefix: "/v1/payouts" });
    expect((await api("/v1/charges")).status).toBe(200);
    const first = await api("/v1/payouts");
    expect(first.status).toBe(503);
    expect(first.body.error.type).toBe("api_error");
    expect((await api("/v1/payouts")).status).toBe(503);
    expect((await api("/v1/payouts")).status).toBe(200);

    await control("/failures", { kind: "latency", ms: 120 });
    // On a fake clock: no answer until 120 ms have passed.
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      let answered = false;
      const slow = api("/v1/customers").finally(() => (answered = true));
      await vi.advanceTimersByTimeAsync(110);
      expect(answered).toBe(false);
      await vi.advanceTimersByTimeAsync(10);
      expect((await slow).status).toBe(200);
    } finally {
      vi.useRealTimers();
    }

    await control("/failures", { kind: "drop" });
    await expect(api("/v1/customers")).rejects.toThrow(TypeError);
    await control("/failures", { kind: "error", count: 5 });
    expect((await call(emulator, "/_emulator/failures", { method: "DELETE" })).body.failures).toEqual([]);
    expect((await api("/v1/customers")).status).toBe(200);
  });

  it("takes failures as a creation option too", async () => {
    const failing = createEmulator({
      size: "tiny",
      accounts: 1,
      failures: [{ kind: "error", status: 502, count: 1 }],
    });
    const own = { key: failing.platforms[0]!.keys.test.secretKey, account: failing.accountIds[0] };
    const first = await call(failing, "/v1/balance", own);
    expect(first.status).toBe(502);
    expect(first.headers.get("request-id")).toMatch(/^req_/);
    expect((await call(failing, "/v1/balance", own)).status).toBe(200);
  });

  it("advances the clock, sets rate limits and platform settings, and lists keys masked", async () => {
    const before = emulator.clock.seconds();
    const moved = await control("/clock/advance", { seconds: 3600 });
    expect(moved.body.now).toBeGreaterThanOrEqual(before + 3600);
    await control("/rate-limits", { test: 1, live: 1 });
    await api("/v1/charges");
    expect((await api("/v1/charges")).status).toBe(429);
    await control("/rate-limits", { enabled: false });
    const platform = await control("/platforms/default", {
      redirect_uris: ["https://x.example/cb"],
      permissions: ["payout_read"],
    });
    expect(platform.body.redirect_uris).toEqual(["https://x.example/cb"]);
    const info = (await call(emulator, "/_emulator")).body;
    expect(JSON.stringify(info)).not.toContain(key);
    expect(info.platforms[0].keys.test.secret_key).toBe(`sk_test_****${key.slice(-4)}`);
    expect(info.accounts.map((a: Json) => a.id)).toEqual(emulator.accountIds);
    expect((await control("/clock/advance", { seconds: -1 })).status).toBe(400);
  });

  it("registers webhook endpoints and exposes deliveries over HTTP", async () => {
    const endpoint = (
      await control("/webhook-endpoints", { url: "http://127.0.0.1:9/unreachable", secret: "whsec_x" })
    ).body;
    expect(endpoint).toMatchObject({ url: "http://127.0.0.1:9/unreachable", connect: true });
    const options = await control("/webhooks/options", { retry_base_ms: 1, max_attempts: 2 });
    expect(options.body).toEqual({
      retry_base_ms: 1,
      max_attempts: 2,
      timeout_ms: 10_000,
      duplicate: 0,
      delay_ms: 0,
      reorder: false,
    });
    await control(`/accounts/${account}/charges`, { amount: 1000 });
    await control("/webhooks/flush");
    const deliveries = (await call(emulator, "/_emulator/deliveries")).body.data;
    expect(deliveries.map((d: Json) => [d.attempt, d.ok])).toEqual([
      [1, false],
      [2, false],
    ]);
    expect(deliveries[0].error).toBe("fetch failed"); // connection refused, not a bad option
    expect(
      (await call(emulator, `/_emulator/webhook-endpoints/${endpoint.id}`, { method: "DELETE" })).body
        .deleted,
    ).toBe(true);
    expect((await control("/webhook-endpoints", { url: "not a url" })).status).toBe(400);
  });

  it("deletes a customer as Stripe does: gone from lists, a stub on retrieve, the event without `deleted`", async () => {
    const customer = (await api("/v1/customers?limit=1")).body.data[0];
    const deleted = await call(emulator, `/_emulator/customers/${customer.id}`, { method: "DELETE" });
    expect(deleted.body).toEqual({ id: customer.id, object: "customer", deleted: true });
    const listed = (await api("/v1/customers?limit=100")).body.data.map((c: Json) => c.id);
    expect(listed).not.toContain(customer.id);
    expect((await api(`/v1/customers/${customer.id}`)).body).toEqual({
      id: customer.id,
      object: "customer",
      deleted: true,
    });
    const event = await lastEvent("customer.deleted");
    expect(event.data.object).toMatchObject({ id: customer.id, email: customer.email });
    expect(event.data.object.deleted).toBeUndefined();
    const again = await call(emulator, `/_emulator/customers/${customer.id}`, { method: "DELETE" });
    expect(again.status).toBe(404);
  });

  it("cancels a subscription and takes a dispute's evidence, with their events", async () => {
    const subscription = (await api("/v1/subscriptions?limit=1")).body.data[0];
    const canceled = await call(emulator, `/_emulator/subscriptions/${subscription.id}`, {
      method: "DELETE",
    });
    expect(canceled.body).toMatchObject({ id: subscription.id, status: "canceled" });
    expect((await lastEvent("customer.subscription.deleted")).data.object.status).toBe("canceled");

    const charge = (await control(`/accounts/${account}/charges`, { amount: 10_000 })).body;
    const dispute = (await control(`/charges/${charge.id}/dispute`)).body;
    const reviewed = await control(`/disputes/${dispute.id}/evidence`);
    expect(reviewed.body.status).toBe("under_review");
    const updated = await lastEvent("charge.dispute.updated");
    expect(updated.data).toMatchObject({
      object: { id: dispute.id, status: "under_review" },
      previous_attributes: { status: "needs_response" },
    });
    expect((await control(`/disputes/${dispute.id}/evidence`)).status).toBe(400);
  });
});
