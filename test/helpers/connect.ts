import { decodeGlobalID } from "@pothos/plugin-relay";
import type { Deps, DepsOverrides } from "../../src/deps.ts";
import { createClock, type EmulatorClock } from "../../src/emulator/clock.ts";
import type { EmulatorOptions } from "../../src/emulator/create-emulator.ts";
import type { HttpFetch } from "../../src/stripe/oauth.ts";
import { graphql } from "../graphql/gql.js";
import type { DatabaseTarget } from "./databases.ts";
import { type StartedEmulator, startEmulator } from "./emulator.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "./gateway.ts";

export const PUBLIC_URL = "https://gateway.test";

export const StartConnection = graphql(`
  mutation StartConnection($input: StartStripeConnectionInput) {
    startStripeConnection(input: $input) {
      __typename
      ... on StartStripeConnectionSuccess { authorizationUrl expiresAt connection { id status method } }
      ... on Error { message }
      ... on ValidationError { fieldErrors { path message } }
    }
  }
`);

export const ConnectionQuery = graphql(`
  query Connection($id: ID!) {
    stripeConnection(id: $id) {
      id status method stripeAccountId livemode metadata connectedAt lastSyncedAt lastError
    }
  }
`);

export const ConnectionsQuery = graphql(`
  query Connections($first: Int, $after: String, $status: [StripeConnectionStatus!]) {
    stripeConnections(first: $first, after: $after, status: $status) {
      edges { cursor node { id status stripeAccountId } }
      pageInfo { hasNextPage endCursor }
    }
  }
`);

export const DisconnectConnection = graphql(`
  mutation Disconnect($id: ID!) {
    disconnectStripeConnection(id: $id) {
      __typename
      ... on DisconnectStripeConnectionSuccess { connection { id status lastError } }
      ... on NotFoundError { message }
    }
  }
`);

export const ResyncConnection = graphql(`
  mutation Resync($id: ID!) {
    resyncStripeConnection(id: $id) {
      __typename
      ... on ResyncStripeConnectionSuccess { connection { id status } }
      ... on NotFoundError { message }
    }
  }
`);

export const CreateOrgDoc = graphql(`
  mutation CreateOrgForConnect($name: String!) {
    createOrg(input: { name: $name }) {
      ... on CreateOrgSuccess { apiKey org { id redirectUri } }
    }
  }
`);

export const ConfigureStripe = graphql(`
  mutation ConfigureStripe($input: SetStripeConfigInput!) {
    setStripeConfig(input: $input) { __typename ... on ValidationError { message } }
  }
`);

/** Calls made to Stripe's OAuth endpoints, as the gateway sent them. */
export type OAuthCall = { url: string; grantType: string | null };

export type ConnectWorld = {
  emulator: StartedEmulator;
  gateway: TestGateway;
  clock: EmulatorClock;
  oauthCalls: OAuthCall[];
  createOrg(name: string): Promise<{ id: string; apiKey: string; rawId: string }>;
  /** An org with the emulator platform's test keys as its Stripe config (and a signing secret, if given). */
  createConfiguredOrg(
    name: string,
    options?: { webhookSigningSecret?: string },
  ): Promise<{ id: string; apiKey: string; rawId: string }>;
  /** Another gateway instance on the same database, with the same key, clock and OAuth spy (or `fetch`). */
  startSecondInstance(options?: { fetch?: HttpFetch }): Promise<{ deps: Deps; close(): Promise<void> }>;
  close(): Promise<void>;
};

/** The gateway (in-process) and the emulator (real port) sharing one movable clock. */
export async function startConnectWorld(
  target: DatabaseTarget,
  options: Pick<EmulatorOptions, "size" | "accounts" | "rateLimits" | "seed"> & {
    retryBaseMs?: number;
    /** Max age of the gateway's cached lookups (tests that count statements make it long). */
    cacheMaxAgeMs?: number;
    /** Sees every SQL statement before it runs; throwing fails it (a crash between two statements). */
    beforeStatement?: (sql: string) => void;
    /** Where both clocks start (default: now). */
    clockStart?: number;
    /** Puts a stand-in between the gateway and the emulator's API: returns the URL the gateway calls. */
    apiUrl?: (emulatorUrl: string) => Promise<string>;
    /** Webhook delivery settings of every instance (a short retry schedule, lease, poll) */
    webhooks?: DepsOverrides["webhooks"];
    /** More of the gateway's environment (e.g. SYNC_BACKFILLS_AT_ONCE) */
    env?: Record<string, string>;
  } = {},
): Promise<ConnectWorld> {
  const {
    retryBaseMs,
    cacheMaxAgeMs,
    beforeStatement,
    clockStart,
    apiUrl,
    webhooks,
    env,
    ...emulatorOptions
  } = options;
  const clock = createClock({ start: clockStart });
  const emulator = await startEmulator({
    clock,
    accounts: 3,
    size: "small",
    rateLimits: false,
    ...emulatorOptions,
    platforms: [{ redirectUris: [`${PUBLIC_URL}/stripe/proxy/*`] }],
  });
  const oauthCalls: OAuthCall[] = [];
  const spyingFetch: HttpFetch = async (input, init) => {
    const body = typeof init?.body === "string" ? new URLSearchParams(init.body) : null;
    oauthCalls.push({ url: String(input), grantType: body?.get("grant_type") ?? null });
    return fetch(input, init);
  };
  const gateway = await startTestGateway(
    target,
    {
      STRIPE_API_URL: apiUrl ? await apiUrl(emulator.url) : emulator.url,
      STRIPE_CONNECT_URL: emulator.url,
      STRIPE_MARKETPLACE_URL: emulator.url,
      ...env,
    },
    {
      clock: { now: () => new Date(clock.now()) },
      fetch: spyingFetch,
      retryBaseMs,
      cacheMaxAgeMs,
      beforeStatement,
      webhooks,
    },
  );
  const createOrg = async (name: string) => {
    const result = await gateway.gql(CreateOrgDoc, { name }, ADMIN_KEY);
    const created = result.data?.createOrg;
    if (!created || !("apiKey" in created)) throw new Error(JSON.stringify(result));
    return { id: created.org.id, apiKey: created.apiKey, rawId: created.org.redirectUri.split("/")[5]! };
  };
  return {
    emulator,
    gateway,
    clock,
    oauthCalls,
    createOrg,
    async startSecondInstance({ fetch = gateway.deps.fetch } = {}) {
      const { config, clock } = gateway.deps;
      const second = await startTestGateway(
        target,
        {
          DATABASE_URL: config.databaseUrl!,
          ENCRYPTION_KEY: config.encryptionKey!.toString("base64"),
          STRIPE_API_URL: config.stripe.apiUrl,
          STRIPE_CONNECT_URL: config.stripe.connectUrl,
          STRIPE_MARKETPLACE_URL: config.stripe.marketplaceUrl,
        },
        { clock, fetch, webhooks },
      );
      return { deps: second.deps, close: () => second.close() };
    },
    async createConfiguredOrg(name, { webhookSigningSecret } = {}) {
      const org = await createOrg(name);
      const keys = emulator.emulator.platforms[0]!.keys.test;
      const configured = await gateway.gql(
        ConfigureStripe,
        { input: { clientId: keys.clientId, secretKey: keys.secretKey, webhookSigningSecret } },
        org.apiKey,
      );
      if (configured.data?.setStripeConfig.__typename !== "SetStripeConfigSuccess")
        throw new Error(JSON.stringify(configured));
      return org;
    },
    async close() {
      await gateway.close();
      await emulator.close();
    },
  };
}

/** Follows the merchant's browser: the authorize URL on "Stripe", then the redirect to the gateway. */
export async function followAuthorization(world: ConnectWorld, authorizationUrl: string) {
  const atStripe = await fetch(authorizationUrl, { redirect: "manual" });
  const callback = atStripe.headers.get("location");
  if (atStripe.status !== 302 || !callback) {
    throw new Error(`Stripe did not redirect (${atStripe.status}): ${await atStripe.text()}`);
  }
  const response = await world.gateway.app.fetch(new Request(callback));
  return { callback, response, location: response.headers.get("location") };
}

/** Connects one emulator account to an org (already configured) and returns the connection's ids. */
export async function connectAccount(world: ConnectWorld, apiKey: string, accountId: string) {
  world.emulator.emulator.control.setNextAccount(accountId);
  try {
    const result = await world.gateway.gql(StartConnection, { input: {} }, apiKey);
    const started = result.data?.startStripeConnection;
    if (started?.__typename !== "StartStripeConnectionSuccess") throw new Error(JSON.stringify(result));
    await followAuthorization(world, started.authorizationUrl);
    return { id: started.connection.id, rowId: decodeGlobalID(started.connection.id).id };
  } finally {
    world.emulator.emulator.control.setNextAccount(null);
  }
}

export type ConnectedOrg = {
  org: { id: string; apiKey: string; rawId: string };
  apiKey: string;
  /** The org's id in webhook and redirect URLs */
  rawId: string;
  /** The connected Stripe account */
  account: string;
  /** The connection's GraphQL id and database row id */
  connection: { id: string; rowId: string; account: string };
};

/**
 * The usual start of a test: an org configured with the emulator platform's test keys (and a webhook
 * signing secret, if given) that has connected one emulator account (default: the first), its first sync
 * done and the connection READY.
 */
export async function connectedOrg(
  world: ConnectWorld,
  options: { name?: string; accountId?: string; webhookSigningSecret?: string } = {},
): Promise<ConnectedOrg> {
  const account = options.accountId ?? world.emulator.emulator.accountIds[0]!;
  const org = await world.createConfiguredOrg(options.name ?? "Connected", {
    webhookSigningSecret: options.webhookSigningSecret,
  });
  const { id, rowId } = await connectAccount(world, org.apiKey, account);
  await world.gateway.deps.sync.idle();
  const row = await world.gateway.deps.db.prisma.stripeConnection.findUniqueOrThrow({ where: { id: rowId } });
  if (row.status !== "READY") {
    throw new Error(`connection of ${account} is ${row.status} after its first sync: ${row.lastError}`);
  }
  return { org, apiKey: org.apiKey, rawId: org.rawId, account, connection: { id, rowId, account } };
}
