import { decodeGlobalID } from "@pothos/plugin-relay";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCESS_TOKEN_LIFETIME_MS } from "../../src/connections/tokens.ts";
import type { HttpFetch } from "../../src/stripe/oauth.ts";
import {
  ConfigureStripe,
  type ConnectWorld,
  connectAccount,
  followAuthorization,
  StartConnection,
  startConnectWorld,
} from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";

const RETURN_URL = "https://app.example.test/stripe/done";
const TOKEN_PATH = "/v1/oauth/token";

describe.each(databaseTargets)("token calls that cannot lose a token on $name", (target) => {
  let world: ConnectWorld;

  const grants = (grantType: string) =>
    world.oauthCalls.filter((call) => call.grantType === grantType).length;
  const row = (id: string) =>
    world.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({ where: { id } });
  const expireAccessTokens = () => world.clock.advance(ACCESS_TOKEN_LIFETIME_MS + 60_000);
  const balanceWith = (apiKey: string) =>
    world.emulator.stripe(apiKey, { maxNetworkRetries: 0 }).balance.retrieve();

  async function newOrg(name: string) {
    const org = await world.createOrg(name);
    const { clientId, secretKey } = world.emulator.emulator.platforms[0]!.keys.test;
    const configured = await world.gateway.gql(
      ConfigureStripe,
      { input: { clientId, secretKey, defaultReturnUrl: RETURN_URL } },
      org.apiKey,
    );
    expect(configured.data?.setStripeConfig.__typename).toBe("SetStripeConfigSuccess");
    return org;
  }

  /** A READY Stripe App connection of a new org, its first sync done. */
  async function connected(name: string) {
    const org = await newOrg(name);
    const { rowId } = await connectAccount(world, org.apiKey, world.emulator.emulator.accountIds[0]!);
    await world.gateway.deps.sync.idle();
    expect((await row(rowId)).status).toBe("READY");
    return rowId;
  }

  const secondInstance = (fetch?: HttpFetch) => world.startSecondInstance({ fetch });

  beforeAll(async () => {
    world = await startConnectWorld(target, { size: "tiny" });
  });
  afterAll(() => world?.close());

  it("never retries a code exchange whose answer was lost, and a new attempt works", async () => {
    const org = await newOrg("Lost exchange");
    const started = (await world.gateway.gql(StartConnection, { input: {} }, org.apiKey)).data
      ?.startStripeConnection;
    if (started?.__typename !== "StartStripeConnectionSuccess") throw new Error("start failed");
    world.emulator.emulator.control.injectFailure({ kind: "drop_response", pathPrefix: TOKEN_PATH });
    const before = grants("authorization_code");

    const { location } = await followAuthorization(world, started.authorizationUrl);

    expect(grants("authorization_code") - before).toBe(1);
    const back = new URL(location!);
    expect(`${back.origin}${back.pathname}`).toBe(RETURN_URL);
    expect(back.searchParams.get("status")).toBe("error");
    expect(back.searchParams.get("error")).toBe("stripe_unavailable");
    const failed = await row(decodeGlobalID(started.connection.id).id);
    expect(failed.status).toBe("PENDING");
    expect(failed.lastError).toContain("stripe_unavailable");

    const again = await connectAccount(world, org.apiKey, world.emulator.emulator.accountIds[1]!);
    await world.gateway.deps.sync.idle();
    expect((await row(again.rowId)).status).toBe("READY");
  });

  it("does not retry a refresh whose answer was lost, nor blame the connection for it", async () => {
    const id = await connected("Lost refresh");
    expireAccessTokens();
    world.emulator.emulator.control.injectFailure({ kind: "drop_response", pathPrefix: TOKEN_PATH });
    const before = grants("refresh_token");

    await expect(world.gateway.deps.credentials.credentials(id)).rejects.toMatchObject({
      name: "StripeUnavailableError",
    });

    expect(grants("refresh_token") - before).toBe(1);
    const after = await row(id);
    expect(after.status).not.toBe("NEEDS_REAUTH");
    expect(after.tokenRefreshOwner).toBeNull();
  });

  // One target is enough for a test that waits 31 s.
  it.runIf(target.name === "embedded")(
    "keeps the rotated token of a refresh slower than 30 seconds",
    async () => {
      const id = await connected("Slow refresh");
      expireAccessTokens();
      // Enough slow answers for every attempt an old retrying client would make.
      world.emulator.emulator.control.injectFailure({
        kind: "latency",
        ms: 31_000,
        count: 3,
        pathPrefix: TOKEN_PATH,
      });
      const before = grants("refresh_token");
      try {
        const { apiKey } = await world.gateway.deps.credentials.credentials(id);
        expect((await balanceWith(apiKey)).object).toBe("balance");
      } finally {
        world.emulator.emulator.control.clearFailures();
      }
      const balance = await world.gateway.deps.stripe.withConnection(id, (stripe, request) =>
        stripe.balance.retrieve(undefined, request),
      );
      expect(balance.object).toBe("balance");
      expect(grants("refresh_token") - before).toBe(1);
      expect((await row(id)).status).toBe("READY");
    },
    90_000,
  );

  it("refreshes once when two instances need the token at the same moment, holding no lock meanwhile", async () => {
    const id = await connected("Two instances");
    const leaseDuringRefresh: (string | null)[] = [];
    const spy = world.gateway.deps.fetch;
    // Reading the row while Stripe is called shows who holds the lease, and that nothing locks the row.
    const observing: HttpFetch = async (input, init) => {
      if (String(init?.body).includes("grant_type=refresh_token")) {
        leaseDuringRefresh.push((await row(id)).tokenRefreshOwner);
      }
      return spy(input, init);
    };
    const first = await secondInstance(observing);
    const second = await secondInstance(observing);
    try {
      expireAccessTokens();
      const before = grants("refresh_token");
      const [a, b] = await Promise.all([
        first.deps.credentials.credentials(id),
        second.deps.credentials.credentials(id),
      ]);
      expect(grants("refresh_token") - before).toBe(1);
      expect(leaseDuringRefresh).toHaveLength(1);
      expect(leaseDuringRefresh[0]).toEqual(expect.any(String));
      expect(b.apiKey).toBe(a.apiKey);
      expect((await balanceWith(a.apiKey)).object).toBe("balance");
      expect((await row(id)).tokenRefreshOwner).toBeNull();
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("uses the token another instance rotated in the meantime instead of NEEDS_REAUTH", async () => {
    const id = await connected("Rotated elsewhere");
    let rotated: Promise<{ apiKey: string }> | null = null;
    const spy = world.gateway.deps.fetch;
    // The second instance stalls past its lease just before its refresh reaches Stripe; the first
    // instance takes over and rotates the refresh token the second is about to send.
    const stalling: HttpFetch = async (input, init) => {
      if (!rotated && String(init?.body).includes("grant_type=refresh_token")) {
        await world.gateway.deps.db.prisma.stripeConnection.updateMany({
          where: { id },
          data: { tokenRefreshUntil: new Date(world.clock.now() - 1) },
        });
        rotated = world.gateway.deps.credentials.credentials(id);
        await rotated;
      }
      return spy(input, init);
    };
    const second = await secondInstance(stalling);
    try {
      expireAccessTokens();
      const before = grants("refresh_token");
      const late = await second.deps.credentials.credentials(id);
      expect(grants("refresh_token") - before).toBe(2);
      expect(late.apiKey).toBe((await rotated!).apiKey);
      expect((await balanceWith(late.apiKey)).object).toBe("balance");
      const after = await row(id);
      expect(after.status).toBe("READY");
      expect(after.lastError).toBeNull();
    } finally {
      await second.close();
    }
  });
});
