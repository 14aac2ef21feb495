import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { delegateOf } from "../../src/db/delegate.ts";
import { RESOURCE_BY_KEY, RESOURCES, type ResourceSpec, rowId } from "../../src/stripe/resources.ts";
import { type ConnectWorld, connectAccount, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

type Row = { stripeId: string; raw: unknown; payoutId?: string | null };

describe.each(databaseTargets)("sync on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string; rawId: string };
  const connections: { rowId: string; accountId: string }[] = [];

  const prisma = () => world.gateway.deps.db.prisma;
  const rows = (model: string, connectionId: string) =>
    delegateOf<{ findMany(args: object): Promise<Row[]> }>(prisma(), model).findMany({
      where: { connectionId },
      orderBy: { stripeId: "asc" },
    });

  /** Everything Stripe (the emulator) has for the connection, read with the official SDK. */
  async function listAll(connectionId: string, path: string, params: Record<string, unknown> = {}) {
    const { apiKey } = await world.gateway.deps.credentials.credentials(connectionId);
    const stripe = world.emulator.stripe(apiKey);
    const all: { id: string }[] = [];
    for await (const item of iterate(stripe, path, params, apiKey)) all.push(item);
    return all;
  }

  /** A resource Stripe lists only per parent: every parent's list, for the parents that can have any. */
  async function listPerParent(connectionId: string, resource: ResourceSpec) {
    const { parent, path, params, parentWhere } = resource.perParent!;
    const parents = await listAll(connectionId, RESOURCE_BY_KEY.get(parent)!.list!.path);
    // parentWhere's column filter, as Stripe has it (amount_refunded > 0)
    const withChildren =
      "amountRefunded" in parentWhere
        ? parents.filter((p) => (p as { amount_refunded?: number }).amount_refunded! > 0)
        : parents;
    const all: { id: string }[] = [];
    for (const { id } of withChildren)
      all.push(...(await listAll(connectionId, path(id), params?.(id) ?? {})));
    return all;
  }

  beforeAll(async () => {
    world = await startConnectWorld(target, {
      size: { payouts: 80, chargesPerPayout: 6 },
      accounts: 2,
      seed: "sync-test",
    });
    org = await world.createConfiguredOrg("Sync");
    for (const accountId of world.emulator.emulator.accountIds) {
      const { rowId: id } = await connectAccount(world, org.apiKey, accountId);
      connections.push({ rowId: id, accountId });
    }
    await world.gateway.deps.sync.idle();
  }, 180_000);
  afterAll(() => world?.close());

  it("backfills every resource of several accounts, equal to Stripe's data field by field", async () => {
    let total = 0;
    for (const { rowId: connectionId } of connections) {
      const connection = await prisma().stripeConnection.findUniqueOrThrow({ where: { id: connectionId } });
      expect(connection.status).toBe("READY");
      for (const resource of RESOURCES as readonly ResourceSpec[]) {
        const expected = resource.list
          ? await listAll(connectionId, resource.list.path, resource.list.params ?? {})
          : await listPerParent(connectionId, resource);
        const stored = await rows(resource.model, connectionId);
        expect(
          stored.map((row) => row.stripeId),
          resource.key,
        ).toEqual(expected.map((o) => o.id).sort());
        const byId = new Map(expected.map((object) => [object.id, object]));
        for (const row of stored) expect(row.raw).toEqual(byId.get(row.stripeId));
        total += stored.length;
      }
      const states = await prisma().stripeSyncState.findMany({ where: { connectionId } });
      expect(
        states.every((state) => state.status === "done"),
        JSON.stringify(states),
      ).toBe(true);
      const account = await prisma().stripeAccount.findUniqueOrThrow({ where: { connectionId } });
      expect(account.stripeId).toBe(connection.stripeAccountId);
      expect(await prisma().stripeBalance.findUnique({ where: { connectionId } })).not.toBeNull();
    }
    expect(total).toBeGreaterThan(2000);
  });

  it("links each reconciled payout's balance transactions to it, and they sum to the payout", async () => {
    const { rowId: connectionId } = connections[0]!;
    const payouts = await prisma().stripePayout.findMany({
      where: { connectionId, reconciliationStatus: "completed" },
      take: 5,
    });
    expect(payouts.length).toBeGreaterThan(0);
    for (const payout of payouts) {
      const expected = await listAll(connectionId, "/v1/balance_transactions", { payout: payout.stripeId });
      const linked = await prisma().stripeBalanceTransaction.findMany({
        where: { connectionId, payoutId: payout.stripeId },
      });
      expect(linked.map((txn) => txn.stripeId).sort()).toEqual(expected.map((txn) => txn.id).sort());
      const contributions = linked
        .filter((txn) => txn.type !== "payout")
        .reduce((sum, txn) => sum + txn.net, 0n);
      expect(contributions).toBe(payout.amount);
    }
  });

  it("applies changes missed by webhooks at the next reconcile", async () => {
    const { rowId: connectionId, accountId } = connections[0]!;
    const control = world.emulator.emulator.control;
    // A payout of its own: whether the generated history still has one in flight depends on the hour (UTC).
    const created = control.createPayout(accountId, "test", { amount: 5_000 });
    world.clock.advance(301 * 1000);
    await world.gateway.deps.sync.tick();
    await world.gateway.deps.sync.idle();
    const pending = await prisma().stripePayout.findUniqueOrThrow({
      where: { id: rowId(connectionId, created.id) },
    });
    expect(pending.status).toBe("pending");
    control.payPayout(pending.stripeId);
    const charge = await prisma().stripeCharge.findFirstOrThrow({
      where: { connectionId, refunded: false, amountRefunded: 0n },
    });
    control.refundCharge(charge.stripeId, {});
    world.clock.advance(301 * 1000);
    await world.gateway.deps.sync.tick();
    await world.gateway.deps.sync.idle();

    const paid = await prisma().stripePayout.findUniqueOrThrow({
      where: { id: rowId(connectionId, pending.stripeId) },
    });
    expect(paid.status).toBe("paid");
    const refunded = await prisma().stripeCharge.findUniqueOrThrow({
      where: { id: rowId(connectionId, charge.stripeId) },
    });
    expect(refunded.refunded).toBe(true);
    expect(
      await prisma().stripeRefund.count({ where: { connectionId, chargeId: charge.stripeId } }),
    ).toBeGreaterThan(0);
    const polled = await prisma().stripeEvent.findMany({ where: { connectionId, source: "poll" } });
    expect(polled.map((event) => event.type)).toEqual(
      expect.arrayContaining(["payout.paid", "charge.refunded"]),
    );
    // A second pass finds the same events again and applies nothing twice.
    const before = await prisma().stripeEvent.count({ where: { connectionId } });
    world.clock.advance(301 * 1000);
    await world.gateway.deps.sync.tick();
    await world.gateway.deps.sync.idle();
    expect(await prisma().stripeEvent.count({ where: { connectionId } })).toBe(before);
  });
});

/** Auto-pagination over a list path with the SDK's raw request (the emulator speaks Stripe's protocol). */
async function* iterate(
  stripe: ReturnType<ConnectWorld["emulator"]["stripe"]>,
  path: string,
  params: Record<string, unknown>,
  apiKey: string,
) {
  let startingAfter: string | undefined;
  for (;;) {
    const query = new URLSearchParams({ limit: "100", ...(params as Record<string, string>) });
    if (startingAfter) query.set("starting_after", startingAfter);
    const page = (await stripe.rawRequest("GET", `${path}?${query}`, undefined, { apiKey })) as {
      data: { id: string }[];
      has_more: boolean;
    };
    yield* page.data;
    if (!page.has_more || page.data.length === 0) return;
    startingAfter = page.data.at(-1)!.id;
  }
}
