import Stripe from "stripe";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createEmulator, type Emulator } from "../../src/emulator/create-emulator.ts";
import { signPayload } from "../../src/emulator/webhooks.ts";
import { call, startWebhookReceiver } from "../helpers/emulator.ts";

const SECRET = "whsec_unitTestSecret";

describe("emulator webhook delivery", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function setup(statuses: number[] = [], delivery = {}) {
    const receiver = await startWebhookReceiver(statuses);
    const emulator = createEmulator({
      seed: "webhooks",
      accounts: 1,
      size: "tiny",
      delivery: { retryBaseMs: 5, ...delivery },
      webhookEndpoints: [{ url: receiver.url, secret: SECRET }],
    });
    cleanups.push(receiver.close, emulator.close);
    return { receiver, emulator, account: emulator.accountIds[0]! };
  }

  /** Three events in one tick: charge.succeeded for three new charges. */
  function createCharges(emulator: Emulator, account: string) {
    return [1000, 2000, 3000].map((amount) => emulator.control.createCharge(account, "test", { amount }));
  }

  it("signs exactly like Stripe", () => {
    const payload = '{"id":"evt_1"}';
    const header = signPayload(payload, SECRET, 1_700_000_000);
    const expected = Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: SECRET,
      timestamp: 1_700_000_000,
    });
    expect(header).toBe(expected);
  });

  it("delivers events in order by default, verifiable with the SDK", async () => {
    const { receiver, emulator, account } = await setup();
    const charges = createCharges(emulator, account);
    await emulator.control.flushWebhooks();
    expect(receiver.received.map((r) => r.event.data.object.id)).toEqual(charges.map((c) => c.id));
    for (const { body, headers } of receiver.received) {
      const event = Stripe.webhooks.constructEvent(body, headers["stripe-signature"] as string, SECRET);
      expect(event).toMatchObject({
        type: "charge.succeeded",
        account,
        livemode: false,
        pending_webhooks: 1,
      });
    }
    // Once delivered, the stored event no longer waits for any endpoint.
    const key = emulator.platforms[0]!.keys.test.secretKey;
    const stored = await call(emulator, `/v1/events/${receiver.received[0]!.event.id}`, { key, account });
    expect(stored.body.pending_webhooks).toBe(0);
  });

  it("reorders deliveries when asked", async () => {
    const { receiver, emulator, account } = await setup([], { reorder: true });
    const charges = createCharges(emulator, account);
    await emulator.control.flushWebhooks();
    expect(receiver.received.map((r) => r.event.data.object.id)).toEqual(charges.map((c) => c.id).reverse());
  });

  it("duplicates deliveries with the same event id when asked", async () => {
    const { receiver, emulator, account } = await setup([], { duplicate: 1 });
    createCharges(emulator, account);
    await emulator.control.flushWebhooks();
    expect(receiver.received).toHaveLength(6);
    const ids = receiver.received.map((r) => r.event.id);
    expect(new Set(ids).size).toBe(3);
    expect(emulator.control.deliveries.filter((d) => d.duplicate)).toHaveLength(3);
  });

  it("retries non-2xx answers with backoff and a fresh signature each time", async () => {
    const { receiver, emulator, account } = await setup([500, 503]);
    emulator.control.createCharge(account, "test", { amount: 5000 });
    await emulator.control.flushWebhooks();
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.event.id)).size).toBe(1);
    expect(emulator.control.deliveries.map((d) => [d.attempt, d.status, d.ok])).toEqual([
      [1, 500, false],
      [2, 503, false],
      [3, 200, true],
    ]);
  });

  it("gives up after maxAttempts and records each failure", async () => {
    const { receiver, emulator, account } = await setup([500, 500, 500], { maxAttempts: 2 });
    emulator.control.createCharge(account, "test", { amount: 5000 });
    await emulator.control.flushWebhooks();
    expect(receiver.received).toHaveLength(2);
    expect(emulator.control.deliveries.every((d) => !d.ok)).toBe(true);
  });

  it("delays the first attempt when asked", async () => {
    const { receiver, emulator, account } = await setup([], { delayMs: 80 });
    // On a fake clock: nothing is sent until 80 ms have passed.
    vi.useFakeTimers({ toFake: ["setTimeout"] });
    try {
      emulator.control.createCharge(account, "test", { amount: 5000 });
      await vi.advanceTimersByTimeAsync(75);
      expect(receiver.received).toHaveLength(0);
      expect(emulator.control.deliveries).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(5);
    } finally {
      vi.useRealTimers();
    }
    await emulator.control.flushWebhooks();
    expect(receiver.received).toHaveLength(1);
  });
});
