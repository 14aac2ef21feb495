// The change log and the `changes` feed: every applied change numbered per org, nothing for a write
// that changes nothing, resumable subscriptions (after, Last-Event-ID), polling pages, cursor errors, scope.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { delegateOf } from "../../src/db/delegate.ts";
import { pruneChanges } from "../../src/feed/prune-changes.ts";
import { RESOURCES, type ResourceSpec } from "../../src/stripe/resources.ts";
import { graphql } from "../graphql/gql.js";
import { changePayout } from "../helpers/changes.ts";
import {
  type ConnectedOrg,
  type ConnectWorld,
  connectedOrg,
  ResyncConnection,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { subscribeSSE } from "../helpers/sse.ts";
import { postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const ChangesPage = graphql(`
  query ChangesPage($first: Int, $after: String, $connectionId: ID, $types: [String!]) {
    changes(first: $first, after: $after, connectionId: $connectionId, types: $types) {
      edges { cursor node { id sequence type connectionId stripeEventId occurredAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

const ChangeObjects = graphql(`
  query ChangeObjects($after: String, $types: [String!]) {
    changes(first: 5, after: $after, types: $types) {
      edges {
        node {
          type
          connection { id status }
          object { id __typename ... on StripePayout { stripeId status description } ... on StripeConnection { connectionStatus: status } }
        }
      }
    }
  }
`);

const ChangesLive = graphql(`
  subscription ChangesLive($after: String, $connectionId: ID, $types: [String!]) {
    changes(after: $after, connectionId: $connectionId, types: $types) {
      sequence type objectId: object { id }
    }
  }
`);

const CreateToken = graphql(`
  mutation ChangeFeedToken($input: CreateAccessTokenInput!) {
    createAccessToken(input: $input) { __typename ... on CreateAccessTokenSuccess { token } }
  }
`);

describe.each(databaseTargets)("the change feed on $name", (target) => {
  let world: ConnectWorld;
  let org: ConnectedOrg;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 2, size: "small" });
    org = await connectedOrg(world, { webhookSigningSecret: WEBHOOK_SECRET });
  }, 120_000);
  afterAll(() => world?.close());

  const log = (orgId = org.rawId) =>
    world.gateway.deps.db.prisma.stripeChange.findMany({ where: { orgId }, orderBy: { sequence: "asc" } });

  /** A signed payout.updated of the account's first payout with a new description: one change. */
  const updatePayout = (description: string, of: ConnectedOrg = org) => changePayout(world, of, description);

  it("numbers every change of the first sync, 1, 2, 3 … in order: connected, each object, ready", async () => {
    const changes = await log();
    expect(changes.map((change) => Number(change.sequence))).toEqual(changes.map((_, index) => index + 1));
    expect(changes[0]).toMatchObject({ type: "connection.connected", connectionId: org.connection.rowId });
    expect(changes.filter((change) => change.type === "connection.ready")).toHaveLength(1);
    // Every synced payout was created once, by the backfill (no Stripe event).
    const payouts = await world.gateway.deps.db.prisma.stripePayout.count({
      where: { connectionId: org.connection.rowId },
    });
    const created = changes.filter((change) => change.type === "payout.created");
    expect(created).toHaveLength(payouts);
    expect(new Set(created.map((change) => change.objectId)).size).toBe(payouts);
    expect(created.every((change) => change.stripeEventId === null)).toBe(true);
  });

  it("logs a webhook's change once with its event id, and nothing for its duplicate or an unchanged re-write", async () => {
    const before = (await log()).length;
    const { body, stripeId } = await updatePayout("first change");
    const after = await log();
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({
      type: "payout.updated",
      objectId: stripeId,
      stripeEventId: JSON.parse(body).id,
    });
    // The same event again: a duplicate. The same object in a newer event: written, but no change.
    const again = await postWebhook(world.gateway.app, org.rawId, body, {
      timestamp: Math.floor(world.clock.now() / 1000),
    });
    expect(again.json.outcome).toBe("duplicate");
    await updatePayout("first change");
    expect(await log()).toHaveLength(before + 1);
  });

  it("a resync of a READY connection adds only the changes Stripe really has", async () => {
    /** Every synced row of the connection, by `<stripe object> <id>`, as its stored JSON. */
    const snapshot = async () => {
      const rows = new Map<string, string>();
      for (const resource of RESOURCES as readonly ResourceSpec[]) {
        const stored = await delegateOf<{
          findMany(args: object): Promise<{ stripeId: string; raw: unknown }[]>;
        }>(world.gateway.deps.db.prisma, resource.model).findMany({
          where: { connectionId: org.connection.rowId },
          select: { stripeId: true, raw: true },
        });
        for (const row of stored) rows.set(`${resource.object} ${row.stripeId}`, JSON.stringify(row.raw));
      }
      return rows;
    };
    const before = await snapshot();
    const sequenceBefore = (await log()).length;
    // A charge is refunded at Stripe, and no webhook says so: the resync's lists find what changed.
    const charge = await world.gateway.deps.db.prisma.stripeCharge.findFirstOrThrow({
      where: { connectionId: org.connection.rowId, refunded: false, status: "succeeded" },
    });
    world.emulator.emulator.control.refundCharge(charge.stripeId);
    world.clock.advance(2000);
    const resync = await world.gateway.gql(ResyncConnection, { id: org.connection.id }, org.apiKey);
    expect(resync.errors).toBeUndefined();
    await world.gateway.deps.sync.idle();
    const added = (await log()).slice(sequenceBefore);
    const after = await snapshot();
    const reallyChanged = [...after].filter(([key, raw]) => before.get(key) !== raw).map(([key]) => key);
    expect(reallyChanged).toContain(`charge ${charge.stripeId}`);
    const logged = added
      .filter((change) => !change.type.startsWith("connection.") && change.objectId)
      .map((change) => `${change.type.slice(0, change.type.lastIndexOf("."))} ${change.objectId}`);
    expect(logged.sort()).toEqual(reallyChanged.sort());
    expect(added.map((change) => change.type)).toEqual(
      expect.arrayContaining(["connection.syncing", "connection.ready"]),
    );
  });

  it("pages the log oldest first for polling clients, filtered by type, with endCursor past what it saw", async () => {
    const all = await log();
    const first = await world.gateway.gql(ChangesPage, { first: 3 }, org.apiKey);
    expect(first.errors).toBeUndefined();
    const page = first.data!.changes;
    expect(page.edges.map((edge) => edge.node.sequence)).toEqual(["1", "2", "3"]);
    expect(page.edges.map((edge) => edge.cursor)).toEqual(["1", "2", "3"]);
    expect(page.pageInfo).toEqual({ hasNextPage: true, endCursor: "3" });
    const sequences: string[] = [];
    for (let after = "3"; ; ) {
      const rest = await world.gateway.gql(ChangesPage, { first: 1000, after }, org.apiKey);
      sequences.push(...rest.data!.changes.edges.map((edge) => edge.node.sequence));
      after = rest.data!.changes.pageInfo.endCursor!;
      if (!rest.data!.changes.pageInfo.hasNextPage) break;
    }
    expect(sequences).toEqual(all.slice(3).map((change) => String(change.sequence)));

    const updates = await world.gateway.gql(
      ChangesPage,
      { first: 1000, types: ["payout.updated", "connection.*"] },
      org.apiKey,
    );
    const types = new Set(updates.data!.changes.edges.map((edge) => edge.node.type));
    expect([...types].every((type) => type === "payout.updated" || type.startsWith("connection."))).toBe(
      true,
    );
    expect(types.has("payout.updated") && types.has("connection.ready")).toBe(true);
    // A filtered page that is not full resumes past every change it looked at, not only its matches.
    expect(updates.data!.changes.pageInfo.endCursor).toBe(String(all.length));

    const objects = await world.gateway.gql(ChangeObjects, { types: ["payout.updated"] }, org.apiKey);
    expect(objects.errors).toBeUndefined();
    const node = objects.data!.changes.edges[0]!.node;
    expect(node.connection).toEqual({ id: org.connection.id, status: "READY" });
    const stored = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
      where: { connectionId: org.connection.rowId },
      orderBy: { stripeId: "asc" },
    });
    // The object as it is now, not as the change left it.
    expect(node.object).toEqual({
      __typename: "StripePayout",
      id: expect.any(String),
      stripeId: stored.stripeId,
      status: stored.status,
      description: stored.description,
    });
    const lifecycle = await world.gateway.gql(ChangeObjects, { types: ["connection.ready"] }, org.apiKey);
    expect(lifecycle.data!.changes.edges[0]!.node.object).toMatchObject({
      __typename: "StripeConnection",
      id: org.connection.id,
    });
  });

  it("resumes a subscription after a sequence: exactly the missed changes in order, then live ones", async () => {
    const live = await subscribeSSE(world.gateway.app, ChangesLive, {}, org.apiKey);
    const seen: string[] = [];
    try {
      const first = live.next();
      await updatePayout("seen live");
      const event = await first;
      seen.push(event.data!.changes.sequence);
      expect(live.lastEventId).toBe(event.data!.changes.sequence);
    } finally {
      live.close();
    }
    // Disconnected: 50 changes happen.
    const missed: string[] = [];
    for (let i = 0; i < 50; i++) {
      await updatePayout(`missed ${i}`);
      missed.push(String((await log()).at(-1)!.sequence));
    }
    const resumed = await subscribeSSE(world.gateway.app, ChangesLive, { after: seen[0] }, org.apiKey);
    try {
      const replayed: string[] = [];
      for (let i = 0; i < 50; i++) replayed.push((await resumed.next()).data!.changes.sequence);
      expect(replayed).toEqual(missed);
      const next = resumed.next();
      await updatePayout("after the replay");
      expect((await next).data!.changes).toMatchObject({
        sequence: String(Number(missed.at(-1)) + 1),
        type: "payout.updated",
      });
    } finally {
      resumed.close();
    }
  });

  it("keeps serving a subscriber that arrives while the org's last one here leaves", async () => {
    const feed = world.gateway.deps.changeFeed;
    const filter = { orgId: org.rawId, connectionIds: null, types: null };
    const leaving = await feed.subscribe(filter, null);
    const arriving = feed.subscribe(filter, null);
    await leaving.return?.();
    const stream = await arriving;
    try {
      const next = stream.next();
      await updatePayout("while the last one left");
      const heard = await Promise.race([
        next,
        new Promise<null>((resolve) => setTimeout(() => resolve(null), 5_000)),
      ]);
      expect(heard?.value).toMatchObject({ type: "payout.updated", orgId: org.rawId });
    } finally {
      await stream.return?.();
    }
  });

  it("honours Last-Event-ID on an SSE reconnect, over the after it started with", async () => {
    const first = await subscribeSSE(world.gateway.app, ChangesLive, { after: "1" }, org.apiKey);
    let lastEventId: string;
    try {
      await first.next();
      await first.next();
      lastEventId = first.lastEventId!;
      expect(lastEventId).toBe("3");
    } finally {
      first.close();
    }
    // The reconnect repeats the request (after: "1") and sends the id it saw last.
    const again = await subscribeSSE(world.gateway.app, ChangesLive, { after: "1" }, org.apiKey, {
      "last-event-id": lastEventId,
    });
    try {
      expect((await again.next()).data!.changes.sequence).toBe("4");
      expect(again.lastEventId).toBe("4");
    } finally {
      again.close();
    }
  });

  it("refuses malformed, foreign-looking and expired cursors with their codes, and changes nothing", async () => {
    for (const after of ["abc", "-1", "1.5", "99999999999999999999"]) {
      const page = await world.gateway.gql(ChangesPage, { after }, org.apiKey);
      expect(page.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      const stream = await subscribeSSE(world.gateway.app, ChangesLive, { after }, org.apiKey);
      expect((await stream.next()).errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
      stream.close();
    }
    const ahead = await world.gateway.gql(ChangesPage, { after: "100000000" }, org.apiKey);
    expect(ahead.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const badType = await world.gateway.gql(ChangesPage, { types: ["payout.up dated"] }, org.apiKey);
    expect(badType.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");

    // Retention: everything older than the window goes; a cursor before it has expired.
    const other = await connectedOrg(world, {
      name: "Retention",
      accountId: world.emulator.emulator.accountIds[1],
      webhookSigningSecret: WEBHOOK_SECRET,
    });
    const kept = (await log(other.rawId)).length;
    const later = { now: () => new Date(world.clock.now() + 8 * 24 * 3600 * 1000) };
    const dropped = await pruneChanges({ db: world.gateway.deps.db, clock: later }, 7);
    expect(dropped).toBeGreaterThanOrEqual(kept);
    const expired = await world.gateway.gql(ChangesPage, { after: "1" }, other.apiKey);
    expect(expired.errors?.[0]?.extensions?.code).toBe("CHANGE_CURSOR_EXPIRED");
    const stream = await subscribeSSE(world.gateway.app, ChangesLive, { after: "1" }, other.apiKey);
    expect((await stream.next()).errors?.[0]?.extensions?.code).toBe("CHANGE_CURSOR_EXPIRED");
    stream.close();
    // The newest sequence still resumes: nothing after it was pruned.
    const fresh = await world.gateway.gql(ChangesPage, { after: String(kept) }, other.apiKey);
    expect(fresh.errors).toBeUndefined();
    expect(fresh.data!.changes.edges).toEqual([]);
    const next = await updatePayout("after pruning", other);
    const afterPrune = await world.gateway.gql(ChangesPage, { after: String(kept) }, other.apiKey);
    expect(afterPrune.data!.changes.edges.map((edge) => edge.node.sequence)).toEqual([String(kept + 1)]);
    expect(next.stripeId).toMatch(/^po_/);
  });

  it("shows an access token only its connections' changes, replay included; another org's nothing", async () => {
    const second = await connectedOrg(world, {
      name: "Two accounts",
      accountId: world.emulator.emulator.accountIds[0],
      webhookSigningSecret: WEBHOOK_SECRET,
    });
    const minted = await world.gateway.gql(
      CreateToken,
      { input: { connectionIds: [second.connection.id] } },
      second.apiKey,
    );
    if (minted.data?.createAccessToken.__typename !== "CreateAccessTokenSuccess")
      throw new Error(JSON.stringify(minted));
    const token = minted.data.createAccessToken.token;
    const asToken = await world.gateway.gql(ChangesPage, { first: 1000 }, token);
    expect(asToken.errors).toBeUndefined();
    const ids = new Set(asToken.data!.changes.edges.map((edge) => edge.node.connectionId));
    expect([...ids]).toEqual([second.connection.id]);

    // The first org's changes are not the second's: its sequences name the second org's own changes.
    const mine = await world.gateway.gql(ChangesPage, { first: 1000 }, org.apiKey);
    const theirs = new Set(asToken.data!.changes.edges.map((edge) => edge.node.id));
    expect(mine.data!.changes.edges.some((edge) => theirs.has(edge.node.id))).toBe(false);

    const replay = await subscribeSSE(world.gateway.app, ChangesLive, { after: "0" }, token);
    try {
      const first = await replay.next();
      expect(first.errors).toBeUndefined();
      expect(first.data!.changes.type).toBe("connection.connected");
    } finally {
      replay.close();
    }
  });
});
