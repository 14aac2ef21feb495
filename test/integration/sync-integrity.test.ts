import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { rowId } from "../../src/stripe/resources.ts";
import { createSyncScheduler } from "../../src/sync/scheduler.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import type { Json } from "../helpers/emulator.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const DAY_MS = 24 * 60 * 60 * 1000;

const SyncStatesQuery = graphql(`
  query SyncStates($id: ID!) {
    stripeConnection(id: $id) {
      status lastError lastErrorCode nextSyncAt
      syncStates { resource status objectsSynced objectsSkipped lastSyncedAt error }
    }
  }
`);

const CustomersQuery = graphql(`
  query IntegrityCustomers($id: ID!, $deleted: Boolean) {
    stripeConnection(id: $id) {
      customers(first: 100, deleted: $deleted) { edges { node { stripeId deleted } } }
      subscriptions(first: 100, deleted: true) { edges { node { stripeId status deleted } } }
    }
  }
`);

describe.each(databaseTargets)("synced data stays equal to Stripe's on $name", (target) => {
  let world: ConnectWorld | undefined;
  let proxy: Server | undefined;
  afterEach(async () => {
    await world?.close();
    world = undefined;
    proxy?.closeAllConnections();
    await new Promise((resolve) => (proxy ? proxy.close(resolve) : resolve(null)));
    proxy = undefined;
  });

  async function setUp(options: Parameters<typeof startConnectWorld>[1] = {}) {
    const w = await startConnectWorld(target, { seed: "integrity", accounts: 1, size: "tiny", ...options });
    world = w;
    const {
      org,
      account: accountId,
      connection,
    } = await connectedOrg(w, { name: "Integrity", webhookSigningSecret: WEBHOOK_SECRET });
    const prisma = w.gateway.deps.db.prisma;
    const stored = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } });
    expect(stored.status, stored.lastError ?? "").toBe("READY");
    /** Stripe's events for the account, newest first, read with the official SDK. */
    const stripeEvents = async (limit = 20): Promise<Json[]> => {
      const { apiKey } = await w.gateway.deps.credentials.credentials(connection.rowId);
      return (await w.emulator.stripe(apiKey).events.list({ limit })).data;
    };
    const post = (event: object) =>
      postWebhook(w.gateway.app, org.rawId, JSON.stringify(event), { timestamp: w.clock.seconds() });
    /** What a scheduler's worker does when the next sync is due. */
    const syncWhenDue = async (ms: number) => {
      w.clock.advance(ms);
      await w.gateway.deps.sync.tick();
      await w.gateway.deps.sync.idle();
      await w.gateway.deps.background.idle();
    };
    const apiKey = org.apiKey;
    return { w, org, apiKey, accountId, connection, prisma, stripeEvents, post, syncWhenDue };
  }

  it("applies an event that only /v1/events lists, though a newer webhook came first", async () => {
    const { w, accountId, connection, prisma, stripeEvents, post, syncWhenDue } = await setUp();
    const control = w.emulator.emulator.control;
    const payout = control.createPayout(accountId, "test");
    const charge = await prisma.stripeCharge.findFirstOrThrow({
      where: { connectionId: connection.rowId, disputed: false, status: "succeeded" },
    });
    const dispute = control.openDispute(charge.stripeId);
    await syncWhenDue(301_000);
    expect(
      (await prisma.stripeDispute.findUniqueOrThrow({ where: { id: rowId(connection.rowId, dispute.id) } }))
        .status,
    ).toBe("needs_response");

    // The org's webhook destination sends Charge, Refund and Payout events only: this one is polled.
    control.submitDisputeEvidence(dispute.id);
    w.clock.advance(2000);
    control.payPayout(payout.id as string);
    const [newest] = await stripeEvents(1);
    expect(newest.type).toMatch(/^payout\./);
    expect((await post(newest)).json.outcome).toBe("applied");

    await syncWhenDue(301_000);
    const row = await prisma.stripeDispute.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, dispute.id) },
    });
    expect(row.status).toBe("under_review");
    const events = await stripeEvents(50);
    const stored = await prisma.stripeEvent.findMany({ where: { connectionId: connection.rowId } });
    const storedIds = new Set(stored.map((event) => event.stripeId));
    // Every event Stripe lists since the connection was made is stored, whichever way it came.
    const since = stored.length ? Math.min(...stored.map((event) => event.created.getTime() / 1000)) : 0;
    for (const event of events.filter((e) => e.created >= since)) expect(storedIds).toContain(event.id);
  });

  it("finishes at the next poll an event whose read from Stripe failed after its transaction", async () => {
    const { w, accountId, connection, prisma, post, syncWhenDue } = await setUp({ retryBaseMs: 1 });
    const control = w.emulator.emulator.control;
    const payout = control.createPayout(accountId, "test", { amount: 4321 });
    await syncWhenDue(301_000);
    const stored = await prisma.stripePayout.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, payout.id as string) },
    });
    const account = (await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } }))
      .stripeAccountId;
    // Two versions of one second: the second is a tie, settled by reading the payout — which fails.
    const second = w.clock.seconds();
    const raw = stored.raw as Json;
    expect(
      (await post(makeEvent("payout.updated", { ...raw, status: "paid" }, { account, created: second })))
        .status,
    ).toBe(200);
    control.injectFailure({
      kind: "error",
      status: 500,
      count: 1000,
      pathPrefix: `/v1/payouts/${payout.id}`,
    });
    const tied = makeEvent("payout.updated", { ...raw, status: "in_transit" }, { account, created: second });
    expect((await post(tied)).json.outcome).toBe("applied");
    await w.gateway.deps.background.idle();
    const unsettled = await prisma.stripeEvent.findFirstOrThrow({ where: { stripeId: tied.id } });
    expect(unsettled.appliedAt).toBeNull();

    control.clearFailures();
    await syncWhenDue(301_000);
    const settled = await prisma.stripePayout.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, payout.id as string) },
    });
    const { apiKey: token } = await w.gateway.deps.credentials.credentials(connection.rowId);
    const atStripe = await w.emulator.stripe(token).payouts.retrieve(payout.id as string);
    expect(settled.status).toBe("pending");
    expect(settled.raw).toEqual(JSON.parse(JSON.stringify(atStripe)));
    expect(
      (await prisma.stripeEvent.findFirstOrThrow({ where: { stripeId: tied.id } })).appliedAt,
    ).not.toBeNull();
  });

  it("re-lists every object when the poller is 26 days behind, and syncStates says so", async () => {
    const { w, apiKey, accountId, connection, prisma, syncWhenDue } = await setUp();
    const control = w.emulator.emulator.control;
    const created = control.createPayout(accountId, "test");
    await syncWhenDue(301_000);
    const payout = await prisma.stripePayout.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, created.id as string) },
    });
    control.payPayout(payout.stripeId);
    // Stripe keeps events 30 days: after 31, this change is in no event any more.
    await syncWhenDue(31 * DAY_MS);

    const row = await prisma.stripePayout.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, payout.stripeId) },
    });
    expect(row.status).toBe("paid");
    const result = await w.gateway.gql(SyncStatesQuery, { id: connection.id }, apiKey);
    const states = result.data!.stripeConnection!.syncStates;
    expect(states.find((state) => state.resource === "relist")).toMatchObject({ status: "done" });
    // Counted afresh: every payout Stripe lists was read again.
    expect(states.find((state) => state.resource === "payouts")).toMatchObject({
      status: "done",
      objectsSynced: await prisma.stripePayout.count({ where: { connectionId: connection.rowId } }),
    });
    expect(result.data!.stripeConnection!.status).toBe("READY");

    // 26 days is already past the safe margin.
    await syncWhenDue(26 * DAY_MS);
    const again = await prisma.stripeSyncState.findUniqueOrThrow({
      where: { connectionId_resource: { connectionId: connection.rowId, resource: "relist" } },
    });
    expect(again.objectsSynced).toBe(2);
  });

  it("retries an UNHEALTHY connection with backoff kept in the database, and it recovers under continuous webhooks", async () => {
    // The gateway's clock runs an hour behind the database's: nothing may hinge on `updatedAt`.
    const { w, connection, prisma, post, syncWhenDue } = await setUp({
      clockStart: Date.now() - 60 * 60 * 1000,
      retryBaseMs: 1,
    });
    const control = w.emulator.emulator.control;
    control.injectFailure({ kind: "error", status: 500, count: 10_000, pathPrefix: "/v1/events" });
    await syncWhenDue(301_000);
    const failed = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } });
    expect(failed).toMatchObject({
      status: "UNHEALTHY",
      lastErrorCode: "STRIPE_UNAVAILABLE",
      syncFailures: 1,
    });
    expect(failed.nextSyncAt!.getTime() - failed.lastFailureAt!.getTime()).toBe(30_000);
    // Another instance (a new scheduler) knows the backoff too: nothing runs before it is due.
    const other = createSyncScheduler(w.gateway.deps);
    w.clock.advance(10_000);
    await other.tick();
    await other.idle();
    expect(
      (await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } })).syncFailures,
    ).toBe(1);
    w.clock.advance(21_000);
    await other.tick();
    await other.idle();
    const twice = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } });
    expect(twice.syncFailures).toBe(2);
    expect(twice.nextSyncAt!.getTime() - twice.lastFailureAt!.getTime()).toBe(60_000);

    control.clearFailures();
    const recoveredAt = w.clock.now();
    const template = (
      await prisma.stripePayout.findFirstOrThrow({ where: { connectionId: connection.rowId } })
    ).raw as Json;
    let status = twice.status;
    for (let i = 0; i < 400 && status !== "READY"; i++) {
      // A webhook every 300 ms, as a busy account sends them.
      const event = makeEvent(
        "payout.updated",
        { ...template, description: `update ${i}` },
        { account: twice.stripeAccountId, created: w.clock.seconds() },
      );
      expect((await post(event)).status).toBe(200);
      await syncWhenDue(300);
      status = (await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } })).status;
    }
    expect(status).toBe("READY");
    expect(w.clock.now() - recoveredAt).toBeLessThanOrEqual(61_000);
    const ready = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } });
    expect(ready).toMatchObject({ syncFailures: 0, lastError: null, lastErrorCode: null });
  });

  it("words lastError for people, with a code, and logs the details with the connection id", async () => {
    let failNext: RegExp | null = null;
    const { w, connection, prisma, syncWhenDue } = await setUp({
      beforeStatement: (sql) => {
        if (failNext?.test(sql)) {
          failNext = null;
          throw new Error(
            'PrismaClientKnownRequestError: relation "StripeSyncState" is locked (SQLSTATE 55P03)',
          );
        }
      },
    });
    failNext = /"StripeSyncState"/;
    await syncWhenDue(301_000);
    const failed = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } });
    expect(failed.status).toBe("UNHEALTHY");
    expect(failed.lastErrorCode).toBe("INTERNAL");
    expect(failed.lastError).toMatch(/^The gateway failed while syncing/);
    expect(failed.lastError).not.toMatch(/prisma|sql|relation|StripeSyncState/i);
    const logged = w.gateway
      .logs()
      .split("\n")
      .find((line) => line.includes('"sync failed"'));
    expect(logged).toContain(connection.rowId);
    expect(logged).toContain("SQLSTATE 55P03");
  });

  it("marks deleted customers and ended subscriptions, from webhooks and polls, even without `deleted: true`", async () => {
    const { w, apiKey, connection, prisma, post, syncWhenDue } = await setUp({ size: "small" });
    const control = w.emulator.emulator.control;
    const [polled, hooked] = await prisma.stripeCustomer.findMany({
      where: { connectionId: connection.rowId, deleted: false },
      take: 2,
      orderBy: { stripeId: "asc" },
    });
    control.deleteCustomer(polled!.stripeId);
    const subscription = await prisma.stripeSubscription.findFirstOrThrow({
      where: { connectionId: connection.rowId, status: { not: "canceled" } },
    });
    control.cancelSubscription(subscription.stripeId);
    await syncWhenDue(301_000);

    // A webhook whose object lacks `deleted: true`, then an older update delivered late.
    const deletedAt = w.clock.seconds();
    const account = (await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connection.rowId } }))
      .stripeAccountId;
    expect(
      (await post(makeEvent("customer.deleted", hooked!.raw as Json, { account, created: deletedAt }))).json
        .outcome,
    ).toBe("applied");
    expect(
      (
        await post(
          makeEvent(
            "customer.updated",
            { ...(hooked!.raw as Json), name: "Late" },
            { account, created: deletedAt - 5 },
          ),
        )
      ).json.outcome,
    ).toBe("applied");
    // The same second as the deletion: settled by reading Stripe, which answers the deleted stub.
    await post(
      makeEvent(
        "customer.updated",
        { ...(hooked!.raw as Json), name: "Tie" },
        { account, created: deletedAt },
      ),
    );
    await w.gateway.deps.background.idle();

    const live = await w.gateway.gql(CustomersQuery, { id: connection.id, deleted: false }, apiKey);
    const liveIds = live.data!.stripeConnection!.customers.edges.map((edge) => edge.node.stripeId);
    expect(liveIds).not.toContain(polled!.stripeId);
    expect(liveIds).not.toContain(hooked!.stripeId);
    const gone = await w.gateway.gql(CustomersQuery, { id: connection.id, deleted: true }, apiKey);
    expect(gone.data!.stripeConnection!.customers.edges.map((edge) => edge.node.stripeId).sort()).toEqual(
      [polled!.stripeId, hooked!.stripeId].sort(),
    );
    expect(gone.data!.stripeConnection!.subscriptions.edges.map((edge) => edge.node)).toContainEqual({
      stripeId: subscription.stripeId,
      status: "canceled",
      deleted: true,
    });
    const kept = await prisma.stripeCustomer.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, hooked!.stripeId) },
    });
    expect(kept.deleted).toBe(true);
    expect(kept.created).toEqual(hooked!.created);
  });

  it("stores one row for an object a page lists twice, and skips an unreadable one without failing the resource", async () => {
    const { connection, prisma, w } = await setUp({
      apiUrl: async (emulatorUrl) => {
        proxy = await startPageRewritingProxy(emulatorUrl, "/v1/customers", (page) => {
          if (page.data.length === 0) return page;
          return {
            ...page,
            data: [page.data[0], ...page.data, { object: "customer", email: "no-id@example.com" }],
          };
        });
        return `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      },
    });
    const state = await prisma.stripeSyncState.findUniqueOrThrow({
      where: { connectionId_resource: { connectionId: connection.rowId, resource: "customers" } },
    });
    const stored = await prisma.stripeCustomer.count({ where: { connectionId: connection.rowId } });
    expect(state.status).toBe("done");
    expect(state.objectsSkipped).toBeGreaterThanOrEqual(1);
    expect(state.objectsSynced).toBe(stored);
    expect(stored).toBeGreaterThan(0);
    expect(w.gateway.logs()).toContain("skipped a Stripe object the gateway cannot read");
  });
});

/** A Stripe stand-in in front of the emulator that rewrites the list pages of one path. */
function startPageRewritingProxy(
  upstream: string,
  path: string,
  rewrite: (page: { data: Json[]; has_more: boolean }) => object,
): Promise<Server> {
  const server = createServer(async (request, response) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const headers = new Headers();
    for (const [name, value] of Object.entries(request.headers))
      if (typeof value === "string" && name !== "host" && name !== "content-length") headers.set(name, value);
    const answer = await fetch(`${upstream}${request.url}`, {
      method: request.method,
      headers,
      body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    let body = await answer.text();
    if (request.method === "GET" && request.url?.split("?")[0] === path && answer.ok)
      body = JSON.stringify(rewrite(JSON.parse(body)));
    response.writeHead(answer.status, { "content-type": "application/json" });
    response.end(body);
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}
