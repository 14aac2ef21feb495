// totalCount on every Relay connection: exact with the list's filters, whatever the page; one statement for
// a top-level list only when it is selected (and none for the page when it is all that is selected); free
// for child lists (their windowed statement counts already); priced as one count, not per row.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { offsetToCursor } from "@pothos/plugin-relay";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queryCost } from "../../src/graphql/query-cost.ts";
import { schema } from "../../src/graphql/schema.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectedOrg, type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

const Payouts = graphql(`
  query CountedPayouts($id: ID!, $first: Int, $status: [String!], $created: DateTimeRange) {
    stripeConnection(id: $id) {
      payouts(first: $first, status: $status, created: $created) { edges { node { stripeId } } }
    }
  }
`);

const PayoutsWithTotal = graphql(`
  query CountedPayoutsWithTotal($id: ID!, $first: Int, $status: [String!], $created: DateTimeRange) {
    stripeConnection(id: $id) {
      payouts(first: $first, status: $status, created: $created) { totalCount edges { node { stripeId } } }
    }
  }
`);

const PayoutTotalOnly = graphql(`
  query PayoutTotalOnly($id: ID!, $status: [String!], $created: DateTimeRange) {
    stripeConnection(id: $id) { payouts(status: $status, created: $created) { totalCount } }
  }
`);

const NestedTotals = graphql(`
  query NestedTotals($id: ID!, $after: String) {
    stripeConnection(id: $id) {
      payouts(first: 5) {
        edges {
          node {
            stripeId
            balanceTransactions(first: 2, after: $after) { totalCount edges { node { stripeId } } pageInfo { hasNextPage } }
          }
        }
      }
    }
  }
`);

const NestedPlain = graphql(`
  query NestedPlain($id: ID!) {
    stripeConnection(id: $id) {
      payouts(first: 5) { edges { node { stripeId balanceTransactions(first: 2) { edges { node { stripeId } } } } } }
    }
  }
`);

/** A fragment beside the query, as a client sends it (an untyped document: the preset types one per call). */
const TotalsThroughFragment = parse(`
  fragment PayoutTotal on StripePayoutConnection { totalCount }
  query TotalsThroughFragment($id: ID!) {
    stripeConnection(id: $id) { payouts(first: 1) { ...PayoutTotal edges { node { stripeId } } } }
  }
`) as TypedDocumentNode<{ stripeConnection: { payouts: { totalCount: number } } | null }, { id: string }>;

describe.each(databaseTargets)("totalCount on $name", (target) => {
  let world: ConnectWorld;
  let org: ConnectedOrg;
  const prisma = () => world.gateway.deps.db.prisma;

  /** The SQL statements one request sends (its credential lookups served from the cache). */
  async function statementsOf(run: () => Promise<unknown>): Promise<string[]> {
    const statements: string[] = [];
    const stop = world.gateway.deps.db.onQuery((sql) => statements.push(sql));
    try {
      await run();
    } finally {
      stop();
    }
    return statements;
  }

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 1, seed: "total-count", cacheMaxAgeMs: 10 * 60_000 });
    org = await connectedOrg(world, { name: "Counted" });
  }, 120_000);
  afterAll(() => world?.close());

  it("counts the whole list with its filters, whatever the page", async () => {
    const all = await prisma().stripePayout.count({ where: { connectionId: org.connection.rowId } });
    const paid = await prisma().stripePayout.count({
      where: { connectionId: org.connection.rowId, status: "paid" },
    });
    expect(all).toBeGreaterThan(3);
    const first = await world.gateway.gql(PayoutsWithTotal, { id: org.connection.id, first: 2 }, org.apiKey);
    expect(first.data?.stripeConnection?.payouts).toMatchObject({ totalCount: all });
    expect(first.data?.stripeConnection?.payouts.edges).toHaveLength(2);
    const filtered = await world.gateway.gql(
      PayoutTotalOnly,
      { id: org.connection.id, status: ["paid"] },
      org.apiKey,
    );
    expect(filtered.data?.stripeConnection?.payouts.totalCount).toBe(paid);
    const none = await world.gateway.gql(
      PayoutTotalOnly,
      { id: org.connection.id, created: { gte: "2001-01-01T00:00:00Z", lte: "2001-01-02T00:00:00Z" } },
      org.apiKey,
    );
    expect(none.data?.stripeConnection?.payouts.totalCount).toBe(0);
    const backwards = await world.gateway.gql(
      PayoutTotalOnly,
      { id: org.connection.id, created: { gte: "2030-01-02T00:00:00Z", lte: "2030-01-01T00:00:00Z" } },
      org.apiKey,
    );
    expect(backwards.errors?.[0]?.message).toMatch(/gte .* is after lte/);
    const viaFragment = await world.gateway.gql(TotalsThroughFragment, { id: org.connection.id }, org.apiKey);
    expect(viaFragment.data?.stripeConnection?.payouts.totalCount).toBe(all);
  });

  it("costs one statement only when selected, and reads no page when it is all that is selected", async () => {
    const variables = { id: org.connection.id, first: 10 };
    await world.gateway.gql(Payouts, variables, org.apiKey); // warms the cache
    const plain = await statementsOf(() => world.gateway.gql(Payouts, variables, org.apiKey));
    const withTotal = await statementsOf(() => world.gateway.gql(PayoutsWithTotal, variables, org.apiKey));
    const totalOnly = await statementsOf(() =>
      world.gateway.gql(PayoutTotalOnly, { id: org.connection.id }, org.apiKey),
    );
    expect(withTotal).toHaveLength(plain.length + 1);
    expect(withTotal.filter((sql) => /COUNT\(\*\)/.test(sql))).toHaveLength(1);
    expect(plain.some((sql) => /COUNT\(\*\)/.test(sql))).toBe(false);
    expect(totalOnly).toHaveLength(1);
    expect(totalOnly[0]).toMatch(/COUNT\(\*\)/);
  });

  it("gives child lists their totals from the one windowed statement, past the last page too", async () => {
    const plain = await statementsOf(() =>
      world.gateway.gql(NestedPlain, { id: org.connection.id }, org.apiKey),
    );
    const nestedTotals = (after?: string) =>
      world.gateway.gql(NestedTotals, { id: org.connection.id, after }, org.apiKey);
    const captured: { result?: Awaited<ReturnType<typeof nestedTotals>> } = {};
    const withTotals = await statementsOf(async () => {
      captured.result = await nestedTotals();
    });
    expect(withTotals).toHaveLength(plain.length);
    const payouts = captured.result?.data?.stripeConnection?.payouts.edges ?? [];
    expect(payouts.length).toBeGreaterThan(0);
    let someHaveMore = false;
    for (const { node } of payouts) {
      const count = await prisma().stripeBalanceTransaction.count({
        where: { connectionId: org.connection.rowId, payoutId: node.stripeId },
      });
      expect(node.balanceTransactions.totalCount).toBe(count);
      if (count > 2) someHaveMore = true;
    }
    expect(someHaveMore).toBe(true);
    // A page after every child: no rows, the same totals.
    const past = await nestedTotals(offsetToCursor(100_000));
    const pastNodes = past.data?.stripeConnection?.payouts.edges.map((e) => e.node) ?? [];
    expect(pastNodes.map((n) => n.balanceTransactions.totalCount)).toEqual(
      payouts.map((e) => e.node.balanceTransactions.totalCount),
    );
    expect(pastNodes.every((n) => n.balanceTransactions.edges.length === 0)).toBe(true);
  });

  it("prices totalCount as one count per list, not per row", () => {
    const cost = (query: string) => queryCost(schema, parse(query), {}, undefined);
    const page =
      "{ stripeConnections(first: 100) { edges { node { payouts(first: 100) { edges { node { id } } } } } } }";
    const counted =
      "{ stripeConnections(first: 100) { totalCount edges { node { payouts(first: 100) { totalCount edges { node { id } } } } } } }";
    // one more for the outer count, and one more per connection for its payouts' count
    expect(cost(counted)! - cost(page)!).toBe(1 + 100);
    expect(cost("{ stripeConnections(first: 0) { totalCount } }")).toBe(2);
    const fragment =
      "fragment T on StripeConnectionConnection { totalCount } { stripeConnections(first: 0) { ...T } }";
    expect(cost(fragment)).toBe(2);
  });
});
