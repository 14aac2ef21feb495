import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RESOURCES, type ResourceSpec } from "../../src/stripe/resources.ts";
import { createSyncScheduler } from "../../src/sync/scheduler.ts";
import { type ConnectWorld, connectAccount, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventually } from "../helpers/eventually.ts";

// The backfill's order and cost, seen from a Stripe stand-in in front of the emulator: every top-level
// list first and at once within the budget, READY, then the per-parent lists newest parents first.

const LIST_PATHS = new Set(
  (RESOURCES as readonly ResourceSpec[]).flatMap((resource) => (resource.list ? [resource.list.path] : [])),
);
const FEE_REFUNDS = /^\/v1\/application_fees\/([^/]+)\/refunds$/;
/** How far from its newest-first place a parent's request may arrive (the parents in flight at once). */
const IN_FLIGHT = 4;

type Call = { path: string; query: URLSearchParams; kind: "list" | "payout" | "fee" | "other" };

function kindOf(path: string, query: URLSearchParams): Call["kind"] {
  if (path === "/v1/balance_transactions" && query.has("payout")) return "payout";
  if (FEE_REFUNDS.test(path)) return "fee";
  return LIST_PATHS.has(path) ? "list" : "other";
}

/** Records every call (in arrival order), holds per-parent ones while `gate` is shut, slows list pages. */
class StandIn {
  calls: Call[] = [];
  inFlightLists = new Map<string, number>();
  /** The most distinct top-level lists that had a request in flight at one moment. */
  maxListsInFlight = 0;
  listDelayMs = 0;
  private gate: Promise<void> | null = null;
  private open: (() => void) | null = null;
  server: Server | null = null;

  shut() {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }
  release() {
    this.open?.();
    this.gate = null;
  }

  async start(upstream: string): Promise<string> {
    this.server = createServer(async (request, response) => {
      const url = new URL(request.url ?? "/", "http://stand-in");
      const call: Call = { path: url.pathname, query: url.searchParams, kind: "other" };
      call.kind = kindOf(call.path, call.query);
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      // Reads only: the token calls of a Stripe App connection (POSTs) are not the backfill's.
      if (request.method === "GET") this.calls.push(call);
      else call.kind = "other";
      if (call.kind === "list" && request.method === "GET") {
        this.inFlightLists.set(call.path, (this.inFlightLists.get(call.path) ?? 0) + 1);
        this.maxListsInFlight = Math.max(this.maxListsInFlight, this.inFlightLists.size);
      }
      try {
        if ((call.kind === "payout" || call.kind === "fee") && this.gate) await this.gate;
        const headers = new Headers();
        for (const [name, value] of Object.entries(request.headers))
          if (typeof value === "string" && name !== "host" && name !== "content-length")
            headers.set(name, value);
        const answer = await fetch(`${upstream}${request.url}`, {
          method: request.method,
          headers,
          body: chunks.length ? Buffer.concat(chunks) : undefined,
        });
        const body = await answer.text();
        if (call.kind === "list" && this.listDelayMs)
          await new Promise((resolve) => setTimeout(resolve, this.listDelayMs));
        response.writeHead(answer.status, { "content-type": "application/json" });
        response.end(body);
      } finally {
        if (call.kind === "list" && request.method === "GET") {
          const left = this.inFlightLists.get(call.path)! - 1;
          if (left === 0) this.inFlightLists.delete(call.path);
          else this.inFlightLists.set(call.path, left);
        }
      }
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Parent ids in the order their first request arrived. */
  parentsRequested(kind: "payout" | "fee", from = 0): string[] {
    const ids = this.calls
      .slice(from)
      .filter((call) => call.kind === kind)
      .map((call) => (kind === "payout" ? call.query.get("payout")! : FEE_REFUNDS.exec(call.path)![1]!));
    return [...new Set(ids)];
  }

  close() {
    this.release();
    return new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

describe.each(databaseTargets)("backfill order and cost on $name", (target) => {
  let world: ConnectWorld | undefined;
  let standIn: StandIn;
  afterEach(async () => {
    await world?.close();
    await standIn?.close();
    world = undefined;
  });

  async function setUp() {
    standIn = new StandIn();
    world = await startConnectWorld(target, {
      seed: "backfill-order",
      accounts: 1,
      size: { payouts: 30, chargesPerPayout: 8 },
      apiUrl: (emulatorUrl) => standIn.start(emulatorUrl),
    });
    const org = await world.createConfiguredOrg("Backfill order");
    // setStripeConfig checked the platform key with GET /v1/account: not the backfill's.
    standIn.calls = [];
    return { w: world, org, accountId: world.emulator.emulator.accountIds[0]! };
  }

  const states = async (w: ConnectWorld, connectionId: string) =>
    new Map(
      (await w.gateway.deps.db.prisma.stripeSyncState.findMany({ where: { connectionId } })).map((state) => [
        state.resource,
        state,
      ]),
    );

  /** The parents the per-parent lists walk, newest first (as Stripe's lists order them). */
  async function newestFirst(w: ConnectWorld, connectionId: string) {
    const prisma = w.gateway.deps.db.prisma;
    const order = [{ created: "desc" as const }, { stripeId: "desc" as const }];
    const payouts = await prisma.stripePayout.findMany({
      where: { connectionId, reconciliationStatus: "completed" },
      orderBy: order,
      select: { stripeId: true },
    });
    const fees = await prisma.stripeApplicationFee.findMany({
      where: { connectionId, amountRefunded: { gt: 0 } },
      orderBy: order,
      select: { stripeId: true },
    });
    return { payouts: payouts.map((p) => p.stripeId), fees: fees.map((f) => f.stripeId) };
  }

  /** Every id requested within IN_FLIGHT places of where newest-first puts it, each exactly once. */
  function expectNewestFirst(requested: string[], expected: string[]) {
    expect([...requested].sort()).toEqual([...expected].sort());
    requested.forEach((id, at) => {
      expect(Math.abs(expected.indexOf(id) - at), `${id} requested ${at}th`).toBeLessThan(IN_FLIGHT);
    });
  }

  it("is READY once every top-level list is stored; payout links and fee refunds fill in after, newest first, with events polled meanwhile", async () => {
    const { w, org, accountId } = await setUp();
    standIn.shut();
    const { rowId } = await connectAccount(w, org.apiKey, accountId);
    const prisma = w.gateway.deps.db.prisma;

    // The per-parent requests are held at the stand-in: the connection gets READY all the same.
    await eventually(
      async () =>
        (await prisma.stripeConnection.findUniqueOrThrow({ where: { id: rowId } })).status === "READY",
      { what: "the connection is READY" },
    );
    await eventually(() => standIn.calls.some((call) => call.kind === "payout"), {
      what: "the link phase asked for a payout's balance transactions",
    });
    const during = await states(w, rowId);
    for (const resource of RESOURCES as readonly ResourceSpec[]) {
      if (resource.list) expect(during.get(resource.key)?.status, resource.key).toBe("done");
    }
    expect(during.get("account")?.status).toBe("done");
    expect(during.get("balance")?.status).toBe("done");
    expect(during.get("payout_transactions")).toMatchObject({ status: "running", objectsSynced: 0 });
    expect(during.get("application_fee_refunds")).toMatchObject({ status: "running", objectsSynced: 0 });
    expect(await prisma.stripeBalanceTransaction.count({ where: { connectionId: rowId } })).toBeGreaterThan(
      0,
    );
    expect(
      await prisma.stripeBalanceTransaction.count({
        where: { connectionId: rowId, payoutId: { not: null } },
      }),
    ).toBe(0);
    // Every list page came before the first per-parent request.
    const firstParent = standIn.calls.findIndex((call) => call.kind === "payout" || call.kind === "fee");
    expect(standIn.calls.slice(firstParent).some((call) => call.kind === "list")).toBe(false);

    // A change at Stripe while the links fill in: the poller, due again, applies it meanwhile.
    const charge = w.emulator.emulator.control.createCharge(accountId, "test", { amount: 4321 }) as {
      id: string;
    };
    w.clock.advance(301_000);
    standIn.release();
    await w.gateway.deps.sync.idle();

    const after = await states(w, rowId);
    const linked = await prisma.stripeBalanceTransaction.count({
      where: { connectionId: rowId, payoutId: { not: null } },
    });
    expect(linked).toBeGreaterThan(0);
    expect(after.get("payout_transactions")).toMatchObject({ status: "done", objectsSynced: linked });
    const refunds = await prisma.stripeApplicationFeeRefund.count({ where: { connectionId: rowId } });
    expect(after.get("application_fee_refunds")).toMatchObject({ status: "done", objectsSynced: refunds });
    expect(await prisma.stripeCharge.count({ where: { connectionId: rowId, stripeId: charge.id } })).toBe(1);
    const connection = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: rowId } });
    expect(connection.status, connection.lastError ?? "").toBe("READY");

    const expected = await newestFirst(w, rowId);
    expect(expected.payouts.length).toBeGreaterThan(IN_FLIGHT);
    expectNewestFirst(standIn.parentsRequested("payout"), expected.payouts);
    expectNewestFirst(standIn.parentsRequested("fee"), expected.fees);
  }, 90_000);

  it("lists every resource at once within the budget, 100 a page, in exactly pages + parents requests", async () => {
    const { w, org, accountId } = await setUp();
    // Pages that take a while to answer: sequential lists would have one in flight at a time.
    standIn.listDelayMs = 150;
    const { rowId } = await connectAccount(w, org.apiKey, accountId);
    await w.gateway.deps.sync.idle();
    const prisma = w.gateway.deps.db.prisma;
    const connection = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: rowId } });
    expect(connection.status, connection.lastError ?? "").toBe("READY");
    expect(standIn.maxListsInFlight).toBeGreaterThanOrEqual(3);

    const pages = (count: number) => Math.max(1, Math.ceil(count / 100));
    const synced = await states(w, rowId);
    let listPages = 0;
    for (const resource of RESOURCES as readonly ResourceSpec[]) {
      if (!resource.list) continue;
      const count = synced.get(resource.key)!.objectsSynced;
      const requested = standIn.calls.filter(
        (call) => call.kind === "list" && call.path === resource.list!.path,
      );
      expect(requested.length, resource.key).toBe(pages(count));
      listPages += requested.length;
    }
    const expected = await newestFirst(w, rowId);
    let payoutPages = 0;
    for (const payoutId of expected.payouts)
      payoutPages += pages(
        await prisma.stripeBalanceTransaction.count({ where: { connectionId: rowId, payoutId } }),
      );
    let feePages = 0;
    for (const feeId of expected.fees)
      feePages += pages(
        await prisma.stripeApplicationFeeRefund.count({ where: { connectionId: rowId, feeId } }),
      );
    expect(standIn.calls.filter((call) => call.kind === "payout")).toHaveLength(payoutPages);
    expect(standIn.calls.filter((call) => call.kind === "fee")).toHaveLength(feePages);
    // The rest: each singleton once, one page of events; nothing else.
    expect(
      standIn.calls
        .filter((call) => call.kind === "other")
        .map((call) => call.path)
        .sort(),
    ).toEqual(["/v1/account", "/v1/balance", "/v1/events"]);
    expect(standIn.calls).toHaveLength(listPages + payoutPages + feePages + 3);
    for (const call of standIn.calls) {
      if (call.kind !== "other" || call.path === "/v1/events")
        expect(call.query.get("limit"), `${call.path}?${call.query}`).toBe("100");
    }
  }, 90_000);

  it("resumes the link phase after a stop from its newest-first cursor, redoing and counting nothing twice", async () => {
    const { w, org, accountId } = await setUp();
    const { rowId } = await connectAccount(w, org.apiKey, accountId);
    const prisma = w.gateway.deps.db.prisma;
    const linkState = () =>
      prisma.stripeSyncState.findUnique({
        where: { connectionId_resource: { connectionId: rowId, resource: "payout_transactions" } },
      });
    await eventually(async () => (await linkState())?.cursor, { what: "the link phase saved a cursor" });
    w.gateway.deps.sync.stop();
    await w.gateway.deps.sync.idle();
    const stopped = await linkState();
    expect(stopped?.status).toBe("running");
    expect((await prisma.stripeConnection.findUniqueOrThrow({ where: { id: rowId } })).status).toBe("READY");

    const expected = await newestFirst(w, rowId);
    const doneUpTo = expected.payouts.indexOf(stopped!.cursor!.split("|")[1]!);
    expect(doneUpTo).toBeGreaterThanOrEqual(0);
    expect(doneUpTo).toBeLessThan(expected.payouts.length - 1);
    const callsBefore = standIn.calls.length;

    // A later run of the READY connection (its next poll) finishes what the first one left.
    w.clock.advance(301_000);
    const restarted = createSyncScheduler(w.gateway.deps);
    await restarted.tick();
    await restarted.idle();
    const linked = await prisma.stripeBalanceTransaction.count({
      where: { connectionId: rowId, payoutId: { not: null } },
    });
    expect(await linkState()).toMatchObject({ status: "done", objectsSynced: linked, cursor: null });
    // Only the payouts after the cursor were asked for again, newest first.
    expectNewestFirst(standIn.parentsRequested("payout", callsBefore), expected.payouts.slice(doneUpTo + 1));
    for (const payoutId of expected.payouts) {
      const { apiKey } = await w.gateway.deps.credentials.credentials(rowId);
      const atStripe = (await w.emulator
        .stripe(apiKey)
        .rawRequest("GET", `/v1/balance_transactions?payout=${payoutId}&limit=100`)) as unknown as {
        data: { id: string }[];
      };
      const stored = await prisma.stripeBalanceTransaction.findMany({
        where: { connectionId: rowId, payoutId },
        select: { stripeId: true },
      });
      expect(stored.map((txn) => txn.stripeId).sort(), payoutId).toEqual(
        atStripe.data.map((t) => t.id).sort(),
      );
    }
  }, 90_000);
});
