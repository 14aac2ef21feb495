import { randomBytes } from "node:crypto";
import type { DepsOverrides } from "../../src/deps.ts";
import { createClock, type EmulatorClock } from "../../src/emulator/clock.ts";
import { ConfigureStripe, type ConnectWorld, CreateOrgDoc, connectAccount, PUBLIC_URL } from "./connect.ts";
import type { DatabaseTarget } from "./databases.ts";
import { type StartedEmulator, startEmulator } from "./emulator.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "./gateway.ts";
import { startScratchRedis } from "./redis.ts";
import { WEBHOOK_SECRET } from "./webhooks.ts";

export type TwoInstances = {
  clock: EmulatorClock;
  emulator: StartedEmulator;
  /** A private Redis, which a test may stop and start again. */
  redis: Awaited<ReturnType<typeof startScratchRedis>>;
  a: TestGateway;
  /** The second instance; `replaceB` replaces it. */
  b: TestGateway;
  /** An org with the emulator platform's test keys and WEBHOOK_SECRET. */
  org: { apiKey: string; rawId: string };
  /** Its connected account, first sync done. */
  connection: { id: string; rowId: string; account: string };
  /** Starts another instance in B's place (once B is closed), on the same database and Redis. */
  replaceB(): Promise<TestGateway>;
  close(): Promise<void>;
};

/**
 * Two gateways sharing one fresh PostgreSQL database and a private Redis, with one org that has
 * connected the emulator's first account through A. Both run on the emulator's movable clock.
 */
export async function startTwoInstances(
  postgres: DatabaseTarget,
  overrides: Pick<DepsOverrides, "beforeStatement"> = {},
): Promise<TwoInstances> {
  const clock = createClock();
  const emulator = await startEmulator({
    clock,
    accounts: 1,
    size: "small",
    rateLimits: false,
    platforms: [{ redirectUris: [`${PUBLIC_URL}/stripe/proxy/*`] }],
  });
  const redis = await startScratchRedis();
  const env = {
    STRIPE_API_URL: emulator.url,
    STRIPE_CONNECT_URL: emulator.url,
    STRIPE_MARKETPLACE_URL: emulator.url,
    REDIS_URL: redis.url,
    ENCRYPTION_KEY: randomBytes(32).toString("base64"),
  };
  const deps = { clock: { now: () => new Date(clock.now()) }, ...overrides };
  const a = await startTestGateway(postgres, env, deps);
  const second = () => startTestGateway(postgres, { ...env, DATABASE_URL: a.deps.config.databaseUrl! }, deps);
  const b = await second();

  const created = (await a.gql(CreateOrgDoc, { name: "Two instances" }, ADMIN_KEY)).data?.createOrg;
  if (!created || !("apiKey" in created)) throw new Error("createOrg failed");
  const org = { apiKey: created.apiKey, rawId: created.org.redirectUri.split("/")[5]! };
  const keys = emulator.emulator.platforms[0]!.keys.test;
  await a.gql(
    ConfigureStripe,
    { input: { clientId: keys.clientId, secretKey: keys.secretKey, webhookSigningSecret: WEBHOOK_SECRET } },
    org.apiKey,
  );
  const world = { emulator, gateway: a, clock, oauthCalls: [] } as unknown as ConnectWorld;
  const account = emulator.emulator.accountIds[0]!;
  const connection = { ...(await connectAccount(world, org.apiKey, account)), account };
  await a.deps.sync.idle();

  const instances: TwoInstances = {
    clock,
    emulator,
    redis,
    a,
    b,
    org,
    connection,
    async replaceB() {
      instances.b = await second();
      return instances.b;
    },
    async close() {
      await instances.b.close();
      await a.close();
      await redis.stop();
      await emulator.close();
    },
  };
  return instances;
}
