import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type App, createApp } from "../../src/app.ts";
import { delegateOf } from "../../src/db/delegate.ts";
import { createDeps, type Deps } from "../../src/deps.ts";
import { StripeHttpError } from "../../src/emulator/api-errors.ts";
import { RESOURCE_BY_KEY, type ResourceKey } from "../../src/stripe/resources.ts";
import { type ConnectWorld, connectAccount, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import type { Json } from "../helpers/emulator.ts";
import { postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

// Webhooks delivered, dropped, duplicated and reordered, /v1/events polled at random times, the process
// stopped at random statements and started again: at the end every object equals Stripe's.

// PROPERTY_RUNS=50 for a longer hunt.
const RUNS = Number(process.env.PROPERTY_RUNS ?? 8);
const POLL_GAP_MS = 301_000;

type Step =
  | { kind: "change"; what: number; pick: number }
  | { kind: "deliver"; pick: number; mode: "once" | "twice" | "drop" }
  | { kind: "poll" }
  | { kind: "tick"; ms: number }
  | { kind: "crash"; after: number; during: "deliver" | "poll"; pick: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("change"), what: fc.nat(9), pick: fc.nat() }) },
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant("deliver"),
      pick: fc.nat(),
      mode: fc.constantFrom("once", "once", "twice", "drop"),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("poll") }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick"), ms: fc.constantFrom(0, 400, 1000, 2500) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("crash"),
      after: fc.integer({ min: 1, max: 14 }),
      during: fc.constantFrom("deliver", "poll"),
      pick: fc.nat(),
    }),
  },
) as fc.Arbitrary<Step>;

/** Resources whose every change Stripe announces by an event (balance transactions have none). */
const COMPARED: ResourceKey[] = ["payouts", "charges", "refunds", "disputes", "customers", "subscriptions"];

describe.each(databaseTargets)("synced data under random interleavings on $name", (target) => {
  let world: ConnectWorld;
  let org: { apiKey: string; rawId: string };
  let countdown: number | null = null;

  beforeAll(async () => {
    world = await startConnectWorld(target, {
      seed: "interleavings",
      accounts: RUNS,
      size: "tiny",
      retryBaseMs: 1,
      beforeStatement: () => {
        if (countdown !== null && --countdown <= 0) {
          countdown = null;
          throw new Error("the process stopped here (injected)");
        }
      },
    });
    org = await world.createConfiguredOrg("Interleavings", { webhookSigningSecret: WEBHOOK_SECRET });
    // The first gateway only owns the database; "processes" below come and go on it.
    world.gateway.deps.sync.stop();
  }, 120_000);
  afterAll(() => world?.close());

  /** A gateway process on the shared database, as `npm start` would build it. */
  async function startProcess(): Promise<{ deps: Deps; app: App }> {
    const base = world.gateway.deps;
    const deps = await createDeps(base.config, {
      database: base.db,
      clock: base.clock,
      logger: base.logger,
      fetch: base.fetch,
      retryBaseMs: 1,
    });
    return { deps, app: createApp(deps) };
  }

  async function stopProcess(process: { deps: Deps }) {
    await process.deps.close().catch(() => {});
  }

  it("ends with every object equal to Stripe's final state", async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 8, maxLength: 30 }), async (steps) => {
        const accountId = world.emulator.emulator.accountIds[run++ % RUNS]!;
        const control = world.emulator.emulator.control;
        let process = await startProcess();
        // Connect through the shared gateway's OAuth route, then hand sync to the process.
        const { rowId: connectionId } = await connectAccount(world, org.apiKey, accountId);
        await world.gateway.deps.sync.idle();
        const prisma = world.gateway.deps.db.prisma;
        const stripe = async () =>
          world.emulator.stripe((await process.deps.credentials.credentials(connectionId)).apiKey);
        const ids = async (
          model: "stripeCharge" | "stripePayout" | "stripeDispute" | "stripeCustomer" | "stripeSubscription",
        ) =>
          (
            await (
              prisma[model] as unknown as { findMany(a: object): Promise<{ stripeId: string }[]> }
            ).findMany({
              where: { connectionId },
              select: { stripeId: true },
              orderBy: { stripeId: "asc" },
            })
          ).map((row) => row.stripeId);
        const outbox: Json[] = [];
        const seen = new Set<string>();
        const collectEvents = async () => {
          for await (const event of (await stripe()).events.list({ limit: 100 })) {
            if (seen.has(event.id) || event.account !== accountId) continue;
            seen.add(event.id);
            outbox.push(event);
          }
        };
        await collectEvents();
        outbox.length = 0; // what happened before the connection is in the backfill

        const deliver = async (pick: number, mode: "once" | "twice" | "drop") => {
          if (outbox.length === 0) return;
          const [event] = outbox.splice(pick % outbox.length, 1);
          if (mode === "drop") return;
          for (let i = 0; i < (mode === "twice" ? 2 : 1); i++) {
            const answer = await postWebhook(process.app, org.rawId, JSON.stringify(event), {
              timestamp: world.clock.seconds(),
            });
            // Stripe retries what was not acknowledged.
            if (answer.status !== 200) outbox.push(event);
          }
        };
        const poll = async () => {
          world.clock.advance(POLL_GAP_MS);
          await process.deps.sync.tick();
          await process.deps.sync.idle();
          await process.deps.background.idle();
        };
        const change = async (what: number, pick: number) => {
          const one = (list: string[]) => (list.length ? list[pick % list.length]! : null);
          const charge = one(await ids("stripeCharge"));
          const payout = one(await ids("stripePayout"));
          const dispute = one(await ids("stripeDispute"));
          const actions: (() => unknown)[] = [
            () => control.createCharge(accountId, "test", { amount: 1000 + (pick % 9000) }),
            () => charge && control.refundCharge(charge, { amount: 100 }),
            () => control.createPayout(accountId, "test", { amount: 500 + (pick % 500) }),
            () => payout && control.payPayout(payout),
            () => payout && control.failPayout(payout),
            () => charge && control.openDispute(charge),
            () => dispute && control.submitDisputeEvidence(dispute),
            () => dispute && control.closeDispute(dispute, pick % 2 ? "won" : "lost"),
            async () => {
              // Customers and subscriptions Stripe still lists: deleted ones are gone from the list.
              const sdk = await stripe();
              const customers = (await sdk.customers.list({ limit: 100 })).data;
              const subscriptions = (await sdk.subscriptions.list({ limit: 100 })).data;
              const customer = one(customers.map((c) => c.id));
              const subscription = one(subscriptions.map((c) => c.id));
              if (pick % 2 && customer) control.deleteCustomer(customer);
              else if (subscription) control.cancelSubscription(subscription);
            },
            () => control.updateAccount(accountId, { email: `owner${pick % 100}@example.com` }),
          ];
          try {
            await actions[what]!();
          } catch (error) {
            // Stripe refuses some changes (a payout already paid, a charge fully refunded): so be it.
            if (!(error instanceof StripeHttpError)) throw error;
          }
          await collectEvents();
        };

        for (const s of steps) {
          if (s.kind === "change") await change(s.what, s.pick);
          else if (s.kind === "deliver") await deliver(s.pick, s.mode);
          else if (s.kind === "poll") await poll();
          else if (s.kind === "tick") world.clock.advance(s.ms);
          else {
            countdown = s.after;
            // Whatever was running when the process stopped fails with it.
            await (s.during === "deliver" ? deliver(s.pick, "once") : poll()).catch(() => {});
            countdown = null;
            await stopProcess(process);
            process = await startProcess();
          }
        }

        // Long enough for any lease to lapse and any backoff to pass; then one more poll settles it.
        world.clock.advance(16 * 60 * 1000);
        await poll();
        await poll();
        const connection = await prisma.stripeConnection.findUniqueOrThrow({ where: { id: connectionId } });
        expect(connection.status, connection.lastError ?? "").toBe("READY");
        const sdk = await stripe();
        // The org's change log: numbered without a hole, whatever crashed in between.
        const changes = await prisma.stripeChange.findMany({
          where: { orgId: connection.orgId },
          orderBy: { sequence: "asc" },
        });
        expect(changes.map((change) => change.sequence)).toEqual(
          changes.map((_, index) => changes[0]!.sequence + BigInt(index)),
        );
        for (const key of COMPARED) {
          const resource = RESOURCE_BY_KEY.get(key)!;
          const expected: Json[] = [];
          let startingAfter: string | undefined;
          for (;;) {
            const query = new URLSearchParams({ limit: "100", ...(resource.list?.params ?? {}) });
            if (startingAfter) query.set("starting_after", startingAfter);
            const page = (await sdk.rawRequest("GET", `${resource.list!.path}?${query}`)) as unknown as {
              data: Json[];
              has_more: boolean;
            };
            expected.push(...page.data);
            if (!page.has_more || page.data.length === 0) break;
            startingAfter = page.data.at(-1).id;
          }
          const rows = await delegateOf<{
            findMany(a: object): Promise<{ stripeId: string; raw: Json; deleted?: boolean }[]>;
          }>(prisma, resource.model).findMany({ where: { connectionId } });
          const live = rows.filter((row) => !(key === "customers" && row.deleted));
          expect(live.map((row) => row.stripeId).sort(), key).toEqual(expected.map((o) => o.id).sort());
          const byId = new Map(expected.map((object) => [object.id, object]));
          for (const row of live) expect(row.raw, `${key} ${row.stripeId}`).toEqual(byId.get(row.stripeId));
          // No stored object without its change in the log (crashes included: one transaction holds both).
          const logged = new Set(
            changes.filter((change) => change.type.startsWith(`${resource.object}.`)).map((c) => c.objectId),
          );
          expect(
            rows.filter((row) => !logged.has(row.stripeId)).map((row) => row.stripeId),
            key,
          ).toEqual([]);
        }
        const account = await prisma.stripeAccount.findUniqueOrThrow({ where: { connectionId } });
        expect(account.raw).toEqual(await sdk.accounts.retrieve(accountId));
        const balance = await prisma.stripeBalance.findUniqueOrThrow({ where: { connectionId } });
        expect(balance.raw).toEqual(await sdk.balance.retrieve());
        await stopProcess(process);
      }),
      { numRuns: RUNS, endOnFailure: true },
    );
  }, 600_000);
});
