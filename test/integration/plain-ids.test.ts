// One id a user can paste anywhere: `plainId` on Org and StripeConnection, and every ID argument naming an
// org or a connection takes it as well as the global id — with each scope check as before.
import { encodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManifestCommand } from "../../src/manifest/cli.ts";
import { graphql } from "../graphql/gql.js";
import {
  type ConnectedOrg,
  type ConnectWorld,
  connectedOrg,
  DisconnectConnection,
  ResyncConnection,
  StartConnection,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { subscribeSSE } from "../helpers/sse.ts";

const ViewerIds = graphql(`
  query ViewerIds { viewer { id plainId } }
`);

const ConnectionIds = graphql(`
  query ConnectionIds($id: ID!) { stripeConnection(id: $id) { id plainId status } }
`);

const NodeIds = graphql(`
  query NodeIds($id: ID!) {
    node(id: $id) {
      id
      ... on Org { plainId name }
      ... on StripeConnection { plainId }
    }
  }
`);

const MintToken = graphql(`
  mutation MintPlainToken($ids: [ID!]!) {
    createAccessToken(input: { connectionIds: $ids }) {
      __typename
      ... on CreateAccessTokenSuccess { token accessToken { connectionIds } }
      ... on NotFoundError { message }
    }
  }
`);

const Updates = graphql(`
  subscription PlainConnectionUpdates($connectionId: ID) { connectionUpdated(connectionId: $connectionId) { id status } }
`);

describe.each(databaseTargets)("plain org_…/conn_… ids on $name", (target) => {
  let world: ConnectWorld;
  let mine: ConnectedOrg;
  let theirs: ConnectedOrg;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 2, seed: "plain-ids" });
    mine = await connectedOrg(world, { name: "Mine" });
    theirs = await connectedOrg(world, { name: "Theirs", accountId: world.emulator.emulator.accountIds[1] });
  }, 120_000);
  afterAll(() => world?.close());

  it("exposes plainId beside the global id", async () => {
    const viewer = await world.gateway.gql(ViewerIds, {}, mine.apiKey);
    expect(viewer.data?.viewer).toEqual({ id: mine.org.id, plainId: mine.rawId });
    expect(mine.rawId).toMatch(/^org_/);
    const connection = await world.gateway.gql(ConnectionIds, { id: mine.connection.id }, mine.apiKey);
    expect(connection.data?.stripeConnection).toMatchObject({
      id: mine.connection.id,
      plainId: mine.connection.rowId,
    });
    expect(mine.connection.rowId).toMatch(/^conn_/);
  });

  it("finds by either form, and only the caller's own", async () => {
    const byPlain = await world.gateway.gql(ConnectionIds, { id: mine.connection.rowId }, mine.apiKey);
    expect(byPlain.data?.stripeConnection).toMatchObject({ id: mine.connection.id, status: "READY" });
    const node = await world.gateway.gql(NodeIds, { id: mine.connection.rowId }, mine.apiKey);
    expect(node.data?.node).toEqual({ id: mine.connection.id, plainId: mine.connection.rowId });
    const org = await world.gateway.gql(NodeIds, { id: ` ${mine.rawId} ` }, mine.apiKey);
    expect(org.data?.node).toEqual({ id: mine.org.id, plainId: mine.rawId, name: "Mine" });

    expect(
      (await world.gateway.gql(ConnectionIds, { id: theirs.connection.rowId }, mine.apiKey)).data
        ?.stripeConnection,
    ).toBeNull();
    expect(
      (await world.gateway.gql(NodeIds, { id: theirs.connection.rowId }, mine.apiKey)).data?.node,
    ).toBeNull();
    expect((await world.gateway.gql(NodeIds, { id: theirs.rawId }, mine.apiKey)).data?.node).toBeNull();
    // A synced object's row id (conn_…:po_…) is not a plain connection id.
    const rowLike = await world.gateway.gql(
      ConnectionIds,
      { id: `${mine.connection.rowId}:po_1` },
      mine.apiKey,
    );
    expect(rowLike.errors?.[0]?.message).toMatch(/Invalid global ID/);
  });

  it("resync, reconnect and disconnect take the plain id; another org's is NotFound", async () => {
    const resynced = await world.gateway.gql(ResyncConnection, { id: mine.connection.rowId }, mine.apiKey);
    expect(resynced.data?.resyncStripeConnection).toMatchObject({
      __typename: "ResyncStripeConnectionSuccess",
      connection: { id: mine.connection.id },
    });
    await world.gateway.deps.sync.idle();
    const reconnect = await world.gateway.gql(
      StartConnection,
      { input: { reconnectConnectionId: mine.connection.rowId } },
      mine.apiKey,
    );
    expect(reconnect.data?.startStripeConnection).toMatchObject({
      __typename: "StartStripeConnectionSuccess",
      connection: { id: mine.connection.id },
    });
    for (const id of [theirs.connection.rowId, theirs.rawId, "conn_", "garbage"]) {
      const other = await world.gateway.gql(
        StartConnection,
        { input: { reconnectConnectionId: id } },
        mine.apiKey,
      );
      expect(other.data?.startStripeConnection.__typename).toBe("NotFoundError");
    }
    const notMine = await world.gateway.gql(
      DisconnectConnection,
      { id: theirs.connection.rowId },
      mine.apiKey,
    );
    expect(notMine.data?.disconnectStripeConnection.__typename).toBe("NotFoundError");
    expect(
      (
        await world.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
          where: { id: theirs.connection.rowId },
        })
      ).status,
    ).not.toBe("DISCONNECTED");
  });

  it("access tokens take plain connection ids and keep their scope", async () => {
    const minted = await world.gateway.gql(MintToken, { ids: [mine.connection.rowId] }, mine.apiKey);
    const token = minted.data?.createAccessToken;
    if (token?.__typename !== "CreateAccessTokenSuccess") throw new Error(JSON.stringify(minted));
    expect(token.accessToken.connectionIds).toEqual([mine.connection.id]);
    const own = await world.gateway.gql(ConnectionIds, { id: mine.connection.rowId }, token.token);
    expect(own.data?.stripeConnection?.id).toBe(mine.connection.id);
    expect((await world.gateway.gql(NodeIds, { id: mine.rawId }, token.token)).data?.node).toBeNull();
    const foreign = await world.gateway.gql(MintToken, { ids: [theirs.connection.rowId] }, mine.apiKey);
    expect(foreign.data?.createAccessToken.__typename).toBe("NotFoundError");
  });

  it("subscriptions narrow by the plain id, and refuse another org's", async () => {
    const refused = await subscribeSSE(
      world.gateway.app,
      Updates,
      { connectionId: theirs.connection.rowId },
      mine.apiKey,
    );
    try {
      expect((await refused.next()).errors?.[0]?.message).toBe("No such connection in this org.");
    } finally {
      refused.close();
    }
    const stream = await subscribeSSE(
      world.gateway.app,
      Updates,
      { connectionId: mine.connection.rowId },
      mine.apiKey,
    );
    try {
      const disconnected = await world.gateway.gql(
        DisconnectConnection,
        { id: mine.connection.rowId },
        mine.apiKey,
      );
      expect(disconnected.data?.disconnectStripeConnection.__typename).toBe(
        "DisconnectStripeConnectionSuccess",
      );
      let update = await stream.next();
      while (update.data?.connectionUpdated.status !== "DISCONNECTED") update = await stream.next();
      expect(update.data.connectionUpdated.id).toBe(mine.connection.id);
    } finally {
      stream.close();
    }
  });

  it("the CLI's --org-id takes the GraphQL id too", async () => {
    const lines: string[] = [];
    const io = { out: (line: string) => lines.push(line), err: (line: string) => lines.push(line) };
    const globalId = encodeGlobalID("Org", mine.rawId);
    await createManifestCommand(() => "https://gateway.example.com", io).parseAsync(
      ["generate", "--org-id", globalId, "--out", "-"],
      { from: "user" },
    );
    const manifest = JSON.parse(lines.join("\n")) as { allowed_redirect_uris: string[] };
    expect(manifest.allowed_redirect_uris).toEqual([
      `https://gateway.example.com/stripe/proxy/${mine.rawId}/redirect`,
    ]);
  });
});
