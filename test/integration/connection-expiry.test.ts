// Connections that clean up: a PENDING connection nobody came back to becomes EXPIRED once its connect
// link has expired, announced like any status change; lists hide it unless asked; a reconnect revives it.
import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STATE_LIFETIME_MS } from "../../src/connections/lifecycle.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectedOrg, StartConnection, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { subscribeSSE } from "../helpers/sse.ts";

const Listed = graphql(`
  query ListedConnections($status: [StripeConnectionStatus!], $first: Int) {
    stripeConnections(status: $status, first: $first) {
      totalCount
      edges { node { id status lastError lastErrorCode } }
    }
  }
`);

const CountOnly = graphql(`
  query CountedConnections($status: [StripeConnectionStatus!]) {
    stripeConnections(status: $status) { totalCount }
  }
`);

const Updates = graphql(`
  subscription ExpiryUpdates { connectionUpdated { id status lastErrorCode } }
`);

describe.each(databaseTargets)("abandoned connections expire on $name", (target) => {
  let world: ConnectWorld;
  const tick = async () => {
    await world.gateway.deps.sync.tick();
    await world.gateway.deps.sync.idle();
  };
  const statusOf = async (rowId: string) =>
    (await world.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({ where: { id: rowId } })).status;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 2, seed: "expiry" });
  }, 120_000);
  afterAll(() => world?.close());

  async function start(apiKey: string, reconnectConnectionId?: string) {
    const result = await world.gateway.gql(StartConnection, { input: { reconnectConnectionId } }, apiKey);
    const started = result.data?.startStripeConnection;
    if (started?.__typename !== "StartStripeConnectionSuccess") throw new Error(JSON.stringify(result));
    return started;
  }

  it("marks a PENDING connection EXPIRED once its link expired, tells subscribers, and hides it from lists", async () => {
    const { apiKey, connection: ready } = await connectedOrg(world, { name: "Expiring" });
    const stream = await subscribeSSE(world.gateway.app, Updates, {}, apiKey);
    try {
      const abandoned = await start(apiKey);
      // The merchant got as far as Stripe's consent page, and came back too late.
      const atStripe = await fetch(abandoned.authorizationUrl, { redirect: "manual" });
      const lateCallback = atStripe.headers.get("location")!;

      const rowId = decodeGlobalID(abandoned.connection.id).id;
      world.clock.advance(STATE_LIFETIME_MS - 60_000);
      await tick();
      expect(await statusOf(rowId)).toBe("PENDING");

      world.clock.advance(2 * 60_000);
      await tick();
      expect(await statusOf(rowId)).toBe("EXPIRED");
      expect(await statusOf(ready.rowId)).toBe("READY");
      let update = await stream.next();
      while (update.data?.connectionUpdated.status !== "EXPIRED") update = await stream.next();
      expect(update.data.connectionUpdated).toEqual({
        id: abandoned.connection.id,
        status: "EXPIRED",
        lastErrorCode: "EXPIRED",
      });

      const listed = await world.gateway.gql(Listed, {}, apiKey);
      expect(listed.data?.stripeConnections.edges.map((e) => e.node.id)).toEqual([ready.id]);
      expect(listed.data?.stripeConnections.totalCount).toBe(1);
      const expired = await world.gateway.gql(Listed, { status: ["EXPIRED"] }, apiKey);
      expect(expired.data?.stripeConnections).toMatchObject({
        totalCount: 1,
        edges: [{ node: { id: abandoned.connection.id, status: "EXPIRED", lastErrorCode: "EXPIRED" } }],
      });
      const both = await world.gateway.gql(CountOnly, { status: ["READY", "EXPIRED"] }, apiKey);
      expect(both.data?.stripeConnections.totalCount).toBe(2);

      // A late return still reads "expired_state", and the connection stays EXPIRED.
      const late = await world.gateway.app.fetch(new Request(lateCallback));
      expect(late.status).toBe(400);
      expect(await late.text()).toContain("This connect link has expired");
      expect(await statusOf(rowId)).toBe("EXPIRED");
    } finally {
      stream.close();
    }
  });

  it("reconnecting an EXPIRED connection makes it PENDING again, and it connects", async () => {
    const org = await world.createConfiguredOrg("Revived");
    const abandoned = await start(org.apiKey);
    world.clock.advance(STATE_LIFETIME_MS + 1_000);
    await tick();
    const row = await world.gateway.deps.db.prisma.stripeConnection.findFirstOrThrow({
      where: { orgId: org.rawId },
    });
    expect(row.status).toBe("EXPIRED");

    const again = await start(org.apiKey, abandoned.connection.id);
    expect(again.connection).toMatchObject({ id: abandoned.connection.id, status: "PENDING" });
    await tick(); // its new link is live: not expired again
    expect(await statusOf(row.id)).toBe("PENDING");
    world.emulator.emulator.control.setNextAccount(world.emulator.emulator.accountIds[1]!);
    try {
      const atStripe = await fetch(again.authorizationUrl, { redirect: "manual" });
      const back = await world.gateway.app.fetch(new Request(atStripe.headers.get("location")!));
      expect(back.status).toBe(200);
    } finally {
      world.emulator.emulator.control.setNextAccount(null);
    }
    await world.gateway.deps.sync.idle();
    expect(await statusOf(row.id)).toBe("READY");
    const listed = await world.gateway.gql(Listed, {}, org.apiKey);
    expect(listed.data?.stripeConnections.edges.map((e) => e.node.id)).toEqual([abandoned.connection.id]);
  });

  it("keeps the reason of a declined authorization, and never expires a connection that has a grant", async () => {
    const { apiKey, connection } = await connectedOrg(world, { name: "Declined" });
    const control = world.emulator.emulator.control;
    control.setOAuthDecision("deny");
    try {
      const declined = await start(apiKey);
      const atStripe = await fetch(declined.authorizationUrl, { redirect: "manual" });
      await world.gateway.app.fetch(new Request(atStripe.headers.get("location")!));
    } finally {
      control.setOAuthDecision("approve");
    }
    // A reconnect of a READY connection that is never completed leaves it READY.
    await start(apiKey, connection.id);
    world.clock.advance(STATE_LIFETIME_MS + 1_000);
    await tick();
    const expired = await world.gateway.gql(Listed, { status: ["EXPIRED"] }, apiKey);
    expect(expired.data?.stripeConnections.edges).toEqual([
      {
        node: expect.objectContaining({
          status: "EXPIRED",
          lastError: expect.stringContaining("access_denied"),
        }),
      },
    ]);
    expect(await statusOf(connection.rowId)).toBe("READY");
  });
});
