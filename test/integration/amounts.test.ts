import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowId } from "../../src/stripe/resources.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

// Past GraphQL's 32-bit Int (2,147,483,647): a 12-digit IDR amount, and a JPY payout as Japanese
// merchants receive them.
const IDR = 999_999_999_999;
const JPY = 5_000_000_000;

const Amounts = graphql(`
  query Amounts($id: ID!) {
    stripeConnection(id: $id) {
      balance { available { amount currency } pending { amount currency } }
      payouts(first: 100) { edges { node { stripeId amount currency } } }
      charges(first: 100) { edges { node { stripeId amount amountCaptured amountRefunded currency } } }
      balanceTransactions(first: 100) { edges { node { stripeId amount fee net currency } } }
    }
  }
`);

const PayoutAmounts = graphql(`
  query PayoutAmounts($id: ID!) {
    stripeConnection(id: $id) { payouts(first: 100) { edges { node { stripeId amount } } } }
  }
`);

const PayoutCurrencies = graphql(`
  query PayoutCurrencies($id: ID!) {
    stripeConnection(id: $id) { payouts(first: 100) { edges { node { stripeId currency } } } }
  }
`);

const PayoutNodes = graphql(`
  query PayoutNodes($ids: [ID!]!) {
    nodes(ids: $ids) { ... on StripePayout { stripeId amount } }
  }
`);

describe.each(databaseTargets)("amounts past 32 bits on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string; rawId: string };
  let connection: { id: string; rowId: string };
  let account: string;
  let before: { payout: string; charge: string; chargeTransaction: string };

  const prisma = () => world.gateway.deps.db.prisma;
  const control = () => world.emulator.emulator.control;
  const query = async () => {
    const result = await world.gateway.gql(Amounts, { id: connection.id }, org.apiKey);
    expect(result.errors).toBeUndefined();
    return result.data!.stripeConnection!;
  };
  const nodes = <T extends { stripeId: string }>(list: { edges: { node: T }[] }) =>
    new Map(list.edges.map((edge) => [edge.node.stripeId, edge.node]));
  /** The emulator's own copy, read with the official SDK as the connected account. */
  const stripe = () => {
    const keys = world.emulator.emulator.platforms[0]!.keys.test;
    return world.emulator.stripe(keys.secretKey);
  };

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, seed: "amounts" });
    account = world.emulator.emulator.accountIds[0]!;
    // In Stripe before the account connects: the backfill reads them.
    const charge = control().createCharge(account, "test", { amount: IDR, currency: "idr" });
    const payout = control().createPayout(account, "test", { amount: JPY, currency: "jpy" });
    before = {
      payout: payout.id as string,
      charge: charge.id as string,
      chargeTransaction: charge.balance_transaction as string,
    };
    ({ org, connection } = await connectedOrg(world, {
      name: "Amounts",
      accountId: account,
      webhookSigningSecret: WEBHOOK_SECRET,
    }));
  }, 120_000);
  afterAll(() => world?.close());

  it("backfill: payouts, charges, balance transactions and the balance come back exact", async () => {
    const data = await query();
    expect(nodes(data.payouts).get(before.payout)).toEqual({
      stripeId: before.payout,
      amount: JPY,
      currency: "jpy",
    });
    expect(nodes(data.charges).get(before.charge)).toEqual({
      stripeId: before.charge,
      amount: IDR,
      amountCaptured: IDR,
      amountRefunded: 0,
      currency: "idr",
    });
    const expected = await stripe().balanceTransactions.retrieve(
      before.chargeTransaction,
      {},
      { stripeAccount: account },
    );
    expect(expected.net).toBeGreaterThan(2 ** 31);
    expect(nodes(data.balanceTransactions).get(before.chargeTransaction)).toEqual({
      stripeId: before.chargeTransaction,
      amount: IDR,
      fee: expected.fee,
      net: expected.net,
      currency: "idr",
    });
    const balance = await stripe().balance.retrieve({}, { stripeAccount: account });
    const pick = (list: { amount: number; currency: string }[], currency: string) =>
      list.find((entry) => entry.currency === currency);
    expect(pick(data.balance!.pending, "idr")).toEqual({
      amount: pick(balance.pending, "idr")!.amount,
      currency: "idr",
    });
    expect(pick(data.balance!.available, "jpy")).toEqual({ amount: -JPY, currency: "jpy" });
    expect(pick(balance.available, "jpy")!.amount).toBe(-JPY);
  });

  it("webhook: a signed payout.updated carrying such amounts comes back exact", async () => {
    const template = await prisma().stripePayout.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, before.payout) },
    });
    const now = world.clock.seconds();
    for (const [id, amount, currency] of [
      ["po_amounts_webhook_idr", IDR, "idr"],
      ["po_amounts_webhook_jpy", JPY, "jpy"],
    ] as const) {
      const event = makeEvent(
        "payout.updated",
        { ...(template.raw as object), id, amount, currency, status: "in_transit" },
        { account, created: now },
      );
      const posted = await postWebhook(world.gateway.app, org.rawId, JSON.stringify(event), {
        timestamp: now,
      });
      expect(posted).toEqual({ status: 200, json: { received: true, outcome: "applied" } });
    }
    const payouts = nodes((await query()).payouts);
    expect(payouts.get("po_amounts_webhook_idr")).toMatchObject({ amount: IDR, currency: "idr" });
    expect(payouts.get("po_amounts_webhook_jpy")).toMatchObject({ amount: JPY, currency: "jpy" });
  });

  it("poll: changes only /v1/events lists (no webhook endpoint) come back exact after a reconcile", async () => {
    expect(control().info().webhook_endpoints).toEqual([]);
    const payout = control().createPayout(account, "test", { amount: JPY + 1, currency: "jpy" });
    const charge = control().createCharge(account, "test", { amount: IDR - 1, currency: "idr" });
    world.clock.advance(301_000);
    await world.gateway.deps.sync.tick();
    await world.gateway.deps.sync.idle();
    const data = await query();
    expect(nodes(data.payouts).get(payout.id as string)).toMatchObject({ amount: JPY + 1, currency: "jpy" });
    expect(nodes(data.charges).get(charge.id as string)).toMatchObject({
      amount: IDR - 1,
      amountCaptured: IDR - 1,
      currency: "idr",
    });
  });

  it("a stored amount past 2^53 − 1 is a clear error on that amount, never a rounded number", async () => {
    const template = await prisma().stripePayout.findUniqueOrThrow({
      where: { id: rowId(connection.rowId, before.payout) },
    });
    const unsafe = 2n ** 53n + 1n; // 9007199254740993: as a JSON number it would read …992
    const { raw: _raw, id: _id, stripeId: _stripeId, ...columns } = template;
    await prisma().stripePayout.create({
      data: {
        ...columns,
        id: rowId(connection.rowId, "po_amounts_unsafe"),
        stripeId: "po_amounts_unsafe",
        amount: unsafe,
        raw: { id: "po_amounts_unsafe", object: "payout" },
      },
    });

    const listed = await world.gateway.gql(PayoutAmounts, { id: connection.id }, org.apiKey);
    expect(listed.errors).toHaveLength(1);
    const [error] = listed.errors as { message: string; path: (string | number)[]; extensions: object }[];
    expect(error!.message).toBe(
      "This amount (9007199254740993) is beyond ±(2^53 − 1), past what a JSON number holds exactly; it is not sent rounded.",
    );
    expect(error!.extensions).toEqual({ code: "AMOUNT_OUT_OF_RANGE" });
    expect(error!.path.slice(0, 3)).toEqual(["stripeConnection", "payouts", "edges"]);
    expect(error!.path.slice(-2)).toEqual(["node", "amount"]);
    expect(JSON.stringify(listed)).not.toContain("9007199254740992");
    expect(world.gateway.logs()).not.toContain("unexpected error in GraphQL execution");

    // The contract's `amount: SafeInt!` (in non-null edges) carries the error up to the nearest
    // nullable field; every other field of the list, and every other payout by id, is still served.
    const currencies = await world.gateway.gql(PayoutCurrencies, { id: connection.id }, org.apiKey);
    expect(currencies.errors).toBeUndefined();
    const others = currencies.data!.stripeConnection!.payouts.edges.map((edge) => edge.node.stripeId);
    expect(others).toContain("po_amounts_unsafe");
    const ids = others.map((stripeId) => encodeGlobalID("StripePayout", rowId(connection.rowId, stripeId)));
    const byId = await world.gateway.gql(PayoutNodes, { ids }, org.apiKey);
    expect(byId.errors?.map((e) => e.message)).toEqual([error!.message]);
    const served = byId.data!.nodes.filter((node) => node !== null);
    expect(served).toHaveLength(others.length - 1);
    expect(served).toContainEqual({ stripeId: before.payout, amount: JPY });
    expect(byId.data!.nodes[others.indexOf("po_amounts_unsafe")]).toBeNull();
  });
});
