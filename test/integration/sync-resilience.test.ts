import { afterEach, describe, expect, it } from "vitest";
import { PERMISSIONS } from "../../src/emulator/types.ts";
import { createSyncScheduler } from "../../src/sync/scheduler.ts";
import { type ConnectWorld, connectAccount, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventually } from "../helpers/eventually.ts";

describe.each(databaseTargets)("sync resilience on $name", (target) => {
  let world: ConnectWorld | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  async function setUp(options: Parameters<typeof startConnectWorld>[1]) {
    world = await startConnectWorld(target, { seed: "resilience", accounts: 1, ...options });
    const org = await world.createConfiguredOrg("Resilience");
    return { world, org, accountId: world.emulator.emulator.accountIds[0]! };
  }

  const state = (w: ConnectWorld, connectionId: string, resource: string) =>
    w.gateway.deps.db.prisma.stripeSyncState.findUnique({
      where: { connectionId_resource: { connectionId, resource } },
    });

  it("rides out a 429 storm and finishes the backfill", async () => {
    const {
      world: w,
      org,
      accountId,
    } = await setUp({ size: "tiny", rateLimits: { test: 4, live: 4 }, retryBaseMs: 100 });
    const { rowId } = await connectAccount(w, org.apiKey, accountId);
    await w.gateway.deps.sync.idle();
    const connection = await w.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: rowId },
    });
    expect(connection.status, connection.lastError ?? "").toBe("READY");
    expect(w.gateway.logs()).toContain("retrying Stripe request");
    const charges = await w.gateway.deps.db.prisma.stripeCharge.count({ where: { connectionId: rowId } });
    expect((await state(w, rowId, "charges"))?.objectsSynced).toBe(charges);
  });

  it("resumes an interrupted backfill from its saved cursor instead of starting over", async () => {
    const { world: w, org, accountId } = await setUp({ size: { payouts: 40, chargesPerPayout: 8 } });
    const { rowId } = await connectAccount(w, org.apiKey, accountId);
    // Stop the instance as soon as the charges backfill has saved a page.
    await eventually(async () => (await state(w, rowId, "charges"))?.cursor, {
      what: "the charges backfill saved a page",
    });
    w.gateway.deps.sync.stop();
    await w.gateway.deps.sync.idle();
    const interrupted = await state(w, rowId, "charges");
    expect(interrupted?.status).toBe("running");
    expect(interrupted?.cursor).toBeTruthy();
    const payoutsBefore = (await state(w, rowId, "payouts"))?.objectsSynced;

    const restarted = createSyncScheduler(w.gateway.deps);
    await restarted.tick();
    await restarted.idle();
    const connection = await w.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: rowId },
    });
    expect(connection.status).toBe("READY");
    const charges = await w.gateway.deps.db.prisma.stripeCharge.count({ where: { connectionId: rowId } });
    const resumed = await state(w, rowId, "charges");
    // Counted once per page fetched: a restart from scratch would count the first pages twice.
    expect(resumed).toMatchObject({ status: "done", objectsSynced: charges });
    expect((await state(w, rowId, "payouts"))?.objectsSynced).toBe(payoutsBefore);
  }, 90_000);

  it("marks a resource without permission as forbidden and still syncs the rest", async () => {
    const { world: w, org, accountId } = await setUp({ size: "tiny" });
    w.emulator.emulator.control.updatePlatform(undefined, {
      permissions: PERMISSIONS.filter((permission) => permission !== "dispute_read"),
    });
    const { rowId } = await connectAccount(w, org.apiKey, accountId);
    await w.gateway.deps.sync.idle();
    const connection = await w.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: rowId },
    });
    expect(connection.status).toBe("READY");
    expect(await state(w, rowId, "disputes")).toMatchObject({ status: "forbidden" });
    expect((await state(w, rowId, "disputes"))?.error).toBeTruthy();
    expect(await state(w, rowId, "payouts")).toMatchObject({ status: "done" });
  });

  it("marks a failing connection UNHEALTHY with the error, and a later run recovers it", async () => {
    const { world: w, org, accountId } = await setUp({ size: "tiny", retryBaseMs: 1 });
    w.emulator.emulator.control.injectFailure({
      kind: "error",
      status: 500,
      count: 100,
      pathPrefix: "/v1/charges",
    });
    const { rowId } = await connectAccount(w, org.apiKey, accountId);
    await w.gateway.deps.sync.idle();
    const failed = await w.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: rowId },
    });
    expect(failed.status).toBe("UNHEALTHY");
    expect(failed.lastError).toBeTruthy();
    expect(await state(w, rowId, "charges")).toMatchObject({
      status: "failed",
      error: expect.stringMatching(/./),
    });
    w.emulator.emulator.control.clearFailures();
    w.clock.advance(10 * 60 * 1000);
    await w.gateway.deps.sync.tick();
    await w.gateway.deps.sync.idle();
    const recovered = await w.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: rowId },
    });
    expect(recovered.status).toBe("READY");
    expect(recovered.lastError).toBeNull();
  });
});
