// The change feed across two instances on one PostgreSQL and a private Redis: a resumed subscriber gets
// exactly what it missed (some applied by the other instance, some while Redis was down), live changes
// reach it without Redis, and under concurrent writers whose commits are forced into random orders a
// subscriber that keeps resuming never skips or repeats a change.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { graphql } from "../graphql/gql.js";
import { databaseTargets } from "../helpers/databases.ts";
import type { TestGateway } from "../helpers/gateway.ts";
import { redisUrl, waitUntil } from "../helpers/redis.ts";
import { subscribeSSE } from "../helpers/sse.ts";
import { startTwoInstances, type TwoInstances } from "../helpers/two-instances.ts";
import { makeEvent, postWebhook } from "../helpers/webhooks.ts";

const Changes = graphql(`
  subscription InstanceChanges($after: String) {
    changes(after: $after) { sequence type stripeEventId }
  }
`);

const postgres = databaseTargets.find((target) => target.name === "postgres");
if (!postgres)
  console.warn("\n!!! TEST_DATABASE_URL is not set: the two-instance change feed tests are SKIPPED.\n");

describe.skipIf(!postgres || !redisUrl)("the change feed across two instances (PostgreSQL, Redis)", () => {
  let world: TwoInstances;
  let a: TestGateway;
  let b: TestGateway;
  let org: TwoInstances["org"];
  let connection: TwoInstances["connection"];
  let clock: TwoInstances["clock"];
  let redis: TwoInstances["redis"];
  let payouts: ({ id: string } & Record<string, unknown>)[];
  /** Held back before each COMMIT (the property test forces commit orders with it). */
  let commitDelay: () => number = () => 0;
  let version = 0;

  const hook = async (sql: string) => {
    if (!sql.startsWith("COMMIT")) return;
    const ms = commitDelay();
    if (ms > 0) await new Promise((resolve) => setTimeout(resolve, ms));
  };

  /** A signed payout.updated of payout `index` saying `description`, newer than every earlier one. */
  function update(index: number, description: string) {
    version += 1;
    return JSON.stringify(
      makeEvent(
        "payout.updated",
        { ...payouts[index % payouts.length]!, description },
        { account: connection.account, created: Math.floor(clock.now() / 1000) + version },
      ),
    );
  }
  async function deliver(gateway: TestGateway, body: string) {
    const response = await postWebhook(gateway.app, org.rawId, body, {
      timestamp: Math.floor(clock.now() / 1000),
    });
    expect(response.status).toBe(200);
    return response.json.outcome;
  }
  const log = () =>
    a.deps.db.prisma.stripeChange.findMany({ where: { orgId: org.rawId }, orderBy: { sequence: "asc" } });
  const lastSequence = async () => String((await log()).at(-1)?.sequence ?? 0n);

  beforeAll(async () => {
    world = await startTwoInstances(postgres!, { beforeStatement: hook });
    ({ a, b, org, connection, clock, redis } = world);
    const rows = await a.deps.db.prisma.stripePayout.findMany({ take: 5, orderBy: { stripeId: "asc" } });
    payouts = rows.map((row) => row.raw as (typeof payouts)[number]);
  }, 120_000);
  afterAll(() => world?.close());

  it("resumes with exactly the 50 changes it missed (some by the other instance, some while Redis was down), then live", async () => {
    const first = await subscribeSSE(a.app, Changes, { after: await lastSequence() }, org.apiKey);
    let seen: string;
    try {
      const next = first.next();
      await deliver(b, update(0, "before the disconnect"));
      seen = (await next).data!.changes.sequence;
    } finally {
      first.close();
    }
    for (let i = 0; i < 20; i++) await deliver(i % 2 ? a : b, update(i, `missed ${i}`));
    await redis.stop();
    for (let i = 20; i < 50; i++) await deliver(i % 2 ? a : b, update(i, `missed ${i}`));
    const missed = (await log())
      .filter((change) => change.sequence > BigInt(seen))
      .map((c) => String(c.sequence));
    expect(missed).toHaveLength(50);

    const resumed = await subscribeSSE(a.app, Changes, { after: seen }, org.apiKey);
    try {
      const replayed: string[] = [];
      for (let i = 0; i < 50; i++) replayed.push((await resumed.next()).data!.changes.sequence);
      expect(replayed).toEqual(missed);
      // Still without Redis: B's change reaches A's subscriber by A's look at the log (within a second).
      const live = resumed.next();
      await deliver(b, update(1, "live without Redis"));
      expect((await live).data!.changes.sequence).toBe(String(Number(missed.at(-1)) + 1));
      await redis.start();
      await waitUntil(
        () =>
          b.deps.pubsub.ping().then(
            () => true,
            () => false,
          ),
        "B reaches Redis again",
      );
      const after = resumed.next();
      await deliver(b, update(2, "live with Redis"));
      expect((await after).data!.changes.sequence).toBe(String(Number(missed.at(-1)) + 2));
    } finally {
      resumed.close();
    }
  });

  it("resumes on a restarted instance from the log: the changes made while it was down, then live", async () => {
    const before = await lastSequence();
    await b.close();
    for (let i = 0; i < 3; i++) await deliver(a, update(i, `while B restarts ${i}`));
    b = await world.replaceB();
    const resumed = await subscribeSSE(b.app, Changes, { after: before }, org.apiKey);
    try {
      const replayed: string[] = [];
      for (let i = 0; i < 3; i++) replayed.push((await resumed.next()).data!.changes.sequence);
      expect(replayed).toEqual([1n, 2n, 3n].map((n) => String(BigInt(before) + n)));
      const live = resumed.next();
      await deliver(a, update(3, "after the restart"));
      expect((await live).data!.changes.sequence).toBe(String(BigInt(before) + 4n));
    } finally {
      resumed.close();
    }
  });

  it("never skips or repeats a change under concurrent writers with forced commit orders (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            on: fc.constantFrom("a", "b"),
            payout: fc.nat(4),
            startMs: fc.nat(30),
            commitMs: fc.nat(25),
          }),
          { minLength: 5, maxLength: 25 },
        ),
        fc.array(fc.nat(25), { maxLength: 3 }),
        fc.boolean(),
        async (writes, resumeAt, resync) => {
          const start = await lastSequence();
          const delays = writes.map((write) => write.commitMs);
          let commits = 0;
          commitDelay = () => delays[commits++ % delays.length] ?? 0;
          const bodies = writes.map((write, index) => update(write.payout, `write ${version}-${index}`));
          const received: string[] = [];
          let subscriber = await subscribeSSE(a.app, Changes, { after: start }, org.apiKey);
          const writers = Promise.all([
            ...writes.map(async (write, index) => {
              await new Promise((resolve) => setTimeout(resolve, write.startMs));
              await deliver(write.on === "a" ? a : b, bodies[index]!);
            }),
            // A second writer of the same objects: B lists them again from Stripe meanwhile.
            ...(resync
              ? [b.deps.sync.idle().then(() => b.deps.sync.start(connection.rowId, { fresh: true }))]
              : []),
          ]);
          try {
            let resumes = [...resumeAt].sort((x, y) => x - y);
            let done = false;
            void writers.then(() => {
              done = true;
            });
            // One read in flight at a time: a read that lost the race to the timer still gets the next event.
            let pending: ReturnType<typeof subscriber.next> | null = null;
            for (;;) {
              if (done && pending === null) {
                await b.deps.sync.idle();
                const last = await lastSequence();
                if ((received.at(-1) ?? start) === last) break;
              }
              pending ??= subscriber.next();
              const event = await Promise.race([
                pending,
                new Promise<null>((resolve) => setTimeout(() => resolve(null), 200)),
              ]);
              if (!event) {
                if (done) {
                  // Caught up when the log says so; otherwise keep waiting for the read in flight.
                  const last = await lastSequence();
                  if ((received.at(-1) ?? start) === last) break;
                }
                continue;
              }
              pending = null;
              expect(event.errors).toBeUndefined();
              received.push(event.data!.changes.sequence);
              if (resumes[0] !== undefined && received.length >= resumes[0]) {
                resumes = resumes.slice(1);
                subscriber.close();
                // Resume on either instance from the last sequence received.
                const on = received.length % 2 ? a : b;
                subscriber = await subscribeSSE(on.app, Changes, { after: received.at(-1)! }, org.apiKey);
              }
            }
            await b.deps.sync.idle();
          } finally {
            subscriber.close();
            await writers;
            commitDelay = () => 0;
          }
          const logged = (await log()).filter((change) => change.sequence > BigInt(start));
          // Nothing skipped, nothing repeated, in order: exactly the log after where it started.
          expect(received).toEqual(logged.map((change) => String(change.sequence)));
          expect(logged.map((change) => change.sequence)).toEqual(
            logged.map((_, index) => BigInt(start) + BigInt(index) + 1n),
          );
          // The log is what was applied: each event at most once, and each payout ends as its last change says.
          const eventIds = logged.flatMap((change) => (change.stripeEventId ? [change.stripeEventId] : []));
          expect(new Set(eventIds).size).toBe(eventIds.length);
          const byEvent = new Map(bodies.map((body) => [JSON.parse(body).id as string, JSON.parse(body)]));
          for (const payout of payouts) {
            const last = logged.filter((change) => change.objectId === payout.id).at(-1);
            const event = last?.stripeEventId ? byEvent.get(last.stripeEventId) : undefined;
            if (!event) continue;
            const row = await a.deps.db.prisma.stripePayout.findFirstOrThrow({
              where: { stripeId: payout.id },
            });
            expect(row.description).toBe(event.data.object.description);
          }
        },
      ),
      { numRuns: 6 },
    );
  }, 300_000);
});
