// Subscribers with the same document, variables and credential share one execution per event
// (src/graphql/shared-subscriptions.ts); sharing must never cross an org, a credential or a filter.
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { parse } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedExecutions } from "../../src/graphql/shared-subscriptions.ts";
import { createLogger } from "../../src/logger.ts";
import { createPubSub } from "../../src/pubsub.ts";
import { type ConnectWorld, connectAccount, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { subscribeSSE } from "../helpers/sse.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

type Payout = { stripeId: string; amount?: number; connectionId?: string; id?: string };
type Result = { payoutUpdated: Payout };

// Plain documents (not codegen'd): two selections of one subscription.
const Wide = parse(`
  subscription Wide($connectionId: ID) {
    payoutUpdated(connectionId: $connectionId) { stripeId amount connectionId }
  }
`) as TypedDocumentNode<Result, { connectionId?: string }>;
const Narrow = parse(`
  subscription Narrow { payoutUpdated { id stripeId } }
`) as TypedDocumentNode<Result, Record<string, never>>;

describe.each(databaseTargets.slice(0, 1))("shared subscription execution on $name", (target) => {
  let world: ConnectWorld;
  const accounts = () => world.emulator.emulator.accountIds;
  let a: Awaited<ReturnType<typeof connectedOrg>>;
  let b: Awaited<ReturnType<typeof connectedOrg>>;
  let a2: { id: string; rowId: string; account: string };

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 3, seed: "subscription-sharing" });
    a = await connectedOrg(world, { name: "Shared A", webhookSigningSecret: WEBHOOK_SECRET });
    const second = await connectAccount(world, a.apiKey, accounts()[1]!);
    await world.gateway.deps.sync.idle();
    a2 = { ...second, account: accounts()[1]! };
    b = await connectedOrg(world, {
      name: "Shared B",
      accountId: accounts()[2]!,
      webhookSigningSecret: WEBHOOK_SECRET,
    });
  }, 120_000);
  afterAll(async () => {
    await world?.close();
  });

  it("hands 50 subscribers of two orgs exactly their own updates, one execution per event and key", async () => {
    const app = world.gateway.app;
    const a1 = a.connection;
    type Group = { name: string; streams: Awaited<ReturnType<typeof subscribeSSE<Result, never>>>[] };
    const group = async (name: string, count: number, open: () => ReturnType<typeof subscribeSSE>) => {
      const streams = [];
      for (let i = 0; i < count; i++) streams.push(await open());
      return { name, streams } as Group;
    };
    const groups = {
      aAll: await group("A, wide, every connection", 15, () => subscribeSSE(app, Wide, {}, a.apiKey)),
      aOnly1: await group("A, wide, connection 1", 10, () =>
        subscribeSSE(app, Wide, { connectionId: a1.id }, a.apiKey),
      ),
      aOnly2: await group("A, wide, connection 2", 5, () =>
        subscribeSSE(app, Wide, { connectionId: a2.id }, a.apiKey),
      ),
      aNarrow: await group("A, narrow", 5, () => subscribeSSE(app, Narrow, {}, a.apiKey)),
      bAll: await group("B, wide", 15, () => subscribeSSE(app, Wide, {}, b.apiKey)),
    };
    const all = Object.values(groups).flatMap((g) => g.streams);
    expect(all).toHaveLength(50);
    for (const stream of all) expect(stream.status).toBe(200);

    // Another org's connection is refused for that subscriber alone, as without sharing.
    const stranger = await subscribeSSE(app, Wide, { connectionId: a1.id }, b.apiKey);
    expect((await stranger.next()).errors?.[0]?.message).toBe("No such connection in this org.");
    stranger.close();

    const payoutOf = (rowId: string) =>
      world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
        where: { connectionId: rowId },
        orderBy: { id: "asc" },
      });
    const targets = [
      { connection: a1, org: a, payout: await payoutOf(a1.rowId) },
      { connection: a2, org: a, payout: await payoutOf(a2.rowId) },
      { connection: b.connection, org: b, payout: await payoutOf(b.connection.rowId) },
    ];
    const before = sharedExecutions.count;
    // Two rounds in order A1, A2, B: every subscriber hears something in round 2, so an update it should
    // not have heard in round 1 would show up before its last expected one.
    const sent: { connectionId: string; stripeId: string; amount: number }[] = [];
    for (let round = 1; round <= 2; round++) {
      for (const [index, { connection, org, payout }] of targets.entries()) {
        world.clock.advance(2_000);
        const amount = round * 1_000 + index;
        const event = makeEvent(
          "payout.updated",
          { ...(payout.raw as { id: string }), amount },
          { account: connection.account, created: world.clock.seconds() },
        );
        const posted = await postWebhook(app, org.rawId, JSON.stringify(event), {
          timestamp: world.clock.seconds(),
        });
        expect(posted.status).toBe(200);
        sent.push({ connectionId: connection.id, stripeId: payout.stripeId, amount });
      }
    }
    await world.gateway.deps.background.idle();

    const aIds = [a1.id, a2.id];
    const expected = {
      aAll: sent.filter((s) => aIds.includes(s.connectionId)),
      aOnly1: sent.filter((s) => s.connectionId === a1.id),
      aOnly2: sent.filter((s) => s.connectionId === a2.id),
      aNarrow: sent.filter((s) => aIds.includes(s.connectionId)),
      bAll: sent.filter((s) => s.connectionId === b.connection.id),
    };
    for (const [key, { name, streams }] of Object.entries(groups)) {
      const wanted = expected[key as keyof typeof expected];
      for (const stream of streams) {
        const heard: Payout[] = [];
        for (let i = 0; i < wanted.length; i++) {
          const next = await stream.next();
          expect(next.errors, name).toBeUndefined();
          heard.push(next.data!.payoutUpdated);
        }
        if (key === "aNarrow") {
          expect(heard, name).toEqual(wanted.map((s) => ({ id: expect.any(String), stripeId: s.stripeId })));
        } else {
          expect(heard, name).toEqual(wanted);
        }
      }
    }
    // Per event: A's three keys (wide unfiltered, wide filtered to its connection, narrow) or B's one.
    expect(sharedExecutions.count - before).toBe(2 * (3 + 3 + 1));

    // Subscribers that leave do not hold the others up, and those left still share.
    for (const stream of groups.aAll.streams.slice(5)) stream.close();
    const afterLeaving = sharedExecutions.count;
    world.clock.advance(2_000);
    const last = targets[0]!;
    const event = makeEvent(
      "payout.updated",
      { ...(last.payout.raw as { id: string }), amount: 9_999 },
      { account: last.connection.account, created: world.clock.seconds() },
    );
    expect(
      (await postWebhook(app, a.rawId, JSON.stringify(event), { timestamp: world.clock.seconds() })).status,
    ).toBe(200);
    for (const stream of groups.aAll.streams.slice(0, 5)) {
      expect((await stream.next()).data?.payoutUpdated).toEqual({
        stripeId: last.payout.stripeId,
        amount: 9_999,
        connectionId: a1.id,
      });
    }
    for (const stream of groups.aOnly1.streams) {
      expect((await stream.next()).data?.payoutUpdated.amount).toBe(9_999);
    }
    for (const stream of groups.aNarrow.streams) {
      expect((await stream.next()).data?.payoutUpdated.stripeId).toBe(last.payout.stripeId);
    }
    expect(sharedExecutions.count - afterLeaving).toBe(3);
    for (const stream of all) stream.close();
  }, 60_000);
});

describe("pubsub.subscribeWhere", () => {
  it("yields only what its filter accepts, in order, and stops listening when the subscriber leaves", async () => {
    const pubsub = createPubSub({ redisUrl: null, logger: createLogger({ level: "silent" }) });
    const mine = (id: string) => ({ orgId: "org_a", connectionId: "c1", id });
    const stream = pubsub.subscribeWhere("payout:updated", (event) => event.orgId === "org_a");
    // Listening starts with the first next(), as with Yoga's subscribe.
    const first = stream.next();
    pubsub.publish("payout:updated", { orgId: "org_b", connectionId: "c2", id: "theirs" });
    const one = mine("1");
    pubsub.publish("payout:updated", one);
    pubsub.publish("payout:updated", mine("2"));
    pubsub.publish("payout:updated", mine("3"));
    // The very payload object published: what sharing keys on.
    expect((await first).value).toBe(one);
    expect((await stream.next()).value).toEqual(mine("2"));
    expect((await stream.next()).value).toEqual(mine("3"));
    const pending = stream.next();
    await stream.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
    pubsub.publish("payout:updated", mine("4"));
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it("fails a subscriber that falls 1024 events behind instead of queueing without bound", async () => {
    const pubsub = createPubSub({ redisUrl: null, logger: createLogger({ level: "silent" }) });
    const stream = pubsub.subscribeWhere("payout:updated", () => true);
    const first = stream.next();
    for (let i = 0; i <= 1025; i++)
      pubsub.publish("payout:updated", { orgId: "o", connectionId: "c", id: `${i}` });
    expect((await first).value?.id).toBe("0");
    for (let i = 1; i <= 1024; i++) expect((await stream.next()).value?.id).toBe(`${i}`);
    await expect(stream.next()).rejects.toThrow(/fell 1024 events behind/);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
