// Queries read what they return: one SQL statement per list level whatever `first` is, the columns the
// selection needs and no others (`raw` only when asked), and child lists bounded per parent in SQL that
// page exactly as the whole list cut in memory did.
import { offsetToCursor, resolveArrayConnection } from "@pothos/plugin-relay";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isoString } from "../../src/graphql/types/scalars.ts";
import { RESOURCE_BY_KEY, type ResourceSpec, rowId } from "../../src/stripe/resources.ts";
import { upsertObjects } from "../../src/sync/upsert.ts";
import { graphql } from "../graphql/gql.js";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

const PayoutTransactions = graphql(`
  query QueryCostPayouts($id: ID!, $first: Int, $txns: Int, $after: String, $last: Int, $before: String) {
    stripeConnection(id: $id) {
      payouts(first: $first) {
        edges {
          node {
            stripeId
            balanceTransactions(first: $txns, after: $after, last: $last, before: $before) {
              edges { cursor node { stripeId } }
              pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
            }
          }
        }
      }
    }
  }
`);

const PayoutList = graphql(`
  query QueryCostPayoutList(
    $id: ID!, $first: Int, $after: String, $last: Int, $before: String,
    $status: [String!], $created: DateTimeRange, $arrivalDate: DateTimeRange
  ) {
    stripeConnection(id: $id) {
      payouts(first: $first, after: $after, last: $last, before: $before, status: $status, created: $created, arrivalDate: $arrivalDate) {
        edges { cursor node { stripeId } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`);

const WithRaw = graphql(`
  query QueryCostRaw($id: ID!) {
    stripeConnection(id: $id) {
      payouts(first: 5) {
        edges { node { stripeId raw balanceTransactions(first: 3) { edges { node { stripeId raw } } } } }
      }
    }
  }
`);

const ChildFields = graphql(`
  query QueryCostChildFields($id: ID!, $payoutId: String) {
    stripeConnection(id: $id) {
      payouts(first: 100) {
        edges {
          node {
            stripeId
            balanceTransactions(first: 100) {
              edges { cursor node { id stripeId connectionId amount fee net currency type reportingCategory status sourceId payoutId availableOn created updatedAt raw } }
            }
          }
        }
      }
      balanceTransactions(first: 100, payoutId: $payoutId) {
        edges { node { id stripeId connectionId amount fee net currency type reportingCategory status sourceId payoutId availableOn created updatedAt raw } }
      }
    }
  }
`);

const OtherChildLists = graphql(`
  query QueryCostOtherChildren($id: ID!, $first: Int, $after: String) {
    stripeConnection(id: $id) {
      charges(first: 100) {
        edges { node { stripeId refunds(first: $first, after: $after) { edges { cursor node { stripeId chargeId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }
      }
      applicationFees(first: 100) {
        edges { node { stripeId refunds(first: $first, after: $after) { edges { cursor node { stripeId feeId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }
      }
    }
  }
`);

const ChildAmount = graphql(`
  query QueryCostChildAmount($id: ID!) {
    stripeConnection(id: $id) {
      payouts(first: 1) { edges { node { stripeId balanceTransactions(first: 2) { edges { node { stripeId amount } } } } } }
    }
  }
`);

// Synthetic objects newer than the emulator's, so the first pages hold only them: 120 payouts (created
// in threes within one second, so ids break the ties) with 0–12 balance transactions each and one with
// 105, 12 charges with refunds, 6 fees with refunds.
const BASE = 1_950_000_000;
const PAYOUTS = 120;
const pad = (n: number) => String(n).padStart(3, "0");
const childCount = (i: number) => (i === 7 ? 105 : i % 13);

type Page = {
  edges: { cursor: string; node: { stripeId: string } }[];
  pageInfo: {
    hasNextPage: boolean;
    hasPreviousPage: boolean;
    startCursor?: string | null;
    endCursor?: string | null;
  };
};

describe.each(databaseTargets)("what queries read on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string };
  let connection: { id: string; rowId: string };
  const prisma = () => world.gateway.deps.db.prisma;

  /** The SQL statements one request sends. */
  async function statementsOf<T>(run: () => Promise<T>) {
    const statements: string[] = [];
    const stop = world.gateway.deps.db.onQuery((sql) => statements.push(sql));
    try {
      return { result: await run(), statements };
    } finally {
      stop();
    }
  }
  const on = (table: string) => (statements: string[]) =>
    statements.filter((sql) => sql.includes(`"${table}"`));

  async function store(
    key: string,
    objects: Record<string, unknown>[],
    extra?: (o: object) => Record<string, unknown>,
  ) {
    const resource = RESOURCE_BY_KEY.get(key)! as ResourceSpec;
    for (let i = 0; i < objects.length; i += 200) {
      await upsertObjects(
        prisma(),
        resource,
        { id: connection.rowId, livemode: false },
        objects.slice(i, i + 200).map((object) => ({
          object: object as never,
          versionAt: new Date(),
          ...(extra ? { extra: extra(object) } : {}),
        })),
        new Date(),
      );
    }
  }

  beforeAll(async () => {
    // Cached credentials never expire here, so the counts cannot depend on how fast the machine is.
    world = await startConnectWorld(target, {
      size: "tiny",
      accounts: 1,
      seed: "query-cost",
      cacheMaxAgeMs: 60 * 60 * 1000,
    });
    ({ org, connection } = await connectedOrg(world, { name: "Query cost" }));
    const payouts = Array.from({ length: PAYOUTS }, (_, i) => ({
      id: `po_qc_${pad(i)}`,
      object: "payout",
      amount: 1000 + i,
      currency: "usd",
      status: "paid",
      arrival_date: BASE + i,
      created: BASE + Math.floor(i / 3),
      reconciliation_status: "completed",
      livemode: false,
    }));
    const transactions = payouts.flatMap((payout, i) =>
      Array.from({ length: childCount(i) }, (_, j) => ({
        id: `txn_qc_${pad(i)}_${pad(j)}`,
        object: "balance_transaction",
        amount: 10 * j + i,
        fee: j,
        net: 10 * j + i - j,
        currency: "usd",
        type: j % 2 ? "charge" : "refund",
        reporting_category: j % 3 ? "charge" : null,
        status: "available",
        source: `ch_src_${j}`,
        available_on: BASE + j,
        // pairs within one second: ids break the ties
        created: BASE - 1000 + Math.floor(j / 2),
        livemode: false,
        payout: payout.id,
      })),
    );
    await store("payouts", payouts);
    await store("balance_transactions", transactions, (o) => ({
      payoutId: (o as { payout: string }).payout,
    }));
    const charges = Array.from({ length: 12 }, (_, i) => ({
      id: `ch_qc_${pad(i)}`,
      object: "charge",
      amount: 500,
      currency: "usd",
      status: "succeeded",
      created: BASE + i,
    }));
    await store("charges", charges);
    await store(
      "refunds",
      charges.flatMap((charge, i) =>
        Array.from({ length: i % 5 }, (_, j) => ({
          id: `re_qc_${pad(i)}_${pad(j)}`,
          object: "refund",
          amount: 10,
          currency: "usd",
          charge: charge.id,
          created: BASE + Math.floor(j / 2),
        })),
      ),
    );
    const fees = Array.from({ length: 6 }, (_, i) => ({
      id: `fee_qc_${pad(i)}`,
      object: "application_fee",
      amount: 100,
      amount_refunded: 10,
      currency: "usd",
      charge: `ch_qc_${pad(i)}`,
      created: BASE + i,
    }));
    await store("application_fees", fees);
    await store(
      "application_fee_refunds",
      fees.flatMap((fee, i) =>
        Array.from({ length: i }, (_, j) => ({
          id: `fr_qc_${pad(i)}_${pad(j)}`,
          object: "fee_refund",
          amount: 1,
          currency: "usd",
          fee: fee.id,
          created: BASE + j,
        })),
      ),
    );
  }, 120_000);
  afterAll(() => world?.close());

  /** Newest first, as the lists order: created, then id, both descending. */
  const newestFirst = (a: { created: Date; id: string }, b: { created: Date; id: string }) =>
    b.created.getTime() - a.created.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

  /** What a child list answered before: every stored child of the parent, newest first, cut in memory. */
  function expectedPage(children: { created: Date; id: string; stripeId: string }[], args: object): Page {
    const page = resolveArrayConnection({ args }, [...children].sort(newestFirst));
    return {
      edges: page.edges.map((edge) => ({ cursor: edge!.cursor, node: { stripeId: edge!.node.stripeId } })),
      pageInfo: page.pageInfo,
    };
  }

  async function storedTransactionsByPayout() {
    const rows = await prisma().stripeBalanceTransaction.findMany({
      where: { connectionId: connection.rowId },
    });
    const byPayout = new Map<string, typeof rows>();
    for (const row of rows) {
      if (!row.payoutId) continue;
      byPayout.set(row.payoutId, [...(byPayout.get(row.payoutId) ?? []), row]);
    }
    return byPayout;
  }

  it("reads payouts(first: N) with balanceTransactions(first: M) in one statement per list level", async () => {
    // Once first: whatever a request pays the first time (credentials, say) is not what is pinned here.
    await world.gateway.gql(PayoutTransactions, { id: connection.id, first: 1, txns: 1 }, org.apiKey);
    const totals = new Set<number>();
    for (const first of [1, 10, 100]) {
      for (const txns of [0, 1, 5, 20, 100]) {
        const { result, statements } = await statementsOf(() =>
          world.gateway.gql(PayoutTransactions, { id: connection.id, first, txns }, org.apiKey),
        );
        expect(result.errors, `first ${first}, txns ${txns}`).toBeUndefined();
        expect(result.data!.stripeConnection!.payouts.edges).toHaveLength(first);
        expect(on("StripePayout")(statements), `first ${first}, txns ${txns}`).toHaveLength(1);
        const children = on("StripeBalanceTransaction")(statements);
        expect(children, `first ${first}, txns ${txns}`).toHaveLength(1);
        expect(children[0]).toMatch(/ROW_NUMBER\(\) OVER \(PARTITION BY/);
        totals.add(statements.length);
      }
    }
    // Whatever N and M, the request costs the same number of statements.
    expect(totals.size).toBe(1);
  });

  it("reads raw only when it is selected, and no column the selection does not need", async () => {
    const { result, statements } = await statementsOf(() =>
      world.gateway.gql(PayoutTransactions, { id: connection.id, first: 5, txns: 3 }, org.apiKey),
    );
    expect(result.errors).toBeUndefined();
    const [payouts] = on("StripePayout")(statements);
    const [children] = on("StripeBalanceTransaction")(statements);
    for (const sql of [payouts!, children!]) {
      expect(sql).not.toContain('"raw"');
      for (const unused of ['"amount"', '"currency"', '"updatedAt"', '"syncedAt"', '"livemode"'])
        expect(sql).not.toContain(unused);
    }

    const withRaw = await statementsOf(() => world.gateway.gql(WithRaw, { id: connection.id }, org.apiKey));
    expect(withRaw.result.errors).toBeUndefined();
    expect(on("StripePayout")(withRaw.statements)[0]).toContain('"raw"');
    expect(on("StripeBalanceTransaction")(withRaw.statements)[0]).toContain('"raw"');
    expect(withRaw.statements.length).toBe(statements.length);
    const stored = await storedTransactionsByPayout();
    for (const { node } of withRaw.result.data!.stripeConnection!.payouts.edges) {
      expect((node.raw as { id: string }).id).toBe(node.stripeId);
      const children = [...(stored.get(node.stripeId) ?? [])].sort(newestFirst).slice(0, 3);
      expect(node.balanceTransactions.edges.map((edge) => edge.node.raw)).toEqual(
        children.map((child) => child.raw),
      );
    }
  });

  it("pages child lists exactly as the whole list cut in memory did, for every first, after, last and before", async () => {
    const stored = await storedTransactionsByPayout();
    const cases: Record<string, unknown>[] = [
      {},
      ...[0, 1, 2, 5, 12, 13, 100].flatMap((txns) =>
        [null, 0, 1, 4, 11, 104].map((after) => ({
          txns,
          after: after === null ? null : offsetToCursor(after),
        })),
      ),
      { last: 3 },
      { last: 0 },
      { last: 100 },
      { last: 3, before: offsetToCursor(5) },
      { last: 0, before: offsetToCursor(5) },
      { txns: 5, last: 2 },
      { txns: 0, last: 0 },
      { txns: 4, after: offsetToCursor(2), last: 2 },
      { before: offsetToCursor(3) },
      { before: offsetToCursor(-1) },
      { txns: 3, before: offsetToCursor(2) },
      { txns: 3, after: offsetToCursor(-1) },
      { txns: 3, after: offsetToCursor(-3) },
      { last: 2, after: offsetToCursor(-5) },
      { txns: 3, after: offsetToCursor(6), before: offsetToCursor(8) },
    ];
    for (const variables of cases) {
      const result = await world.gateway.gql(
        PayoutTransactions,
        { id: connection.id, first: 100, ...variables },
        org.apiKey,
      );
      expect(result.errors, JSON.stringify(variables)).toBeUndefined();
      const edges = result.data!.stripeConnection!.payouts.edges;
      expect(edges).toHaveLength(100);
      const args = {
        first: variables.txns ?? null,
        after: variables.after ?? null,
        last: variables.last ?? null,
        before: variables.before ?? null,
      };
      for (const { node } of edges) {
        expect(node.balanceTransactions, `${node.stripeId} ${JSON.stringify(variables)}`).toEqual(
          expectedPage(stored.get(node.stripeId) ?? [], args),
        );
      }
    }
  });

  it("pages a list on the connection as Prisma's cursor pages did, for every first, after, last, before and filter", async () => {
    const rows = (await prisma().stripePayout.findMany({ where: { connectionId: connection.rowId } })).sort(
      newestFirst,
    );
    const at = (seconds: number) => new Date(seconds * 1000).toISOString();
    const filters: { vars: Record<string, unknown>; keep(row: (typeof rows)[number]): boolean }[] = [
      { vars: {}, keep: () => true },
      { vars: { status: ["paid"] }, keep: (row) => row.status === "paid" },
      {
        vars: { status: ["in_transit", "pending"] },
        keep: (row) => ["in_transit", "pending"].includes(row.status),
      },
      {
        vars: { created: { gte: at(BASE + 10), lte: at(BASE + 30) } },
        keep: (row) => row.created >= new Date(at(BASE + 10)) && row.created <= new Date(at(BASE + 30)),
      },
      {
        vars: { status: ["paid"], arrivalDate: { gte: at(BASE + 50) } },
        keep: (row) => row.status === "paid" && row.arrivalDate >= new Date(at(BASE + 50)),
      },
    ];
    let cases = 0;
    for (const filter of filters) {
      const list = rows.filter(filter.keep);
      const page = (variables: Record<string, unknown>) =>
        world.gateway
          .gql(PayoutList, { id: connection.id, ...filter.vars, ...variables }, org.apiKey)
          .then((result) => {
            expect(result.errors, JSON.stringify(variables)).toBeUndefined();
            return result.data!.stripeConnection!.payouts;
          });
      // Every row's cursor, from the list itself.
      const whole = await page({ first: 100 });
      const rest = whole.pageInfo.hasNextPage
        ? await page({ first: 100, after: whole.pageInfo.endCursor })
        : null;
      const edges = [...whole.edges, ...(rest?.edges ?? [])];
      expect(edges.map((edge) => edge.node.stripeId)).toEqual(list.map((row) => row.stripeId));
      const cursorAt = (index: number) => edges[index]!.cursor;

      /** Pothos' cursor pages: `first` after a cursor, or `last` before one, with its pageInfo rules. */
      const expected = (args: { first?: number; after?: number; last?: number; before?: number }) => {
        const backward = args.last !== undefined || args.before !== undefined;
        const size = Math.min(args.first ?? args.last ?? 20, 100);
        const from = args.after !== undefined ? args.after + 1 : 0;
        const to = args.before !== undefined ? args.before : list.length;
        const slice = backward ? list.slice(Math.max(0, to - size), to) : list.slice(from, from + size);
        const full = backward ? to - (size + 1) >= 0 : from + size < list.length;
        const nodes = slice.map((row) => row.stripeId);
        return {
          nodes,
          hasNextPage: args.before !== undefined ? true : args.last !== undefined ? false : full,
          hasPreviousPage: args.after !== undefined ? true : backward ? full : false,
        };
      };
      const indices = [0, 1, 2, 3, 50, list.length - 2, list.length - 1].filter(
        (index, i, all) => index >= 0 && index < list.length && all.indexOf(index) === i,
      );
      const argsOf: { first?: number; after?: number; last?: number; before?: number }[] = [
        {},
        { first: 0 },
        { first: 1 },
        { first: 7 },
        { first: 100 },
        { last: 1 },
        { last: 7 },
        { last: 100 },
        ...indices.flatMap((index) => [
          { first: 5, after: index },
          { first: 100, after: index },
          { after: index },
          { last: 5, before: index },
          { last: 100, before: index },
          { before: index },
        ]),
      ];
      for (const args of argsOf) {
        const got = await page({
          first: args.first,
          last: args.last,
          after: args.after !== undefined ? cursorAt(args.after) : undefined,
          before: args.before !== undefined ? cursorAt(args.before) : undefined,
        });
        const want = expected(args);
        const label = `${JSON.stringify(filter.vars)} ${JSON.stringify(args)}`;
        expect(
          got.edges.map((edge) => edge.node.stripeId),
          label,
        ).toEqual(want.nodes);
        expect(got.pageInfo.hasNextPage, label).toBe(want.hasNextPage);
        expect(got.pageInfo.hasPreviousPage, label).toBe(want.hasPreviousPage);
        expect(got.pageInfo.startCursor ?? null, label).toBe(got.edges[0]?.cursor ?? null);
        expect(got.pageInfo.endCursor ?? null, label).toBe(got.edges.at(-1)?.cursor ?? null);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(150);

    // A cursor whose row is gone (a deleted object) pages nothing, as before.
    const [newest] = rows;
    const { edges } = await world.gateway
      .gql(PayoutList, { id: connection.id, first: 2 }, org.apiKey)
      .then((result) => result.data!.stripeConnection!.payouts);
    await prisma().stripePayout.delete({ where: { id: newest!.id } });
    try {
      const after = await world.gateway.gql(
        PayoutList,
        { id: connection.id, first: 5, after: edges[0]!.cursor },
        org.apiKey,
      );
      expect(after.errors).toBeUndefined();
      expect(after.data!.stripeConnection!.payouts.edges).toEqual([]);
    } finally {
      await prisma().stripePayout.create({ data: newest! as never });
    }
  });

  it("pages a charge's and a fee's refunds the same way", async () => {
    const refunds = await prisma().stripeRefund.findMany({ where: { connectionId: connection.rowId } });
    const feeRefunds = await prisma().stripeApplicationFeeRefund.findMany({
      where: { connectionId: connection.rowId },
    });
    for (const [first, after] of [
      [null, null],
      [1, null],
      [2, offsetToCursor(0)],
      [3, offsetToCursor(1)],
      [0, null],
    ] as const) {
      const result = await world.gateway.gql(
        OtherChildLists,
        { id: connection.id, first, after },
        org.apiKey,
      );
      expect(result.errors).toBeUndefined();
      const data = result.data!.stripeConnection!;
      const args = { first, after };
      const served = (page: Page) => ({
        edges: page.edges.map((edge) => ({ cursor: edge.cursor, node: { stripeId: edge.node.stripeId } })),
        pageInfo: page.pageInfo,
      });
      for (const { node } of data.charges.edges) {
        const children = refunds.filter((refund) => refund.chargeId === node.stripeId);
        expect(node.refunds.edges.every((edge) => edge.node.chargeId === node.stripeId)).toBe(true);
        expect(served(node.refunds)).toEqual(expectedPage(children, args));
      }
      for (const { node } of data.applicationFees.edges) {
        const children = feeRefunds.filter((refund) => refund.feeId === node.stripeId);
        expect(node.refunds.edges.every((edge) => edge.node.feeId === node.stripeId)).toBe(true);
        expect(served(node.refunds)).toEqual(expectedPage(children, args));
      }
    }
  });

  it("serves a child's fields as the list on the connection does (BigInt amounts, dates, raw JSON)", async () => {
    const payoutId = "po_qc_119";
    const result = await world.gateway.gql(ChildFields, { id: connection.id, payoutId }, org.apiKey);
    expect(result.errors).toBeUndefined();
    const data = result.data!.stripeConnection!;
    const payout = data.payouts.edges.find((edge) => edge.node.stripeId === payoutId)!.node;
    expect(payout.balanceTransactions.edges.length).toBe(childCount(119));
    expect(payout.balanceTransactions.edges.map((edge) => edge.node)).toEqual(
      data.balanceTransactions.edges.map((edge) => edge.node),
    );
    const first = payout.balanceTransactions.edges[0]!.node;
    expect(first.created).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof first.amount).toBe("number");
  });

  it("refuses a child amount past 2^53 − 1 as on any list", async () => {
    const [child] = [...((await storedTransactionsByPayout()).get("po_qc_119") ?? [])].sort(newestFirst);
    await prisma().$executeRawUnsafe(
      `UPDATE "StripeBalanceTransaction" SET "amount" = 9007199254740993 WHERE "id" = $1`,
      rowId(connection.rowId, child!.stripeId),
    );
    try {
      const result = await world.gateway.gql(ChildAmount, { id: connection.id }, org.apiKey);
      expect(result.errors).toHaveLength(1);
      expect(result.errors![0]!.extensions).toEqual({ code: "AMOUNT_OUT_OF_RANGE" });
      expect(result.errors![0]!.message).toContain("9007199254740993");
    } finally {
      await prisma().$executeRawUnsafe(
        `UPDATE "StripeBalanceTransaction" SET "amount" = 0 WHERE "id" = $1`,
        rowId(connection.rowId, child!.stripeId),
      );
    }
  });
});

describe("DateTime output", () => {
  it("writes exactly what Date.toJSON writes, milliseconds and Z", () => {
    const times = fc.oneof(
      fc.integer({ min: 0, max: 253_402_300_799_999 }),
      fc.integer({ min: 0, max: 100_000 }).map((day) => day * 86_400_000 - (day % 2)),
      fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }),
    );
    fc.assert(
      fc.property(times, (time) => {
        const date = new Date(time);
        expect(isoString(date)).toBe(date.toJSON());
      }),
      { numRuns: 20_000 },
    );
  });
});
