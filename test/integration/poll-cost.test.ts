// What an idle poll of a READY connection costs the database (issue 20, item 6): at 10,000 merchants
// polled every 300 s that is 33 polls a second, so the usual poll — nothing new on Stripe — must be a few
// statements, and still move what a poll moves (lastSyncedAt, the balance's fetchedAt).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConnectWorld, connectAccount, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

/** The statements of one scheduler tick that finds one connection due, and everything it starts. */
async function pollOnce(world: ConnectWorld): Promise<string[]> {
  const statements: string[] = [];
  const stop = world.gateway.deps.db.onQuery((sql) => statements.push(sql));
  try {
    world.clock.advance(301_000);
    await world.gateway.deps.sync.tick();
    await world.gateway.deps.sync.idle();
  } finally {
    stop();
  }
  return statements;
}

describe.each(databaseTargets)("an idle poll on $name", (target) => {
  let world: ConnectWorld;
  let connectionId: string;
  let accountId: string;
  const prisma = () => world.gateway.deps.db.prisma;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, seed: "poll-cost" });
    const org = await world.createConfiguredOrg("Poll cost");
    accountId = world.emulator.emulator.accountIds[0]!;
    connectionId = (await connectAccount(world, org.apiKey, accountId)).rowId;
    await world.gateway.deps.sync.idle();
    await pollOnce(world); // the first run after the backfill links payouts to their balance transactions
  }, 120_000);
  afterAll(() => world?.close());

  it("is a few statements when nothing changed on Stripe, and moves lastSyncedAt and the balance's fetchedAt", async () => {
    const before = await prisma().stripeConnection.findUniqueOrThrow({ where: { id: connectionId } });
    const balanceBefore = await prisma().stripeBalance.findUniqueOrThrow({ where: { connectionId } });
    const changesBefore = await prisma().stripeChange.count();

    const statements = await pollOnce(world);
    // The tick's own 2 (abandoned connects, due connections), then: take the lease with the row, the sync
    // states, credentials and /v1/events, unfinished events, the poll position, the events state,
    // credentials and the balance, READY with the lease released.
    expect(statements.length, statements.join("\n")).toBeLessThanOrEqual(11);

    const after = await prisma().stripeConnection.findUniqueOrThrow({ where: { id: connectionId } });
    expect(after.status).toBe("READY");
    expect(after.lastSyncedAt!.getTime()).toBeGreaterThan(before.lastSyncedAt!.getTime());
    expect(after.nextSyncAt!.getTime()).toBeGreaterThan(before.nextSyncAt!.getTime());
    expect(after.syncLeaseOwner).toBeNull();
    expect(after.eventsPolledUntil!.getTime()).toBeGreaterThan(before.eventsPolledUntil!.getTime());
    const balanceAfter = await prisma().stripeBalance.findUniqueOrThrow({ where: { connectionId } });
    expect(balanceAfter.fetchedAt.getTime()).toBeGreaterThan(balanceBefore.fetchedAt.getTime());
    expect(balanceAfter.raw).toEqual(balanceBefore.raw);
    expect(await prisma().stripeChange.count()).toBe(changesBefore);
  });

  it("stores a balance that moved on Stripe, with its change in the change log", async () => {
    const balanceBefore = await prisma().stripeBalance.findUniqueOrThrow({ where: { connectionId } });
    world.emulator.emulator.control.createPayout(accountId, "test", { amount: 1_234 });
    await pollOnce(world);

    const { apiKey } = await world.gateway.deps.credentials.credentials(connectionId);
    const onStripe = await world.emulator.stripe(apiKey).balance.retrieve();
    const balanceAfter = await prisma().stripeBalance.findUniqueOrThrow({ where: { connectionId } });
    expect(balanceAfter.raw).not.toEqual(balanceBefore.raw);
    expect(balanceAfter.raw).toEqual(JSON.parse(JSON.stringify(onStripe)));
    const changes = await prisma().stripeChange.findMany({
      where: { connectionId, type: "balance.updated" },
    });
    expect(changes.length).toBeGreaterThan(0);
  });
});

describe.each(databaseTargets)("a backfill on $name", (target) => {
  let world: ConnectWorld;
  afterAll(() => world?.close());

  it("renews the sync lease only once it is a quarter old, not after every page", async () => {
    world = await startConnectWorld(target, { accounts: 1, seed: "backfill-cost" });
    const org = await world.createConfiguredOrg("Backfill cost");
    const statements: string[] = [];
    const stop = world.gateway.deps.db.onQuery((sql) => statements.push(sql));
    try {
      await connectAccount(world, org.apiKey, world.emulator.emulator.accountIds[0]!);
      await world.gateway.deps.sync.idle();
    } finally {
      stop();
    }
    const leaseWrites = statements.filter((sql) => /SET "syncLeaseOwner"/.test(sql));
    // Taken and released; the clock stands still, so no page found the lease old enough to renew.
    expect(leaseWrites).toHaveLength(2);
  }, 120_000);
});
