// Application fee refunds, the resource added to prove the registry drives everything: backfilled per
// fee, kept current by webhooks and by the events poller, served as lists on the connection and the fee.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowId } from "../../src/stripe/resources.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const FeeRefunds = graphql(`
  query FeeRefunds($id: ID!) {
    stripeConnection(id: $id) {
      syncStates { resource status objectsSynced }
      applicationFees(first: 100) {
        edges { node { stripeId amountRefunded refunds(first: 100) { edges { node { stripeId amount feeId } } } } }
      }
      applicationFeeRefunds(first: 100) {
        edges { node { id stripeId amount currency feeId balanceTransactionId connectionId raw } }
      }
    }
  }
`);

type Refund = { id: string; amount: number; fee: string; metadata: Record<string, string> };

describe.each(databaseTargets)("application fee refunds on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string; rawId: string };
  let connection: { id: string; rowId: string };
  let server: Server;
  let endpointId: string;
  const control = () => world.emulator.emulator.control;

  /** What Stripe has: each fee of the account, with its refunds, read with the official SDK. */
  async function stripeFees() {
    const { apiKey } = await world.gateway.deps.credentials.credentials(connection.rowId);
    const stripe = world.emulator.stripe(apiKey);
    const fees = new Map<string, { amountRefunded: number; refunds: Refund[] }>();
    for await (const fee of stripe.applicationFees.list({ limit: 100 })) {
      const refunds: Refund[] = [];
      for await (const refund of stripe.applicationFees.listRefunds(fee.id, { limit: 100 }))
        refunds.push(refund as unknown as Refund);
      fees.set(fee.id, { amountRefunded: fee.amount_refunded, refunds });
    }
    return fees;
  }

  const served = async () => {
    const result = await world.gateway.gql(FeeRefunds, { id: connection.id }, org.apiKey);
    expect(result.errors).toBeUndefined();
    return result.data!.stripeConnection!;
  };

  async function settle() {
    await control().flushWebhooks();
    await world.gateway.deps.background.idle();
  }

  beforeAll(async () => {
    world = await startConnectWorld(target, {
      accounts: 1,
      size: { payouts: 30, chargesPerPayout: 6 },
      seed: "fees",
    });
    ({ org, connection } = await connectedOrg(world, {
      name: "Fees",
      webhookSigningSecret: WEBHOOK_SECRET,
    }));
    server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: world.gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(started as Server),
      ) as Server;
    });
    const { port } = server.address() as AddressInfo;
    endpointId = control().addWebhookEndpoint({
      url: `http://127.0.0.1:${port}/stripe/webhooks/${org.rawId}`,
      secret: WEBHOOK_SECRET,
    }).id;
  }, 120_000);
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await world?.close();
  });

  it("backfills every fee's refunds, equal to Stripe's, as a list of the connection and of each fee", async () => {
    const fees = await stripeFees();
    const expected = [...fees.values()].flatMap((fee) => fee.refunds);
    expect(expected.length).toBeGreaterThan(0);
    const data = await served();
    expect(data.syncStates).toContainEqual(
      expect.objectContaining({
        resource: "application_fee_refunds",
        status: "done",
        objectsSynced: expected.length,
      }),
    );
    const listed = data.applicationFeeRefunds.edges.map((edge) => edge.node);
    expect(listed.map((node) => node.stripeId).sort()).toEqual(expected.map((refund) => refund.id).sort());
    const byId = new Map(expected.map((refund) => [refund.id, refund]));
    for (const node of listed) {
      const refund = byId.get(node.stripeId)!;
      expect(node).toMatchObject({ amount: refund.amount, feeId: refund.fee, connectionId: connection.id });
      expect(node.raw).toEqual(refund);
    }
    for (const { node: fee } of data.applicationFees.edges) {
      const atStripe = fees.get(fee.stripeId)!;
      expect(fee.amountRefunded).toBe(atStripe.amountRefunded);
      expect(fee.refunds.edges.map((edge) => edge.node.stripeId).sort()).toEqual(
        atStripe.refunds.map((refund) => refund.id).sort(),
      );
    }
  });

  it("applies a new refund from its fee's application_fee.refunded webhook, and a metadata change from its own", async () => {
    const data = await served();
    const fee = data.applicationFees.edges.find((edge) => edge.node.amountRefunded === 0)!.node;
    world.clock.advance(2_000);
    const refund = control().refundApplicationFee(fee.stripeId, { amount: 1 }) as unknown as Refund;
    await settle();
    const after = await served();
    const refunded = after.applicationFees.edges.find((edge) => edge.node.stripeId === fee.stripeId)!.node;
    expect(refunded.amountRefunded).toBe(1);
    expect(refunded.refunds.edges.map((edge) => edge.node)).toEqual([
      { stripeId: refund.id, amount: 1, feeId: fee.stripeId },
    ]);

    world.clock.advance(2_000);
    control().updateFeeRefund(fee.stripeId, refund.id, { metadata: { reason: "goodwill" } });
    await settle();
    const row = await world.gateway.deps.db.prisma.stripeApplicationFeeRefund.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, refund.id) },
    });
    expect((row.raw as { metadata: Record<string, string> }).metadata).toEqual({ reason: "goodwill" });
    const events = await world.gateway.deps.db.prisma.stripeEvent.findMany({
      where: { connectionId: connection.rowId, type: { startsWith: "application_fee." } },
    });
    expect(events.map((event) => [event.type, event.source, event.appliedAt !== null])).toEqual(
      expect.arrayContaining([
        ["application_fee.refunded", "webhook", true],
        ["application_fee.refund.updated", "webhook", true],
      ]),
    );
  });

  it("finds a refund no webhook announced at the next poll", async () => {
    control().removeWebhookEndpoint(endpointId);
    const data = await served();
    const fee = data.applicationFees.edges.find((edge) => edge.node.amountRefunded === 0)!.node;
    world.clock.advance(2_000);
    const refund = control().refundApplicationFee(fee.stripeId) as unknown as Refund;
    world.clock.advance(301 * 1000);
    await world.gateway.deps.sync.tick();
    await world.gateway.deps.sync.idle();
    const listed = (await served()).applicationFeeRefunds.edges.map((edge) => edge.node.stripeId);
    expect(listed).toContain(refund.id);
  });
});
