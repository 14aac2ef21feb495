// Many merchants connecting at once (issue 20, item 6): backfills take turns (SYNC_BACKFILLS_AT_ONCE), so
// that hundreds of them do not crowd the database pool and the event loop out from under requests.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { type ConnectWorld, connectAccount, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

/** A Stripe stand-in that answers every read a little late and notes whose credentials asked. */
function slowStandIn(delayMs: number) {
  const reads: string[] = [];
  let server: Server | null = null;
  return {
    reads,
    async start(upstream: string) {
      server = createServer(async (request, response) => {
        const chunks: Buffer[] = [];
        for await (const chunk of request) chunks.push(chunk as Buffer);
        const url = new URL(request.url ?? "/", "http://stand-in");
        if (request.method === "GET") {
          // The per-parent lists (a payout's balance transactions, a fee's refunds) follow READY, slot-free.
          const perParent = url.searchParams.has("payout") || /\/refunds$/.test(url.pathname);
          if (!perParent) reads.push(String(request.headers.authorization));
          await new Promise((resolve) => setTimeout(resolve, delayMs));
        }
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers))
          if (typeof value === "string" && name !== "host") headers.set(name, value);
        const answer = await fetch(new URL(request.url ?? "/", upstream), {
          method: request.method,
          headers,
          body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
        });
        response.writeHead(answer.status, Object.fromEntries(answer.headers));
        response.end(Buffer.from(await answer.arrayBuffer()));
      });
      await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  };
}

describe.each(databaseTargets)("backfill slots on $name", (target) => {
  let world: ConnectWorld | undefined;
  const standIn = slowStandIn(20);
  afterAll(async () => {
    await world?.close();
    await standIn.close();
  });

  it("backfills one connection at a time up to READY with SYNC_BACKFILLS_AT_ONCE=1, and every one of them", async () => {
    world = await startConnectWorld(target, {
      seed: "backfill-slots",
      accounts: 3,
      size: { payouts: 6, chargesPerPayout: 2 },
      env: { SYNC_BACKFILLS_AT_ONCE: "1" },
      apiUrl: (emulatorUrl) => standIn.start(emulatorUrl),
    });
    const org = await world.createConfiguredOrg("Backfill slots");
    standIn.reads.length = 0;
    const rowIds: string[] = [];
    // Each connect returns as soon as its callback is answered: the backfills run behind it.
    for (const accountId of world.emulator.emulator.accountIds)
      rowIds.push((await connectAccount(world, org.apiKey, accountId)).rowId);
    await world.gateway.deps.sync.idle();

    const prisma = world.gateway.deps.db.prisma;
    for (const id of rowIds)
      expect((await prisma.stripeConnection.findUniqueOrThrow({ where: { id } })).status).toBe("READY");
    // Whose reads up to READY came in which order: each connection's form one run, none interleaved.
    const runs = standIn.reads.filter((who, index) => index === 0 || standIn.reads[index - 1] !== who);
    expect(new Set(runs).size).toBe(3);
    expect(runs).toHaveLength(3);
  }, 120_000);
});
