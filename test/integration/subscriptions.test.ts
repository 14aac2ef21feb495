import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { serve } from "@hono/node-server";
import { print } from "graphql";
import { type Client, createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { attachWebSocket, type WebSocketEndpoint } from "../../src/http/websocket.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { subscribeSSE } from "../helpers/sse.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const PayoutUpdated = graphql(`
  subscription PayoutUpdated($connectionId: ID) {
    payoutUpdated(connectionId: $connectionId) { id stripeId status amount connectionId }
  }
`);

const ChargeUpdated = graphql(`
  subscription ChargeUpdated($connectionId: ID) {
    chargeUpdated(connectionId: $connectionId) { id stripeId status refunded amountRefunded }
  }
`);

const RefundUpdated = graphql(`
  subscription RefundUpdated($connectionId: ID) {
    refundUpdated(connectionId: $connectionId) { id stripeId chargeId }
  }
`);

const DisputeUpdated = graphql(`
  subscription DisputeUpdated($connectionId: ID) {
    disputeUpdated(connectionId: $connectionId) { id stripeId status }
  }
`);

const EventReceived = graphql(`
  subscription EventReceived($connectionId: ID, $types: [String!]) {
    stripeEventReceived(connectionId: $connectionId, types: $types) { id stripeId type source connectionId }
  }
`);

describe.each(databaseTargets.slice(0, 1))("subscriptions on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string; rawId: string };
  let connection: { id: string; rowId: string; account: string };
  let server: Server;
  let websocket: WebSocketEndpoint;
  let port: number;
  const control = () => world.emulator.emulator.control;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 2, seed: "subscriptions" });
    ({ org, connection } = await connectedOrg(world, { name: "Live", webhookSigningSecret: WEBHOOK_SECRET }));
    // The gateway on a real port, so the emulator can deliver webhooks and clients can open WebSockets.
    server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: world.gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(started as Server),
      ) as Server;
    });
    port = (server.address() as AddressInfo).port;
    websocket = attachWebSocket(server, world.gateway.app.graphql, world.gateway.deps);
    control().addWebhookEndpoint({
      url: `http://127.0.0.1:${port}/stripe/webhooks/${org.rawId}`,
      secret: WEBHOOK_SECRET,
    });
  }, 120_000);
  afterAll(async () => {
    await websocket?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await world?.close();
  });

  /** Lets every emulator delivery land and every follow-up finish. */
  async function settle() {
    await control().flushWebhooks();
    await world.gateway.deps.background.idle();
  }

  it("streams a payout's transitions in the order of its events (emulator → webhook → SSE)", async () => {
    const stream = await subscribeSSE(
      world.gateway.app,
      PayoutUpdated,
      { connectionId: connection.id },
      org.apiKey,
    );
    try {
      expect(stream.status).toBe(200);
      const payout = control().createPayout(connection.account, "test", { amount: 4_200 });
      await settle();
      world.clock.advance(2_000);
      control().updatePayout(payout.id, { status: "in_transit" });
      await settle();
      world.clock.advance(2_000);
      control().payPayout(payout.id);
      await settle();

      const statuses: string[] = [];
      while (statuses.at(-1) !== "paid") {
        const { data } = await stream.next();
        expect(data?.payoutUpdated).toMatchObject({
          stripeId: payout.id,
          amount: 4_200,
          connectionId: connection.id,
        });
        if (data!.payoutUpdated.status !== statuses.at(-1)) statuses.push(data!.payoutUpdated.status);
      }
      expect(statuses).toEqual(["pending", "in_transit", "paid"]);
    } finally {
      stream.close();
    }
  });

  it("streams charges, refunds and disputes, and the stored events filtered by type", async () => {
    const charges = await subscribeSSE(world.gateway.app, ChargeUpdated, {}, org.apiKey);
    const refunds = await subscribeSSE(world.gateway.app, RefundUpdated, {}, org.apiKey);
    const disputes = await subscribeSSE(world.gateway.app, DisputeUpdated, {}, org.apiKey);
    const events = await subscribeSSE(
      world.gateway.app,
      EventReceived,
      { connectionId: connection.id, types: ["charge.dispute.*", "refund.created"] },
      org.apiKey,
    );
    try {
      world.clock.advance(2_000);
      const charge = control().createCharge(connection.account, "test", { amount: 9_900 });
      await settle();
      world.clock.advance(2_000);
      control().refundCharge(charge.id, { amount: 1_000 });
      await settle();
      world.clock.advance(2_000);
      const dispute = control().openDispute(charge.id);
      await settle();

      expect((await charges.next()).data?.chargeUpdated).toMatchObject({
        stripeId: charge.id,
        status: "succeeded",
      });
      const refunded = await charges.next();
      expect(refunded.data?.chargeUpdated).toMatchObject({ stripeId: charge.id, amountRefunded: 1_000 });
      expect((await refunds.next()).data?.refundUpdated.chargeId).toBe(charge.id);
      expect((await disputes.next()).data?.disputeUpdated).toMatchObject({ stripeId: dispute.id });
      // charge.succeeded and charge.refunded were stored too, but do not match the filter
      const first = (await events.next()).data?.stripeEventReceived;
      expect(first).toMatchObject({ type: "refund.created", source: "webhook", connectionId: connection.id });
      // opening a dispute records charge.dispute.created and charge.dispute.funds_withdrawn in the same
      // second; Stripe delivers them concurrently, so either may arrive first
      const disputeEvents = [
        (await events.next()).data?.stripeEventReceived.type,
        (await events.next()).data?.stripeEventReceived.type,
      ];
      expect(disputeEvents).toContain("charge.dispute.created");
      expect(disputeEvents.every((type) => type?.startsWith("charge.dispute."))).toBe(true);
    } finally {
      for (const stream of [charges, refunds, disputes, events]) stream.close();
    }
  });

  it("publishes what reconcile finds the same way as webhook updates", async () => {
    const stream = await subscribeSSE(
      world.gateway.app,
      PayoutUpdated,
      { connectionId: connection.id },
      org.apiKey,
    );
    const endpoints = control().info().webhook_endpoints;
    for (const endpoint of endpoints) control().removeWebhookEndpoint(endpoint.id);
    try {
      world.clock.advance(2_000);
      const payout = control().createPayout(connection.account, "test", { amount: 777 });
      world.clock.advance(301_000);
      await world.gateway.deps.sync.tick();
      await world.gateway.deps.sync.idle();
      const { data } = await stream.next();
      expect(data?.payoutUpdated).toMatchObject({ stripeId: payout.id, status: "pending", amount: 777 });
    } finally {
      stream.close();
      control().addWebhookEndpoint({
        url: `http://127.0.0.1:${port}/stripe/webhooks/${org.rawId}`,
        secret: WEBHOOK_SECRET,
      });
    }
  });

  it("refuses at subscribe time another org's connection, for every subscription", async () => {
    const stranger = await world.createOrg("Stranger");
    for (const document of [PayoutUpdated, ChargeUpdated, RefundUpdated, DisputeUpdated, EventReceived]) {
      const stream = await subscribeSSE(
        world.gateway.app,
        document as TypedDocumentNode<unknown, { connectionId: string }>,
        { connectionId: connection.id },
        stranger.apiKey,
      );
      const result = await stream.next();
      stream.close();
      expect(result.errors?.[0]?.message).toBe("No such connection in this org.");
    }
  });

  describe("over WebSocket (graphql-ws)", () => {
    const clients: Client[] = [];
    afterAll(async () => {
      for (const client of clients) await client.dispose();
    });
    const connect = (connectionParams: Record<string, unknown>) => {
      const client = createClient({
        url: `ws://127.0.0.1:${port}/graphql`,
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
        lazy: true,
      });
      clients.push(client);
      return client;
    };

    it("serves subscriptions with the API key in connectionParams", async () => {
      const client = connect({ authorization: `Bearer ${org.apiKey}` });
      const payouts = client.iterate({
        query: print(PayoutUpdated),
        variables: { connectionId: connection.id },
      });
      const events = client.iterate({
        query: print(EventReceived),
        variables: { types: ["payout.updated"] },
      });
      // Messages of one socket are handled concurrently; a query that also reads the database after
      // authenticating is answered once both subscriptions have checked their connection and registered.
      const ready = await client
        .iterate({
          query: "query Ready($id: ID!) { stripeConnection(id: $id) { id } }",
          variables: { id: connection.id },
        })
        .next();
      expect(ready.value?.data).toEqual({ stripeConnection: { id: connection.id } });

      world.clock.advance(2_000);
      const payout = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
        where: { connectionId: connection.rowId, status: "paid" },
      });
      const event = makeEvent(
        "payout.updated",
        { ...(payout.raw as { id: string }), status: "failed" },
        { account: connection.account, created: world.clock.seconds() },
      );
      const posted = await postWebhook(world.gateway.app, org.rawId, JSON.stringify(event), {
        timestamp: world.clock.seconds(),
      });
      expect(posted.status).toBe(200);
      const next = await payouts.next();
      expect(next.value?.data?.payoutUpdated).toMatchObject({ stripeId: payout.stripeId, status: "failed" });
      const received = await events.next();
      expect(received.value?.data?.stripeEventReceived).toMatchObject({
        stripeId: event.id,
        type: "payout.updated",
      });
      await payouts.return?.();
      await events.return?.();
    });

    it("refuses a connection with a missing or unknown API key (4403)", async () => {
      for (const params of [{}, { authorization: "Bearer cgw_nope_nope" }, { authorization: "garbage" }]) {
        const client = connect(params);
        const iterator = client.iterate({ query: print(PayoutUpdated), variables: {} });
        const refusal = await iterator.next().then(
          () => null,
          (error: unknown) => error as { code?: number },
        );
        expect(refusal?.code).toBe(4403);
      }
    });

    it("refuses another org's connection at subscribe time", async () => {
      const stranger = await world.createOrg("WS stranger");
      const client = connect({ authorization: `Bearer ${stranger.apiKey}` });
      const result = await client
        .iterate({ query: print(PayoutUpdated), variables: { connectionId: connection.id } })
        .next();
      expect(result.value?.errors?.[0]?.message).toBe("No such connection in this org.");
    });
  });
});
