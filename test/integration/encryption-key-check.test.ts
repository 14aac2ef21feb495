import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";
import { sealToken } from "../../src/connections/tokens.ts";
import { createDeps, type Deps } from "../../src/deps.ts";
import { createLogger } from "../../src/logger.ts";
import { checkEncryptionKey } from "../../src/orgs/encryption-key-check.ts";
import { createOrg } from "../../src/orgs/orgs.ts";
import { createSecretBox } from "../../src/orgs/secrets.ts";
import { setStripeConfig } from "../../src/orgs/stripe-config.ts";
import { createScratchDatabase, databaseTargets } from "../helpers/databases.ts";

const KEY_A = randomBytes(32).toString("base64");
const KEY_B = randomBytes(32).toString("base64");

async function startFailure(start: Promise<Deps>): Promise<ConfigError> {
  const error = await start.then(
    async (deps) => {
      await deps.close();
      throw new Error("started with the wrong ENCRYPTION_KEY");
    },
    (rejection: unknown) => rejection,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return error as ConfigError;
}

describe.each(databaseTargets)("the ENCRYPTION_KEY check at start-up on $name", (target) => {
  let dataDir: string;
  let scratch: { url: string; drop(): Promise<void> } | null = null;

  /** createDeps as main.ts calls it: on the server, or on an embedded cluster of its own in DATA_DIR. */
  const start = (key: string, options: { database?: Deps["db"] } = {}) =>
    createDeps(
      loadConfig({
        NODE_ENV: "test",
        DATA_DIR: dataDir,
        ENCRYPTION_KEY: key,
        ...(scratch ? { DATABASE_URL: scratch.url } : {}),
      }),
      { logger: createLogger({ level: "silent" }), ...options },
    );

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "gw-key-check-"));
    scratch = target.name === "postgres" ? await createScratchDatabase(target) : null;
  });
  afterAll(async () => {
    await scratch?.drop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it("refuses another key once data is written, naming ENCRYPTION_KEY, and starts again with the right one", async () => {
    const first = await start(KEY_A);
    const { org } = await createOrg(first.db.prisma, { name: "Key check" });
    await setStripeConfig(
      { prisma: first.db.prisma, secrets: first.secrets, marketplaceUrl: first.config.stripe.marketplaceUrl },
      org.id,
      { clientId: "ca_keycheck", secretKey: "sk_test_keycheck123" },
    );
    expect(await first.db.prisma.encryptionKeyCheck.count()).toBe(1);
    await first.close();

    const error = await startFailure(start(KEY_B));
    expect(error.message).toContain(
      "ENCRYPTION_KEY: the data in this database was encrypted with another key",
    );
    expect(error.message).toContain("Set ENCRYPTION_KEY to the key the data was written with");
    for (const leak of [KEY_A, KEY_B, "unable to authenticate", "sk_test_keycheck123"])
      expect(error.message).not.toContain(leak);

    // The failed start closed the database it opened (and stopped the embedded cluster it started).
    const again = await start(KEY_A);
    expect(await again.db.prisma.org.count()).toBe(1);
    await again.close();
  }, 60_000);

  it("checks a database written before the check existed against its stored secrets", async () => {
    const deps = await start(KEY_A);
    const prisma = deps.db.prisma;
    await prisma.encryptionKeyCheck.deleteMany();
    expect((await startFailure(start(KEY_B, { database: deps.db }))).message).toContain("ENCRYPTION_KEY");
    // Nothing was stored for the wrong key, and the shared database is still open.
    expect(await prisma.encryptionKeyCheck.count()).toBe(0);

    // Only a connection's OAuth token is sealed: it is the one verified.
    const org = await prisma.org.findFirstOrThrow();
    await prisma.stripeConfig.deleteMany();
    await prisma.stripeConnection.create({
      data: {
        id: "conn_keycheck",
        orgId: org.id,
        method: "STRIPE_APP",
        accessTokenCiphertext: sealToken(deps.secrets, "conn_keycheck", "accessToken", "tok_keycheck"),
      },
    });
    expect((await startFailure(start(KEY_B, { database: deps.db }))).message).toContain("ENCRYPTION_KEY");
    expect(await prisma.encryptionKeyCheck.count()).toBe(0);

    const second = await start(KEY_A, { database: deps.db });
    expect(await prisma.encryptionKeyCheck.count()).toBe(1);
    await second.close();
    await deps.close();
  });

  it("stores one check value when instances start together, and only one key wins", async () => {
    const deps = await start(KEY_A);
    const prisma = deps.db.prisma;
    await prisma.stripeConnection.deleteMany();
    await prisma.stripeConfig.deleteMany();
    await prisma.encryptionKeyCheck.deleteMany();
    const boxA = createSecretBox(Buffer.from(KEY_A, "base64"));
    const boxB = createSecretBox(Buffer.from(KEY_B, "base64"));
    await Promise.all([1, 2, 3].map(() => checkEncryptionKey(prisma, boxA)));
    expect(await prisma.encryptionKeyCheck.count()).toBe(1);

    await prisma.encryptionKeyCheck.deleteMany();
    const outcomes = await Promise.allSettled([
      checkEncryptionKey(prisma, boxA),
      checkEncryptionKey(prisma, boxB),
    ]);
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(await prisma.encryptionKeyCheck.count()).toBe(1);
    await deps.close();
  });
});
