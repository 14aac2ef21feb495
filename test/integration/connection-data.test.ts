import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RESOURCE_BY_KEY } from "../../src/stripe/resources.ts";
import { upsertObjects } from "../../src/sync/upsert.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectAccount, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

const Payouts = graphql(`
  query Payouts($id: ID!, $first: Int, $after: String, $status: [String!], $created: DateTimeRange, $arrivalDate: DateTimeRange, $txns: Int) {
    stripeConnection(id: $id) {
      payouts(first: $first, after: $after, status: $status, created: $created, arrivalDate: $arrivalDate) {
        edges {
          cursor
          node {
            id stripeId connectionId amount currency status arrivalDate created reconciliationStatus
            balanceTransactions(first: $txns) { edges { node { stripeId net type payoutId } } pageInfo { hasNextPage } }
          }
        }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
`);

const Overview = graphql(`
  query Overview($id: ID!) {
    stripeConnection(id: $id) {
      account { stripeId businessName country defaultCurrency chargesEnabled payoutsEnabled }
      balance { available { amount currency } pending { amount currency } instantAvailable { amount currency } connectReserved { amount currency } fetchedAt }
      syncStates { resource status objectsSynced lastSyncedAt error }
      charges(first: 3) { edges { cursor node { id stripeId amount amountRefunded refunded refunds(first: 10) { edges { node { stripeId amount chargeId } } } } } }
      refunds(first: 1) { edges { node { stripeId chargeId } } }
      disputes(first: 1) { edges { node { stripeId status reason evidenceDueBy } } }
      balanceTransactions(first: 1, type: ["charge"]) { edges { node { stripeId type fee net } } }
      customers(first: 1) { edges { node { stripeId email deleted } } }
      subscriptions(first: 1) { edges { node { stripeId status } } }
      applicationFees(first: 1) { edges { node { stripeId amount } } }
      issuingAuthorizations(first: 1) { edges { node { stripeId approved } } }
      issuingTransactions(first: 1) { edges { node { stripeId type } } }
      events(first: 1) { edges { node { stripeId type source } } }
    }
  }
`);

const NodeLookup = graphql(`
  query NodeLookup($id: ID!) { node(id: $id) { id ... on StripePayout { stripeId amount } } }
`);

describe.each(databaseTargets)("StripeConnection data on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string };
  let connection: { id: string; rowId: string };

  const payouts = (
    variables: Parameters<typeof world.gateway.gql<unknown, unknown>>[1] & object,
    key = org.apiKey,
  ) => world.gateway.gql(Payouts, { id: connection.id, ...(variables as object) }, key);

  beforeAll(async () => {
    world = await startConnectWorld(target, { size: "small", accounts: 2, seed: "data-test" });
    ({ org, connection } = await connectedOrg(world, { name: "Data" }));
  }, 120_000);
  afterAll(() => world?.close());

  it("serves every data field of a connection from the database", async () => {
    const result = await world.gateway.gql(Overview, { id: connection.id }, org.apiKey);
    expect(result.errors).toBeUndefined();
    const data = result.data!.stripeConnection!;
    expect(data.account?.stripeId).toBe(world.emulator.emulator.accountIds[0]);
    expect(data.balance?.available.length).toBeGreaterThan(0);
    expect(data.syncStates.map((state) => state.resource)).toEqual(
      expect.arrayContaining([
        "payouts",
        "charges",
        "balance_transactions",
        "payout_transactions",
        "account",
        "events",
      ]),
    );
    expect(data.syncStates.every((state) => state.status === "done")).toBe(true);
    for (const list of [
      data.charges,
      data.refunds,
      data.disputes,
      data.balanceTransactions,
      data.customers,
      data.subscriptions,
      data.applicationFees,
      data.issuingAuthorizations,
      data.issuingTransactions,
    ]) {
      expect(list.edges.length).toBeGreaterThan(0);
    }
    expect(data.balanceTransactions.edges[0]!.node.type).toBe("charge");
  });

  it("costs the same number of SQL statements for payouts(first: 100) as for first: 10, nested lists included", async () => {
    const count = async (first: number) => {
      const statements: string[] = [];
      // The lists' statements: credential and ownership lookups come from the cache, or not, by age.
      const stop = world.gateway.deps.db.onQuery((sql) => {
        if (/"Stripe(Payout|BalanceTransaction)"/.test(sql)) statements.push(sql);
      });
      const result = await payouts({ first, txns: 5 });
      stop();
      expect(result.errors).toBeUndefined();
      return { statements: statements.length, payouts: result.data!.stripeConnection!.payouts.edges };
    };
    const ten = await count(10);
    const hundred = await count(100);
    expect(hundred.payouts.length).toBeGreaterThan(10);
    expect(hundred.payouts.some((edge) => edge.node.balanceTransactions.edges.length > 0)).toBe(true);
    expect(hundred.statements).toBe(ten.statements);
    expect(ten.statements).toBe(2);
  });

  it("pages through every payout exactly once, newest first", async () => {
    const seen: { stripeId: string; created: string }[] = [];
    let after: string | null = null;
    for (;;) {
      const result = await payouts({ first: 7, after });
      const page = result.data!.stripeConnection!.payouts;
      seen.push(...page.edges.map((edge) => edge.node));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const stored = await world.gateway.deps.db.prisma.stripePayout.findMany({
      where: { connectionId: connection.rowId },
    });
    expect(seen.map((p) => p.stripeId).sort()).toEqual(stored.map((p) => p.stripeId).sort());
    expect(new Set(seen.map((p) => p.stripeId)).size).toBe(seen.length);
    const times = seen.map((p) => Date.parse(p.created));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it("filters by status and date ranges, and links balance transactions to their payout", async () => {
    const paid = await payouts({ first: 100, status: ["paid"], txns: 100 });
    const edges = paid.data!.stripeConnection!.payouts.edges;
    expect(edges.length).toBeGreaterThan(0);
    expect(edges.every((edge) => edge.node.status === "paid")).toBe(true);
    const reconciled = edges.find((edge) => edge.node.reconciliationStatus === "completed")!.node;
    expect(
      reconciled.balanceTransactions.edges.every((edge) => edge.node.payoutId === reconciled.stripeId),
    ).toBe(true);
    const net = reconciled.balanceTransactions.edges
      .filter((edge) => edge.node.type !== "payout")
      .reduce((sum, edge) => sum + edge.node.net, 0);
    expect(net).toBe(reconciled.amount);

    const middle = edges[Math.floor(edges.length / 2)]!.node.created;
    const older = await payouts({ first: 100, created: { lte: middle } });
    const olderEdges = older.data!.stripeConnection!.payouts.edges;
    expect(olderEdges.length).toBeGreaterThan(0);
    expect(olderEdges.every((edge) => Date.parse(edge.node.created) <= Date.parse(middle))).toBe(true);
    const arriving = await payouts({ first: 100, arrivalDate: { gte: middle } });
    expect(
      arriving.data!.stripeConnection!.payouts.edges.every(
        (e) => Date.parse(e.node.arrivalDate) >= Date.parse(middle),
      ),
    ).toBe(true);
  });

  it("refuses bad paging and ranges with a clear error, before querying payouts", async () => {
    const statements: string[] = [];
    const stop = world.gateway.deps.db.onQuery((sql) => statements.push(sql));
    const charges = await world.gateway.gql(Overview, { id: connection.id }, org.apiKey);
    const chargeCursor = charges.data!.stripeConnection!.charges.edges[0]!.cursor;
    const other = await connectAccount(world, org.apiKey, world.emulator.emulator.accountIds[1]!);
    await world.gateway.deps.sync.idle();
    const otherCursor = (await world.gateway.gql(Payouts, { id: other.id, first: 1 }, org.apiKey)).data!
      .stripeConnection!.payouts.edges[0]!.cursor;
    statements.length = 0;
    const cases: [object, RegExp][] = [
      [{ first: 101 }, /between 0 and 100/],
      [{ first: -1 }, /must be a non-negative/],
      [{ first: 5, after: "not-a-cursor" }, /Invalid cursor/],
      [{ first: 5, after: chargeCursor }, /belongs to another list/],
      [{ first: 5, after: otherCursor }, /belongs to another list/],
      [
        { first: 5, created: { gte: "2026-02-01T00:00:00Z", lte: "2026-01-01T00:00:00Z" } },
        /gte .* is after lte/,
      ],
      [{ first: 5, created: { gte: "yesterday" } }, /DateTime/],
    ];
    for (const [variables, message] of cases) {
      const result = await payouts(variables);
      expect(result.errors?.[0]?.message, JSON.stringify(variables)).toMatch(message);
    }
    stop();
    expect(statements.filter((sql) => sql.includes('"StripePayout"'))).toEqual([]);
  });

  it("stores and serves objects with unknown fields and new enum values unchanged", async () => {
    const resource = RESOURCE_BY_KEY.get("payouts")!;
    const future = {
      id: "po_future_1",
      object: "payout",
      amount: 4200,
      currency: "usd",
      status: "teleported",
      arrival_date: 1_900_000_000,
      created: 1_900_000_000,
      livemode: false,
      brand_new_field: { nested: [1, 2, 3] },
    };
    await upsertObjects(
      world.gateway.deps.db.prisma,
      resource,
      { id: connection.rowId, livemode: false },
      [{ object: future, versionAt: new Date() }],
      new Date(),
    );
    const result = await payouts({ first: 1 });
    const node = result.data!.stripeConnection!.payouts.edges[0]!.node;
    expect(node).toMatchObject({ stripeId: "po_future_1", status: "teleported", amount: 4200 });
    const raw = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
      where: { stripeId: "po_future_1" },
    });
    expect(raw.raw).toEqual(future);
  });

  it("keeps another org away from every object", async () => {
    const mine = (await payouts({ first: 1 })).data!.stripeConnection!.payouts.edges[0]!.node;
    expect((await world.gateway.gql(NodeLookup, { id: mine.id }, org.apiKey)).data?.node).toMatchObject({
      stripeId: mine.stripeId,
    });
    const stranger = await world.createOrg("Stranger");
    expect((await world.gateway.gql(NodeLookup, { id: mine.id }, stranger.apiKey)).data?.node).toBeNull();
    expect((await payouts({ first: 1 }, stranger.apiKey)).data?.stripeConnection).toBeNull();
    expect(
      (await world.gateway.gql(Overview, { id: connection.id }, stranger.apiKey)).data?.stripeConnection,
    ).toBeNull();
  });
});
