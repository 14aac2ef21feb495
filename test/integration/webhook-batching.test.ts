// Group commit of webhook deliveries (src/sync/event-batcher.ts): concurrent deliveries share a transaction,
// each is answered only once its own event is committed, and the result is that of applying them one by one.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { makeEvent, postWebhook, type TestEvent, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

type Template = Record<string, unknown> & { id: string };

describe.each(databaseTargets)("webhook group commit on $name", (target) => {
  let world: ConnectWorld;
  /** The org whose deliveries arrive all at once, and the one that gets the same events one by one. */
  let batched: Awaited<ReturnType<typeof connectedOrg>>;
  let sequential: Awaited<ReturnType<typeof connectedOrg>>;
  let templates: { payout: Template; charge: Template; customer: Template };
  let statementFault: ((sql: string) => void) | null = null;

  const prisma = () => world.gateway.deps.db.prisma;
  const post = (orgId: string, event: TestEvent) =>
    postWebhook(world.gateway.app, orgId, JSON.stringify(event), { timestamp: world.clock.seconds() });

  /**
   * Watches the gateway's transactions: how many ran, and the Stripe event ids each stored, noted as
   * committed once its transaction has resolved (Prisma resolves an interactive transaction after COMMIT).
   */
  function watchTransactions() {
    const client = prisma() as unknown as { $transaction: (...args: unknown[]) => Promise<unknown> };
    const original = client.$transaction;
    const watched = { started: 0, committed: new Set<string>() };
    client.$transaction = (run: unknown, ...rest: unknown[]) => {
      if (typeof run !== "function") return original.call(client, run, ...rest);
      watched.started += 1;
      const stored: string[] = [];
      const spied = (tx: Record<string, unknown>) =>
        run(
          new Proxy(tx, {
            get(target, property) {
              const value = Reflect.get(target, property);
              if (property !== "$queryRawUnsafe" || typeof value !== "function") return value;
              return (sql: string, ...params: unknown[]) => {
                if (sql.includes('INSERT INTO "StripeEvent"'))
                  for (const param of params)
                    if (typeof param === "string" && param.startsWith("evt_")) stored.push(param);
                return value.call(target, sql, ...params);
              };
            },
          }),
        );
      return original.call(client, spied, ...rest).then((result) => {
        for (const id of stored) watched.committed.add(id);
        return result;
      });
    };
    const stop = () => {
      client.$transaction = original;
    };
    return { watched, stop };
  }

  beforeAll(async () => {
    world = await startConnectWorld(target, {
      accounts: 1,
      seed: "webhook-batching",
      beforeStatement: (sql) => statementFault?.(sql),
    });
    batched = await connectedOrg(world, { name: "Batched", webhookSigningSecret: WEBHOOK_SECRET });
    // The same Stripe account connected by a second org: same event bodies, rows of its own connection.
    sequential = await connectedOrg(world, { name: "Sequential", webhookSigningSecret: WEBHOOK_SECRET });
    const of = batched.connection.rowId;
    templates = {
      payout: (await prisma().stripePayout.findFirstOrThrow({ where: { connectionId: of } })).raw as Template,
      charge: (await prisma().stripeCharge.findFirstOrThrow({ where: { connectionId: of } })).raw as Template,
      customer: (await prisma().stripeCustomer.findFirstOrThrow({ where: { connectionId: of } }))
        .raw as Template,
    };
  }, 120_000);
  afterAll(() => world?.close());

  /**
   * Mixed objects: new payouts, payouts with several events in reverse order, charges, customers updated
   * then deleted (and an older update after the deletion), same-second copies, and duplicate deliveries.
   * Each object's end state does not depend on the order the deliveries arrive in.
   */
  function mixedEvents(tag: string): TestEvent[] {
    const t = world.clock.seconds() - 100;
    const account = batched.account;
    const events: TestEvent[] = [];
    const payout = (id: string, status: string, created: number, amount = 1000) =>
      makeEvent(
        "payout.updated",
        { ...templates.payout, id, status, amount, created: t - 1000 },
        { account, created },
      );
    for (let i = 0; i < 80; i++) events.push(payout(`po_${tag}_${i}`, "in_transit", t + (i % 3), 1000 + i));
    for (let i = 0; i < 15; i++) {
      const id = `po_${tag}_rev_${i}`;
      events.push(
        payout(id, "paid", t + 30, 3000),
        payout(id, "in_transit", t + 20, 2000),
        payout(id, "pending", t + 10, 1000),
      );
    }
    // The same second twice, with the same content: a tie, settled after the commit.
    const same = payout(`po_${tag}_same`, "paid", t + 5);
    events.push(same, { ...same, id: `${same.id}_again` });
    for (let i = 0; i < 30; i++) {
      events.push(
        makeEvent(
          "charge.updated",
          { ...templates.charge, id: `ch_${tag}_${i}`, amount: 500 + i, created: t - 1000 },
          { account, created: t + 1 },
        ),
      );
    }
    for (let i = 0; i < 12; i++) {
      const id = `cus_${tag}_${i}`;
      const customer = { ...templates.customer, id, email: `c${i}@example.com`, created: t - 1000 };
      events.push(makeEvent("customer.updated", customer, { account, created: t + 2 }));
      if (i % 2 === 0) {
        events.push(makeEvent("customer.deleted", customer, { account, created: t + 4 }));
        events.push(
          makeEvent(
            "customer.updated",
            { ...customer, email: "old@example.com" },
            { account, created: t + 3 },
          ),
        );
      }
    }
    // Stripe delivering some events twice, at the same time.
    for (let i = 0; i < 20; i++) events.push(events[i * 7]!);
    return events;
  }

  /** The synced rows of a connection whose Stripe id contains `tag`, by Stripe id, without bookkeeping. */
  async function stateOf(connectionId: string, tag: string) {
    const where = { connectionId };
    const select = { stripeId: true, raw: true, lastEventAt: true } as const;
    const [payouts, charges, customers] = await Promise.all([
      prisma().stripePayout.findMany({ where, select: { ...select, status: true, amount: true } }),
      prisma().stripeCharge.findMany({ where, select: { ...select, amount: true } }),
      prisma().stripeCustomer.findMany({ where, select: { ...select, deleted: true, email: true } }),
    ]);
    const byId = (rows: { stripeId: string }[]) =>
      Object.fromEntries(
        rows
          .filter((row) => row.stripeId.includes(tag))
          .map((row) => [row.stripeId, row])
          .sort(([a], [b]) => (a! < b! ? -1 : 1)),
      );
    return { payouts: byId(payouts), charges: byId(charges), customers: byId(customers) };
  }

  it("answers every concurrent delivery 200, in far fewer transactions than events, with the state of applying them one by one", async () => {
    const events = mixedEvents("gc");
    const statements: string[] = [];
    const stop = world.gateway.deps.db.onQuery((sql) => statements.push(sql));
    const transactions = watchTransactions();
    const answers = await Promise.all(events.map((event) => post(batched.rawId, event)));
    transactions.stop();
    stop();
    expect(answers.filter((answer) => answer.status !== 200)).toEqual([]);
    const outcomes = answers.map((answer) => answer.json.outcome);
    expect(outcomes.filter((outcome) => outcome === "duplicate")).toHaveLength(20);
    expect(outcomes.filter((outcome) => outcome === "applied")).toHaveLength(events.length - 20);
    // One transaction per batch, not per event, storing the batch's events in one statement.
    const { started } = transactions.watched;
    expect(started).toBeGreaterThan(0);
    expect(started * 5).toBeLessThanOrEqual(events.length);
    expect(statements.filter((sql) => sql.includes('INSERT INTO "StripeEvent"'))).toHaveLength(started);
    // The reference: the same events one at a time, each answered before the next is sent.
    for (const event of events) expect((await post(sequential.rawId, event)).status).toBe(200);
    await world.gateway.deps.background.idle();

    const got = await stateOf(batched.connection.rowId, "_gc_");
    const want = await stateOf(sequential.connection.rowId, "_gc_");
    expect(Object.keys(got.payouts)).toHaveLength(80 + 15 + 1);
    expect(got).toEqual(want);
    expect(got.payouts.po_gc_rev_0).toMatchObject({ status: "paid", amount: 3000n });
    expect(got.customers.cus_gc_0).toMatchObject({ deleted: true, email: "c0@example.com" });
    expect(got.customers.cus_gc_1).toMatchObject({ deleted: false });

    const stored = await prisma().stripeEvent.findMany({
      where: { orgId: batched.rawId },
      select: { stripeId: true, appliedAt: true },
    });
    const ids = new Set(events.map((event) => event.id));
    const ours = stored.filter((row) => ids.has(row.stripeId));
    expect(ours).toHaveLength(ids.size);
    // Every event finished, the tie's follow-up included.
    expect(ours.filter((row) => row.appliedAt === null)).toEqual([]);
  });

  it("answers 5xx only for the event whose statement fails, 200 for the others of its batch", async () => {
    const t = world.clock.seconds() - 50;
    const account = batched.account;
    const payouts = Array.from({ length: 20 }, (_, i) =>
      makeEvent(
        "payout.updated",
        { ...templates.payout, id: `po_fail_${i}`, status: "paid" },
        { account, created: t },
      ),
    );
    const charge = makeEvent(
      "charge.updated",
      { ...templates.charge, id: "ch_fail_0" },
      { account, created: t },
    );
    const events = [...payouts.slice(0, 10), charge, ...payouts.slice(10)];
    // Charges cannot be written: the batch holding the charge fails, and so does the charge alone.
    statementFault = (sql) => {
      if (sql.includes('INSERT INTO "StripeCharge"')) throw new Error("connection lost writing a charge");
    };
    const answers = await Promise.all(events.map((event) => post(batched.rawId, event)));
    statementFault = null;
    expect(answers.map((answer) => answer.status)).toEqual(
      events.map((event) => (event === charge ? 503 : 200)),
    );
    expect(world.gateway.logs()).toContain("trying each in its own transaction");
    const stored = await prisma().stripeEvent.findMany({
      where: { orgId: batched.rawId, stripeId: { in: events.map((event) => event.id) } },
      select: { stripeId: true },
    });
    expect(stored.map((row) => row.stripeId).sort()).toEqual(payouts.map((event) => event.id).sort());
    expect(
      await prisma().stripePayout.count({
        where: { connectionId: batched.connection.rowId, stripeId: { startsWith: "po_fail_" } },
      }),
    ).toBe(20);
    expect(
      await prisma().stripeCharge.count({
        where: { connectionId: batched.connection.rowId, stripeId: "ch_fail_0" },
      }),
    ).toBe(0);
    // Stripe's retry is stored.
    expect((await post(batched.rawId, charge)).json.outcome).toBe("applied");
  });

  it("acknowledges no delivery before the transaction holding its event has committed", async () => {
    const t = world.clock.seconds() - 20;
    const events = Array.from({ length: 40 }, (_, i) =>
      makeEvent(
        "payout.updated",
        { ...templates.payout, id: `po_ack_${i}`, status: "paid" },
        { account: batched.account, created: t },
      ),
    );
    const transactions = watchTransactions();
    const acknowledged = await Promise.all(
      events.map((event) =>
        post(batched.rawId, event).then((answer) => ({
          answer,
          id: event.id,
          // Read at the moment the answer arrives: was the transaction that stored it already committed?
          committed: transactions.watched.committed.has(event.id),
        })),
      ),
    );
    transactions.stop();
    expect(transactions.watched.started).toBeLessThan(events.length);
    expect(acknowledged.filter(({ answer, committed }) => answer.status !== 200 || !committed)).toEqual([]);
  });
});
