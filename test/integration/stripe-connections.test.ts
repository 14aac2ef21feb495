import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  ConfigureStripe,
  ConnectionQuery,
  ConnectionsQuery,
  type ConnectWorld,
  DisconnectConnection,
  followAuthorization,
  PUBLIC_URL,
  ResyncConnection,
  StartConnection,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

const RETURN_URL = "https://app.example.test/stripe/done";

describe.each(databaseTargets)("connecting Stripe accounts on $name", (target) => {
  let world: ConnectWorld;
  let org: { id: string; apiKey: string; rawId: string };
  let keys: { secretKey: string; clientId: string; live: { secretKey: string; clientId: string } };

  const tokenCalls = () => world.oauthCalls.filter((call) => call.url.endsWith("/oauth/token")).length;

  async function configure(apiKey: string, input: Record<string, unknown>) {
    const result = await world.gateway.gql(ConfigureStripe, { input }, apiKey);
    expect(result.data?.setStripeConfig.__typename).toBe("SetStripeConfigSuccess");
  }

  async function start(apiKey = org.apiKey, input: Record<string, unknown> = { returnUrl: RETURN_URL }) {
    const result = await world.gateway.gql(StartConnection, { input }, apiKey);
    const payload = result.data?.startStripeConnection;
    if (payload?.__typename !== "StartStripeConnectionSuccess") throw new Error(JSON.stringify(result));
    return payload;
  }

  async function connection(id: string, apiKey = org.apiKey) {
    await world.gateway.deps.sync.idle();
    return (await world.gateway.gql(ConnectionQuery, { id }, apiKey)).data?.stripeConnection;
  }

  beforeAll(async () => {
    world = await startConnectWorld(target);
    const platform = world.emulator.emulator.platforms[0]!;
    keys = { ...platform.keys.test, live: platform.keys.live };
    org = await world.createOrg("Acme");
    await configure(org.apiKey, { clientId: keys.clientId, secretKey: keys.secretKey });
  });
  afterAll(() => world?.close());

  it("answers StripeNotConfiguredError before setStripeConfig", async () => {
    const other = await world.createOrg("Unconfigured");
    const result = await world.gateway.gql(StartConnection, { input: {} }, other.apiKey);
    expect(result.data?.startStripeConnection.__typename).toBe("StripeNotConfiguredError");
  });

  it("validates returnUrl and metadata, creating nothing", async () => {
    const before = await world.gateway.deps.db.prisma.stripeConnection.count();
    const result = await world.gateway.gql(
      StartConnection,
      { input: { returnUrl: "javascript:alert(1)", metadata: [1, 2] } },
      org.apiKey,
    );
    expect(result.data?.startStripeConnection).toMatchObject({
      __typename: "ValidationError",
      fieldErrors: [
        { path: ["input", "returnUrl"], message: "must be an absolute http(s) URL" },
        { path: ["input", "metadata"], message: "must be a JSON object" },
      ],
    });
    expect(await world.gateway.deps.db.prisma.stripeConnection.count()).toBe(before);
  });

  it("connects through Stripe Apps OAuth end to end", async () => {
    const started = await start(org.apiKey, { returnUrl: RETURN_URL, metadata: { customer: "c_42" } });
    expect(started.connection.status).toBe("PENDING");
    const url = new URL(started.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${world.emulator.url}/oauth/v2/authorize`);
    expect(url.searchParams.get("client_id")).toBe(keys.clientId);
    expect(url.searchParams.get("redirect_uri")).toBe(`${PUBLIC_URL}/stripe/proxy/${org.rawId}/redirect`);
    expect(url.searchParams.get("state")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(started.expiresAt).getTime() - world.clock.now()).toBeGreaterThan(9 * 60 * 1000);

    const { response, location } = await followAuthorization(world, started.authorizationUrl);
    expect(response.status).toBe(302);
    const back = new URL(location!);
    expect(`${back.origin}${back.pathname}`).toBe(RETURN_URL);
    expect(back.searchParams.get("status")).toBe("success");
    expect(back.searchParams.get("connection_id")).toBe(started.connection.id);
    expect(response.headers.get("cache-control")).toBe("no-store");

    const connected = await connection(started.connection.id);
    expect(connected).toMatchObject({
      status: "READY",
      method: "STRIPE_APP",
      livemode: false,
      metadata: { customer: "c_42" },
      lastError: null,
    });
    expect(connected?.stripeAccountId).toBe(world.emulator.emulator.accountIds[0]);
    expect(connected?.connectedAt).toBeTruthy();
  });

  it("stores tokens encrypted and never shows them in responses or logs", async () => {
    const row = await world.gateway.deps.db.prisma.stripeConnection.findFirstOrThrow({
      where: { orgId: org.rawId, status: "READY" },
    });
    const { apiKey } = await world.gateway.deps.credentials.credentials(row.id);
    expect(apiKey).not.toBe(keys.secretKey);
    expect(JSON.stringify(row)).not.toContain(apiKey);
    const everything = await world.gateway.gql(ConnectionsQuery, { first: 100 }, org.apiKey);
    expect(JSON.stringify(everything)).not.toContain(apiKey);
    expect(world.gateway.logs()).not.toContain(apiKey);
    expect(world.gateway.logs()).not.toContain(keys.secretKey);
  });

  it("connects the same Stripe account twice into one connection", async () => {
    const before = await world.gateway.deps.db.prisma.stripeConnection.count({ where: { orgId: org.rawId } });
    const first = (await world.gateway.gql(ConnectionsQuery, { status: ["READY"] }, org.apiKey)).data!;
    const existingId = first.stripeConnections.edges[0]!.node.id;
    const again = await start();
    const { location } = await followAuthorization(world, again.authorizationUrl);
    expect(new URL(location!).searchParams.get("connection_id")).toBe(existingId);
    expect(await world.gateway.deps.db.prisma.stripeConnection.count({ where: { orgId: org.rawId } })).toBe(
      before,
    );
  });

  it("reconnects an existing connection under the same id", async () => {
    await world.gateway.deps.sync.idle();
    const ready = (await world.gateway.gql(ConnectionsQuery, { status: ["READY"] }, org.apiKey)).data!;
    const id = ready.stripeConnections.edges[0]!.node.id;
    const again = await start(org.apiKey, { reconnectConnectionId: id, returnUrl: RETURN_URL });
    expect(again.connection.id).toBe(id);
    const { location } = await followAuthorization(world, again.authorizationUrl);
    expect(new URL(location!).searchParams.get("connection_id")).toBe(id);
    expect((await connection(id))?.status).toBe("READY");
  });

  it("sends a denied authorization back with error=access_denied, never calling the token endpoint", async () => {
    world.emulator.emulator.control.setOAuthDecision("deny");
    try {
      const started = await start();
      const calls = tokenCalls();
      const { location } = await followAuthorization(world, started.authorizationUrl);
      const back = new URL(location!);
      expect(back.searchParams.get("status")).toBe("error");
      expect(back.searchParams.get("error")).toBe("access_denied");
      expect(tokenCalls()).toBe(calls);
      const denied = await connection(started.connection.id);
      expect(denied).toMatchObject({ status: "PENDING", stripeAccountId: null });
      expect(denied?.lastError).toContain("access_denied");
    } finally {
      world.emulator.emulator.control.setOAuthDecision("approve");
    }
  });

  it("refuses forged, reused, expired and other-org states before Stripe's token endpoint", async () => {
    const redirect = (orgId: string, query: string) =>
      world.gateway.app.fetch(new Request(`${PUBLIC_URL}/stripe/proxy/${orgId}/redirect?${query}`));
    const calls = tokenCalls();

    const forged = await redirect(org.rawId, "code=ac_forged&state=forged-state-value");
    expect(forged.status).toBe(400);
    expect(await forged.text()).toContain("invalid or was already used");

    const started = await start();
    const atStripe = await fetch(started.authorizationUrl, { redirect: "manual" });
    const callback = new URL(atStripe.headers.get("location")!);
    const other = await world.createOrg("Other");
    const otherOrg = await redirect(other.rawId, callback.searchParams.toString());
    expect(otherOrg.status).toBe(400);
    expect(tokenCalls()).toBe(calls);

    // still good for its own org, once
    const ok = await world.gateway.app.fetch(new Request(callback));
    expect(new URL(ok.headers.get("location")!).searchParams.get("status")).toBe("success");
    const callsAfter = tokenCalls();
    const reused = await world.gateway.app.fetch(new Request(callback));
    expect(reused.status).toBe(400);
    expect(tokenCalls()).toBe(callsAfter);

    const late = await start();
    const lateAtStripe = await fetch(late.authorizationUrl, { redirect: "manual" });
    world.clock.advance(11 * 60 * 1000);
    const expired = await world.gateway.app.fetch(new Request(lateAtStripe.headers.get("location")!));
    expect(new URL(expired.headers.get("location")!).searchParams.get("error")).toBe("expired_state");
    expect(tokenCalls()).toBe(callsAfter);
  });

  it("reports invalid_grant for a code of the other mode", async () => {
    const liveOrg = await world.createOrg("Live key, test client");
    await configure(liveOrg.apiKey, {
      clientId: keys.clientId,
      secretKey: keys.live.secretKey,
      defaultReturnUrl: RETURN_URL,
    });
    const started = await start(liveOrg.apiKey, {});
    const { location } = await followAuthorization(world, started.authorizationUrl);
    const back = new URL(location!);
    expect(back.searchParams.get("error")).toBe("invalid_grant");
    const failed = await connection(started.connection.id, liveOrg.apiKey);
    expect(failed?.lastError).toContain("does not belong to you");
    expect(failed?.status).toBe("PENDING");
  });

  it("never sends a code twice: one 503 from Stripe's token endpoint shows a clear error page", async () => {
    const started = await start(org.apiKey, {});
    const atStripe = await fetch(started.authorizationUrl, { redirect: "manual" });
    world.emulator.emulator.control.injectFailure({
      kind: "error",
      status: 503,
      count: 1,
      pathPrefix: "/v1/oauth/token",
    });
    const calls = tokenCalls();
    const response = await world.gateway.app.fetch(new Request(atStripe.headers.get("location")!));
    // A 5xx may come after Stripe used the code: sending it again could revoke the grant.
    expect(tokenCalls() - calls).toBe(1);
    expect(response.status).toBe(502);
    expect(await response.text()).toContain("Stripe could not be reached");
    expect((await connection(started.connection.id))?.lastError).toContain("stripe_unavailable");
  });

  it("creates a connection for a Marketplace install that arrives without state", async () => {
    const installs = await world.createOrg("Marketplace");
    await configure(installs.apiKey, { clientId: keys.clientId, secretKey: keys.secretKey });
    const redirectUri = `${PUBLIC_URL}/stripe/proxy/${installs.rawId}/redirect`;
    const { response } = await followAuthorization(
      world,
      `${world.emulator.url}/oauth/v2/authorize?client_id=${keys.clientId}&redirect_uri=${encodeURIComponent(redirectUri)}`,
    );
    expect(response.status).toBe(200);
    expect(await response.text()).toContain("is now connected");
    await world.gateway.deps.sync.idle();
    const list = await world.gateway.gql(ConnectionsQuery, {}, installs.apiKey);
    expect(list.data?.stripeConnections.edges.map((edge) => edge.node.status)).toEqual(["READY"]);
  });

  it("connects through the External test link (customAuthorizationUrl)", async () => {
    const external = await world.createOrg("External test");
    const link = world.emulator.emulator.platforms[0]!.oauthLinks[0]!;
    const custom = `${world.emulator.url}/oauth/v2/${link}/authorize`;
    await configure(external.apiKey, {
      clientId: keys.clientId,
      secretKey: keys.secretKey,
      customAuthorizationUrl: custom,
    });
    const started = await start(external.apiKey);
    expect(started.authorizationUrl.startsWith(`${custom}?client_id=`)).toBe(true);
    const { location } = await followAuthorization(world, started.authorizationUrl);
    expect(new URL(location!).searchParams.get("status")).toBe("success");
  });

  it("connects and disconnects through legacy Connect, calling Stripe with the platform key", async () => {
    const legacy = await world.createOrg("Legacy");
    world.emulator.emulator.control.setNextAccount(world.emulator.emulator.accountIds[1]!);
    await configure(legacy.apiKey, {
      connectMethod: "LEGACY_CONNECT",
      clientId: keys.clientId,
      secretKey: keys.secretKey,
    });
    const started = await start(legacy.apiKey);
    const url = new URL(started.authorizationUrl);
    expect(`${url.origin}${url.pathname}`).toBe(`${world.emulator.url}/oauth/authorize`);
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("scope")).toBe("read_only");
    const { location } = await followAuthorization(world, started.authorizationUrl);
    expect(new URL(location!).searchParams.get("status")).toBe("success");
    expect(world.oauthCalls.at(-1)?.url).toBe(`${world.emulator.url}/oauth/token`);
    const connected = await connection(started.connection.id, legacy.apiKey);
    expect(connected).toMatchObject({ status: "READY", method: "LEGACY_CONNECT" });
    const row = await world.gateway.deps.db.prisma.stripeConnection.findFirstOrThrow({
      where: { orgId: legacy.rawId },
    });
    const credentials = await world.gateway.deps.credentials.credentials(row.id);
    expect(credentials).toEqual({
      apiKey: keys.secretKey,
      stripeAccount: world.emulator.emulator.accountIds[1],
    });

    const result = await world.gateway.gql(
      DisconnectConnection,
      { id: started.connection.id },
      legacy.apiKey,
    );
    expect(result.data?.disconnectStripeConnection).toMatchObject({
      __typename: "DisconnectStripeConnectionSuccess",
      connection: { status: "DISCONNECTED", lastError: null },
    });
    expect(world.oauthCalls.at(-1)?.url).toBe(`${world.emulator.url}/oauth/deauthorize`);
    const stripe = world.emulator.stripe(keys.secretKey, { maxNetworkRetries: 0 });
    await expect(
      stripe.balance.retrieve(undefined, { stripeAccount: world.emulator.emulator.accountIds[1] }),
    ).rejects.toThrow();
    world.emulator.emulator.control.setNextAccount(null);
  });

  it("refreshes an expired Stripe Apps token once for ten concurrent callers", async () => {
    const refresher = await world.createOrg("Refresher");
    world.emulator.emulator.control.setNextAccount(world.emulator.emulator.accountIds[2]!);
    await configure(refresher.apiKey, { clientId: keys.clientId, secretKey: keys.secretKey });
    const started = await start(refresher.apiKey);
    await followAuthorization(world, started.authorizationUrl);
    world.emulator.emulator.control.setNextAccount(null);
    await world.gateway.deps.sync.idle();
    const row = await world.gateway.deps.db.prisma.stripeConnection.findFirstOrThrow({
      where: { orgId: refresher.rawId },
    });

    world.clock.advance(61 * 60 * 1000);
    const before = world.oauthCalls.filter((call) => call.grantType === "refresh_token").length;
    const balances = await Promise.all(
      Array.from({ length: 10 }, () =>
        world.gateway.deps.stripe.withConnection(row.id, (stripe, request) =>
          stripe.balance.retrieve(undefined, request),
        ),
      ),
    );
    expect(balances.every((balance) => balance.object === "balance")).toBe(true);
    expect(world.oauthCalls.filter((call) => call.grantType === "refresh_token").length - before).toBe(1);
    expect((await connection(started.connection.id, refresher.apiKey))?.status).toBe("READY");

    // A refresh token Stripe refuses puts the connection in NEEDS_REAUTH with the reason.
    await world.gateway.deps.db.prisma.stripeConnection.update({
      where: { id: row.id },
      data: {
        accessTokenExpiresAt: new Date(world.clock.now() - 1000),
        refreshTokenCiphertext: world.gateway.deps.secrets.seal(
          "rt_revoked",
          `connection:${row.id}:refreshToken`,
        ),
      },
    });
    await expect(
      world.gateway.deps.stripe.withConnection(row.id, (stripe, request) =>
        stripe.balance.retrieve(undefined, request),
      ),
    ).rejects.toThrow(/needs to be reconnected/);
    const stale = await connection(started.connection.id, refresher.apiKey);
    expect(stale?.status).toBe("NEEDS_REAUTH");
    expect(stale?.lastError).toContain("Stripe refused the refresh token");
  });

  it.runIf(target.name === "postgres")(
    "refreshes once across two instances sharing the database",
    async () => {
      const shared = await world.createOrg("Two instances");
      world.emulator.emulator.control.setNextAccount(world.emulator.emulator.accountIds[2]!);
      await configure(shared.apiKey, { clientId: keys.clientId, secretKey: keys.secretKey });
      const started = await start(shared.apiKey);
      await followAuthorization(world, started.authorizationUrl);
      world.emulator.emulator.control.setNextAccount(null);
      await world.gateway.deps.sync.idle();
      const row = await world.gateway.deps.db.prisma.stripeConnection.findFirstOrThrow({
        where: { orgId: shared.rawId },
      });
      const second = await world.startSecondInstance();
      try {
        world.clock.advance(61 * 60 * 1000);
        const before = world.oauthCalls.filter((call) => call.grantType === "refresh_token").length;
        const call = (deps: typeof second.deps) =>
          deps.stripe.withConnection(row.id, (stripe, request) =>
            stripe.balance.retrieve(undefined, request),
          );
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => call(i % 2 ? second.deps : world.gateway.deps)),
        );
        expect(results).toHaveLength(10);
        expect(world.oauthCalls.filter((c) => c.grantType === "refresh_token").length - before).toBe(1);
      } finally {
        await second.close();
      }
    },
  );

  it("disconnects a Stripe App connection by dropping its tokens", async () => {
    await world.gateway.deps.sync.idle();
    const ready = (await world.gateway.gql(ConnectionsQuery, { status: ["READY"] }, org.apiKey)).data!;
    const id = ready.stripeConnections.edges[0]!.node.id;
    const result = await world.gateway.gql(DisconnectConnection, { id }, org.apiKey);
    expect(result.data?.disconnectStripeConnection).toMatchObject({ connection: { status: "DISCONNECTED" } });
    const row = await world.gateway.deps.db.prisma.stripeConnection.findFirstOrThrow({
      where: { orgId: org.rawId, status: "DISCONNECTED" },
    });
    expect(row.accessTokenCiphertext).toBeNull();
    expect(row.refreshTokenCiphertext).toBeNull();
    const resync = await world.gateway.gql(ResyncConnection, { id }, org.apiKey);
    expect(resync.data?.resyncStripeConnection).toMatchObject({ connection: { status: "DISCONNECTED" } });
  });

  it("keeps another org's connections out of reach", async () => {
    const mine = (await world.gateway.gql(ConnectionsQuery, {}, org.apiKey)).data!.stripeConnections.edges;
    expect(mine.length).toBeGreaterThan(0);
    const stranger = await world.createOrg("Stranger");
    const id = mine[0]!.node.id;
    expect(
      (await world.gateway.gql(ConnectionQuery, { id }, stranger.apiKey)).data?.stripeConnection,
    ).toBeNull();
    expect(
      (await world.gateway.gql(ConnectionsQuery, {}, stranger.apiKey)).data?.stripeConnections.edges,
    ).toEqual([]);
    const disconnect = await world.gateway.gql(DisconnectConnection, { id }, stranger.apiKey);
    expect(disconnect.data?.disconnectStripeConnection.__typename).toBe("NotFoundError");
    const resync = await world.gateway.gql(ResyncConnection, { id }, stranger.apiKey);
    expect(resync.data?.resyncStripeConnection.__typename).toBe("NotFoundError");
    const reconnect = await world.gateway.gql(
      StartConnection,
      { input: { reconnectConnectionId: id } },
      stranger.apiKey,
    );
    expect(reconnect.data?.startStripeConnection.__typename).toBe("StripeNotConfiguredError");
  });

  it("pages stripeConnections newest first and rejects page sizes over 100", async () => {
    const first = await world.gateway.gql(ConnectionsQuery, { first: 2 }, org.apiKey);
    const rest = await world.gateway.gql(
      ConnectionsQuery,
      { first: 100, after: first.data!.stripeConnections.pageInfo.endCursor },
      org.apiKey,
    );
    const all = await world.gateway.gql(ConnectionsQuery, { first: 100 }, org.apiKey);
    const ids = all.data!.stripeConnections.edges.map((edge) => edge.node.id);
    expect(
      [...first.data!.stripeConnections.edges, ...rest.data!.stripeConnections.edges].map((e) => e.node.id),
    ).toEqual(ids);
    const tooMany = await world.gateway.gql(ConnectionsQuery, { first: 101 }, org.apiKey);
    expect(tooMany.errors?.[0]?.message).toContain("between 0 and 100");
  });
});
