// Browser access tokens (issue 13, item 4) and the org's API keys (item 5): a token minted by the org's
// backend reads its connections only — over HTTP, SSE and WebSocket — and nothing else of the org; it ends
// at its expiry or revocation, open subscriptions included; with allowConnect it starts one connection that
// carries the backend's metadata. API keys are named, listed, revoked, and their lastUsedAt kept.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { print } from "graphql";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { attachWebSocket, type WebSocketEndpoint } from "../../src/http/websocket.ts";
import { parseAccessToken } from "../../src/orgs/access-tokens.ts";
import { sha256 } from "../../src/orgs/api-keys.ts";
import { graphql } from "../graphql/gql.js";
import {
  type ConnectWorld,
  connectAccount,
  connectedOrg,
  followAuthorization,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { eventually } from "../helpers/eventually.ts";
import { subscribeSSE } from "../helpers/sse.ts";
import { makeEvent, postWebhook, WEBHOOK_SECRET } from "../helpers/webhooks.ts";

const CreateToken = graphql(`
  mutation CreateToken($input: CreateAccessTokenInput!) {
    createAccessToken(input: $input) {
      __typename
      ... on CreateAccessTokenSuccess { token accessToken { id connectionIds allowConnect expiresAt revokedAt createdAt } }
      ... on ValidationError { fieldErrors { path message } }
      ... on NotFoundError { message }
    }
  }
`);

const RevokeToken = graphql(`
  mutation RevokeToken($id: ID!) {
    revokeAccessToken(id: $id) {
      __typename
      ... on RevokeAccessTokenSuccess { accessToken { id revokedAt } }
      ... on NotFoundError { message }
    }
  }
`);

const TokenPayouts = graphql(`
  query TokenPayouts($id: ID!) {
    stripeConnection(id: $id) { id payouts(first: 5) { edges { node { id stripeId amount } } } }
  }
`);

const TokenConnections = graphql(`
  query TokenConnections { stripeConnections(first: 100) { edges { node { id status metadata } } } }
`);

const TokenNode = graphql(`
  query TokenNode($id: ID!) { node(id: $id) { id __typename } }
`);

const TokenViewer = graphql(`
  query TokenViewer { viewer { id name } }
`);

const TokenResync = graphql(`
  mutation TokenResync($id: ID!) { resyncStripeConnection(id: $id) { __typename } }
`);

const TokenStart = graphql(`
  mutation TokenStart($input: StartStripeConnectionInput) {
    startStripeConnection(input: $input) {
      __typename
      ... on StartStripeConnectionSuccess { authorizationUrl connection { id metadata } }
      ... on ValidationError { fieldErrors { path message } }
      ... on NotFoundError { message }
    }
  }
`);

const TokenPayoutUpdated = graphql(`
  subscription TokenPayoutUpdated($connectionId: ID) {
    payoutUpdated(connectionId: $connectionId) { stripeId status connectionId }
  }
`);

const Keys = graphql(`
  query Keys { viewer { apiKeys { id name createdAt lastUsedAt revokedAt } } }
`);

const CreateKey = graphql(`
  mutation CreateKey($name: String!) {
    createApiKey(input: { name: $name }) {
      __typename
      ... on CreateApiKeySuccess { apiKey key { id name createdAt lastUsedAt revokedAt } }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`);

const RevokeKey = graphql(`
  mutation RevokeKey($id: ID!) {
    revokeApiKey(id: $id) {
      __typename
      ... on RevokeApiKeySuccess { key { id revokedAt } }
      ... on NotFoundError { message }
    }
  }
`);

describe.each(databaseTargets)("browser access tokens and API keys on $name", (target) => {
  let world: ConnectWorld;
  let org: Awaited<ReturnType<typeof connectedOrg>>;
  /** A second connection of the same org, outside the tokens' scope */
  let other: { id: string; rowId: string };
  let stranger: Awaited<ReturnType<typeof connectedOrg>>;
  let server: Server;
  let websocket: WebSocketEndpoint;
  let port: number;
  let step = 0;

  beforeAll(async () => {
    world = await startConnectWorld(target, { accounts: 3, size: "tiny", seed: "access-tokens" });
    org = await connectedOrg(world, { name: "Tokens", webhookSigningSecret: WEBHOOK_SECRET });
    other = await connectAccount(world, org.apiKey, world.emulator.emulator.accountIds[1]!);
    await world.gateway.deps.sync.idle();
    stranger = await connectedOrg(world, {
      name: "Tokens, another org",
      accountId: world.emulator.emulator.accountIds[2]!,
    });
    server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: world.gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(started as Server),
      ) as Server;
    });
    port = (server.address() as AddressInfo).port;
    websocket = attachWebSocket(server, world.gateway.app.graphql, world.gateway.deps);
  }, 180_000);
  afterAll(async () => {
    await websocket?.close();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await world?.close();
  });

  async function mint(input: Record<string, unknown>, apiKey = org.apiKey) {
    const { data, errors } = await world.gateway.gql(CreateToken, { input: input as never }, apiKey);
    expect(errors).toBeUndefined();
    return data!.createAccessToken;
  }
  async function token(input: Record<string, unknown> = {}) {
    const result = await mint({ connectionIds: [org.connection.id], ...input });
    if (result.__typename !== "CreateAccessTokenSuccess") throw new Error(JSON.stringify(result));
    return result;
  }

  /** A signed payout.updated for a connection's account, newer each time. */
  async function payoutUpdate(account: string, status: string) {
    step += 1;
    const payout = await world.gateway.deps.db.prisma.stripePayout.findFirstOrThrow({
      where: { connection: { stripeAccountId: account } },
    });
    const event = makeEvent(
      "payout.updated",
      // A new description each time: an update that says what is stored already is no change, announced to no one.
      { ...(payout.raw as { id: string }), status, description: `update ${step}` },
      { account, created: world.clock.seconds() + 100 + step },
    );
    const response = await postWebhook(world.gateway.app, org.rawId, JSON.stringify(event), {
      timestamp: world.clock.seconds(),
    });
    expect(response.status).toBe(200);
    return payout.stripeId;
  }

  it("is minted by the org's API key only, for the org's connections, within its bounds", async () => {
    const created = await token();
    expect(created.token).toMatch(/^cgw_tok_/);
    expect(created.accessToken.connectionIds).toEqual([org.connection.id]);
    expect(created.accessToken.allowConnect).toBe(false);
    const lifetime = Date.parse(created.accessToken.expiresAt) - Date.parse(created.accessToken.createdAt);
    expect(lifetime).toBe(900_000);
    // Stored hashed: the row holds no part of the secret.
    const row = await world.gateway.deps.db.prisma.accessToken.findFirstOrThrow({
      where: { id: parseAccessToken(created.token)!.id },
    });
    expect(JSON.stringify(row)).not.toContain(created.token.slice(-43));
    expect(row.secretHash).toBe(sha256(created.token.slice(-43)));

    const refused = async (input: Record<string, unknown>, path: string) => {
      const before = await world.gateway.deps.db.prisma.accessToken.count();
      const result = await mint(input);
      expect(result.__typename, JSON.stringify(input)).toBe("ValidationError");
      if (result.__typename === "ValidationError")
        expect(result.fieldErrors[0]!.path).toEqual(["input", path]);
      expect(await world.gateway.deps.db.prisma.accessToken.count()).toBe(before);
    };
    await refused({ connectionIds: [] }, "connectionIds");
    await refused({ connectionIds: [org.connection.id], expiresInSeconds: 0 }, "expiresInSeconds");
    await refused({ connectionIds: [org.connection.id], expiresInSeconds: 86_401 }, "expiresInSeconds");
    await refused({ connectionIds: [org.connection.id], metadata: { user: "u_1" } }, "metadata");
    await refused({ connectionIds: [], allowConnect: true, metadata: [1, 2] }, "metadata");
    const longest = await token({ expiresInSeconds: 86_400 });
    expect(Date.parse(longest.accessToken.expiresAt) - Date.parse(longest.accessToken.createdAt)).toBe(
      86_400_000,
    );

    // Another org's connection is not found, exactly as a made-up one.
    const foreign = await mint({ connectionIds: [stranger.connection.id] });
    const madeUp = await mint({ connectionIds: ["U3RyaXBlQ29ubmVjdGlvbjpub3BlMTIz"] });
    expect(foreign).toEqual(madeUp);
    expect(foreign.__typename).toBe("NotFoundError");

    // A token cannot mint tokens.
    const minted = await world.gateway.gql(
      CreateToken,
      { input: { connectionIds: [org.connection.id] } },
      created.token,
    );
    expect(minted.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(minted.data).toBeNull();
  });

  it("reads its connection's payouts, and nothing else of the org", async () => {
    const { token: browser } = await token();
    const withKey = await world.gateway.gql(TokenPayouts, { id: org.connection.id }, org.apiKey);
    const withToken = await world.gateway.gql(TokenPayouts, { id: org.connection.id }, browser);
    expect(withToken.errors).toBeUndefined();
    expect(withToken.data).toEqual(withKey.data);
    expect(withToken.data?.stripeConnection?.payouts.edges.length).toBeGreaterThan(0);

    // Another connection of the same org, another org's: both as if they did not exist.
    for (const id of [other.id, stranger.connection.id]) {
      const outside = await world.gateway.gql(TokenPayouts, { id }, browser);
      expect(outside).toMatchObject({ status: 200, data: { stripeConnection: null } });
      expect(outside.errors).toBeUndefined();
    }
    const listed = await world.gateway.gql(TokenConnections, {}, browser);
    expect(listed.data?.stripeConnections.edges.map((edge) => edge.node.id)).toEqual([org.connection.id]);
    const otherPayout = await world.gateway.gql(TokenPayouts, { id: other.id }, org.apiKey);
    const payoutId = otherPayout.data!.stripeConnection!.payouts.edges[0]!.node.id;
    expect((await world.gateway.gql(TokenNode, { id: payoutId }, org.apiKey)).data?.node?.id).toBe(payoutId);
    expect((await world.gateway.gql(TokenNode, { id: payoutId }, browser)).data).toEqual({ node: null });
    expect((await world.gateway.gql(TokenNode, { id: org.org.id }, browser)).data).toEqual({ node: null });

    // Read-only, and the org's settings are not for browsers.
    const viewer = await world.gateway.gql(TokenViewer, {}, browser);
    expect(viewer.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const resync = await world.gateway.gql(TokenResync, { id: org.connection.id }, browser);
    expect(resync.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const keys = await world.gateway.gql(Keys, {}, browser);
    expect(keys.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("subscribes over SSE to its connection only, and the subscription ends when the token is revoked", async () => {
    const created = await token();
    const outside = await subscribeSSE(
      world.gateway.app,
      TokenPayoutUpdated,
      { connectionId: other.id },
      created.token,
    );
    await expect(outside.next()).resolves.toMatchObject({
      errors: [{ message: "No such connection in this org." }],
    });
    outside.close();

    const stream = await subscribeSSE(world.gateway.app, TokenPayoutUpdated, {}, created.token);
    try {
      expect(stream.status).toBe(200);
      await payoutUpdate(await accountOf(other.rowId), "in_transit");
      const mine = await payoutUpdate(org.account, "paid");
      // The other connection's update came first: the first event this stream sees is its own.
      const { data } = await stream.next();
      expect(data?.payoutUpdated).toMatchObject({ stripeId: mine, connectionId: org.connection.id });

      const revoked = await world.gateway.gql(RevokeToken, { id: created.accessToken.id }, org.apiKey);
      expect(revoked.data?.revokeAccessToken.__typename).toBe("RevokeAccessTokenSuccess");
      await expect(stream.next()).rejects.toThrow(/completed|ended/);
    } finally {
      stream.close();
    }
    const after = await world.gateway.gql(TokenPayouts, { id: org.connection.id }, created.token);
    expect(after.status).toBe(401);
    expect(after.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    expect(after.errors?.[0]?.message).toBe("Unknown, expired or revoked credentials.");

    // Another org cannot revoke it, nor learn that it exists.
    const again = await token();
    const foreign = await world.gateway.gql(RevokeToken, { id: again.accessToken.id }, stranger.apiKey);
    expect(foreign.data?.revokeAccessToken.__typename).toBe("NotFoundError");
    expect((await world.gateway.gql(TokenPayouts, { id: org.connection.id }, again.token)).status).toBe(200);
  });

  async function accountOf(rowId: string) {
    const row = await world.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({
      where: { id: rowId },
    });
    return row.stripeAccountId!;
  }

  it("subscribes over WebSocket with connectionParams, and the subscription ends at the token's expiry", async () => {
    // Long enough for one webhook to reach the subscriber first, even on a loaded machine.
    const created = await token({ expiresInSeconds: 4 });
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${created.token}` },
      retryAttempts: 0,
    });
    const received: unknown[] = [];
    let completed = false;
    let failed: unknown = null;
    const subscribed = new Promise<void>((resolve) => {
      client.subscribe(
        { query: print(TokenPayoutUpdated), variables: {} },
        {
          next: (value) => {
            received.push(value.data);
          },
          error: (error) => {
            failed = error;
            resolve();
          },
          complete: () => {
            completed = true;
            resolve();
          },
        },
      );
    });
    try {
      // The socket subscribes in the background: updates go on until one arrives.
      let mine = "";
      await eventually(
        async () => {
          mine = await payoutUpdate(org.account, step % 2 ? "in_transit" : "paid");
          return received.length > 0;
        },
        { intervalMs: 100 },
      );
      expect(received[0]).toMatchObject({ payoutUpdated: { stripeId: mine } });
      await subscribed;
      expect(failed).toBeNull();
      expect(completed).toBe(true);
    } finally {
      await client.dispose();
    }
    // And over HTTP, once the clock has passed its expiry.
    world.clock.advance(4_500);
    const expired = await world.gateway.gql(TokenPayouts, { id: org.connection.id }, created.token);
    expect(expired.status).toBe(401);
    expect(expired.errors?.[0]?.message).toBe("Unknown, expired or revoked credentials.");
  });

  it("starts one connection with allowConnect, carrying the backend's metadata, which joins its scope", async () => {
    const plain = await token();
    const notAllowed = await world.gateway.gql(TokenStart, { input: {} }, plain.token);
    expect(notAllowed.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");

    const metadata = { endUser: "merchant_42", plan: "pro" };
    const created = await mint({ connectionIds: [], allowConnect: true, metadata });
    if (created.__typename !== "CreateAccessTokenSuccess") throw new Error(JSON.stringify(created));
    const browser = created.token;
    const ownMetadata = await world.gateway.gql(
      TokenStart,
      { input: { metadata: { endUser: "me" } } },
      browser,
    );
    expect(ownMetadata.data?.startStripeConnection).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "metadata"] }],
    });
    // An empty scope reads nothing yet.
    expect((await world.gateway.gql(TokenConnections, {}, browser)).data?.stripeConnections.edges).toEqual(
      [],
    );

    world.emulator.emulator.control.setNextAccount(world.emulator.emulator.accountIds[2]!);
    const [first, second] = await Promise.all([
      world.gateway.gql(TokenStart, { input: {} }, browser),
      world.gateway.gql(TokenStart, { input: {} }, browser),
    ]);
    const outcomes = [first, second].map((result) =>
      result.data?.startStripeConnection?.__typename === "StartStripeConnectionSuccess"
        ? "started"
        : result.errors?.[0]?.extensions?.code,
    );
    expect(outcomes.sort()).toEqual(["FORBIDDEN", "started"]);
    const started = [first, second].find((result) => result.data)!.data!.startStripeConnection;
    if (started.__typename !== "StartStripeConnectionSuccess") throw new Error("not started");
    expect(started.connection.metadata).toEqual(metadata);
    await followAuthorization(world, started.authorizationUrl);
    world.emulator.emulator.control.setNextAccount(null);
    await world.gateway.deps.sync.idle();

    const listed = await world.gateway.gql(TokenConnections, {}, browser);
    expect(listed.data?.stripeConnections.edges).toEqual([
      { node: { id: started.connection.id, status: "READY", metadata } },
    ]);
    const third = await world.gateway.gql(TokenStart, { input: {} }, browser);
    expect(third.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
  });

  it("names, lists and revokes the org's API keys, and keeps when each was last used", async () => {
    const created = await world.gateway.gql(CreateKey, { name: "  Reporting backend " }, org.apiKey);
    const success = created.data?.createApiKey;
    if (success?.__typename !== "CreateApiKeySuccess") throw new Error(JSON.stringify(created));
    expect(success.key).toMatchObject({ name: "Reporting backend", lastUsedAt: null, revokedAt: null });
    const blank = await world.gateway.gql(CreateKey, { name: " " }, org.apiKey);
    expect(blank.data?.createApiKey).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [{ path: ["input", "name"] }],
    });

    expect((await world.gateway.gql(TokenViewer, {}, success.apiKey)).status).toBe(200);
    const listed = (await world.gateway.gql(Keys, {}, org.apiKey)).data!.viewer.apiKeys;
    expect(listed.map((key) => key.name)).toEqual(["Default", "Reporting backend"]);
    expect(listed.every((key) => key.lastUsedAt !== null)).toBe(true);
    expect(JSON.stringify(listed)).not.toContain(success.apiKey.slice(-43));

    // Written at most once a minute: used again within it, the stored time does not move.
    const usedAt = listed[1]!.lastUsedAt;
    world.clock.advance(30_000);
    await world.gateway.gql(TokenViewer, {}, success.apiKey);
    const again = (await world.gateway.gql(Keys, {}, org.apiKey)).data!.viewer.apiKeys[1]!;
    expect(again.lastUsedAt).toBe(usedAt);
    world.clock.advance(31_000);
    await world.gateway.gql(TokenViewer, {}, success.apiKey);
    const later = (await world.gateway.gql(Keys, {}, org.apiKey)).data!.viewer.apiKeys[1]!;
    expect(Date.parse(later.lastUsedAt!)).toBeGreaterThan(Date.parse(usedAt!));

    const foreign = await world.gateway.gql(RevokeKey, { id: success.key.id }, stranger.apiKey);
    expect(foreign.data?.revokeApiKey.__typename).toBe("NotFoundError");
    const revoked = await world.gateway.gql(RevokeKey, { id: success.key.id }, org.apiKey);
    expect(revoked.data?.revokeApiKey).toMatchObject({ __typename: "RevokeApiKeySuccess" });
    const refused = await world.gateway.gql(TokenViewer, {}, success.apiKey);
    expect(refused.status).toBe(401);
    expect((await world.gateway.gql(TokenViewer, {}, org.apiKey)).status).toBe(200);
  });
});
