import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createClock } from "../../src/emulator/clock.ts";
import { createEmulator, type Emulator } from "../../src/emulator/create-emulator.ts";
import { call, type Json } from "../helpers/emulator.ts";

const START = Date.UTC(2026, 10, 1);

async function listAll(emulator: Emulator, path: string, account: string, mode: "test" | "live" = "test") {
  const key = emulator.platforms[0]!.keys[mode].secretKey;
  const out: Json[] = [];
  let cursor = "";
  for (;;) {
    const separator = path.includes("?") ? "&" : "?";
    const { body } = await call(emulator, `${path}${separator}limit=100${cursor}`, { key, account });
    out.push(...body.data);
    if (!body.has_more) return out;
    cursor = `&starting_after=${body.data.at(-1).id}`;
  }
}

/** For every automatic paid payout: its transactions net to the payout, plus its own -amount row. */
async function checkReconciliation(emulator: Emulator, account: string): Promise<number> {
  const payouts = (await listAll(emulator, "/v1/payouts?status=paid", account)).filter((p) => p.automatic);
  for (const payout of payouts) {
    const rows = await listAll(emulator, `/v1/balance_transactions?payout=${payout.id}`, account);
    const own = rows.filter((t) => t.type === "payout");
    expect(own).toHaveLength(1);
    expect(own[0].net).toBe(-payout.amount);
    expect(own[0].id).toBe(payout.balance_transaction);
    const net = rows.filter((t) => t.type !== "payout").reduce((sum, t) => sum + t.net, 0);
    expect(net).toBe(payout.amount);
    for (const row of rows) expect(row.net).toBe(row.amount - row.fee);
  }
  return payouts.length;
}

describe("emulator dataset", () => {
  it("is deterministic for a seed and differs across seeds", async () => {
    const make = (seed: string) =>
      createEmulator({
        seed,
        accounts: 2,
        size: "tiny",
        rateLimits: false,
        clock: createClock({ start: START, frozen: true }),
      });
    const a = make("same");
    const b = make("same");
    const c = make("other");
    expect(a.accountIds).toEqual(b.accountIds);
    expect(a.platforms[0]!.keys).toEqual(b.platforms[0]!.keys);
    for (const path of [
      "/v1/charges",
      "/v1/payouts",
      "/v1/balance_transactions",
      "/v1/subscriptions?status=all",
    ])
      expect(await listAll(a, path, a.accountIds[1]!)).toEqual(await listAll(b, path, b.accountIds[1]!));
    expect(c.accountIds).not.toEqual(a.accountIds);
  });

  it("generates thousands of objects per account for size medium, spread over past months", async () => {
    const emulator = createEmulator({ seed: "volume", accounts: 1, size: "medium", rateLimits: false });
    const account = emulator.accountIds[0]!;
    const charges = await listAll(emulator, "/v1/charges", account);
    const transactions = await listAll(emulator, "/v1/balance_transactions", account);
    expect(charges.length).toBeGreaterThan(1500);
    expect(transactions.length).toBeGreaterThan(2000);
    const now = emulator.clock.seconds();
    const oldest = Math.min(...charges.map((c) => c.created));
    expect(now - oldest).toBeGreaterThan(150 * 86_400);
    for (const path of [
      "/v1/refunds",
      "/v1/disputes",
      "/v1/customers",
      "/v1/application_fees",
      "/v1/issuing/authorizations",
      "/v1/issuing/transactions",
    ])
      expect((await listAll(emulator, path, account)).length, path).toBeGreaterThan(0);
  });

  it("reconciles balance transactions to every automatic payout", async () => {
    const emulator = createEmulator({ seed: "reconcile", accounts: 2, size: "small", rateLimits: false });
    for (const account of emulator.accountIds)
      expect(await checkReconciliation(emulator, account)).toBeGreaterThan(10);
  });

  it("keeps reconciliation for any seed, and for payouts created through the control API", async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 12 }), async (seed) => {
        const emulator = createEmulator({ seed, accounts: 1, size: "tiny", rateLimits: false });
        const account = emulator.accountIds[0]!;
        emulator.control.createCharge(account, "test", { amount: 12_345 });
        const payout = emulator.control.createPayout(account, "test");
        emulator.control.payPayout(payout.id);
        expect(await checkReconciliation(emulator, account)).toBeGreaterThan(0);
        await emulator.close();
      }),
      { numRuns: 15 },
    );
  });
});
