import { ConfigError } from "../config.ts";
import type { PrismaClient } from "../db/client.ts";
import type { SecretBox } from "./secrets.ts";
import { openSecretKey } from "./stripe-config.ts";

const CHECK_ID = 1;
const CHECK_CONTEXT = "encryptionKeyCheck";
const CHECK_PLAINTEXT = "stripe-connect-gateway encryption key check v1";

/** The error of a key that does not open the stored data; never the crypto library's text, never the key. */
function encryptionKeyMismatch(): ConfigError {
  return new ConfigError([
    "ENCRYPTION_KEY: the data in this database was encrypted with another key, so its Stripe secret keys, " +
      "webhook secrets and OAuth tokens cannot be read. Set ENCRYPTION_KEY to the key the data was written " +
      "with (when it is unset, the embedded database uses DATA_DIR/encryption.key: restore that file).",
  ]);
}

function opens(open: () => string, expected?: string): boolean {
  try {
    const plaintext = open();
    return expected === undefined || plaintext === expected;
  } catch {
    return false;
  }
}

/**
 * Proves at start-up that `secrets` holds the key the database was written with, so that a changed key
 * stops the process with a clear ConfigError instead of failing later on each connection. The first start
 * stores a check value; a database written before checks existed is verified against one of its secrets.
 */
export async function checkEncryptionKey(prisma: PrismaClient, secrets: SecretBox): Promise<void> {
  const verify = (ciphertext: string) => {
    if (!opens(() => secrets.open(ciphertext, CHECK_CONTEXT), CHECK_PLAINTEXT)) throw encryptionKeyMismatch();
  };
  const stored = await prisma.encryptionKeyCheck.findUnique({ where: { id: CHECK_ID } });
  if (stored) return verify(stored.ciphertext);

  if (!(await opensExistingSecret(prisma, secrets))) throw encryptionKeyMismatch();
  // Instances starting together may both get here: one row wins, and every instance checks that one.
  await prisma.encryptionKeyCheck.createMany({
    data: [{ id: CHECK_ID, ciphertext: secrets.seal(CHECK_PLAINTEXT, CHECK_CONTEXT) }],
    skipDuplicates: true,
  });
  const winner = await prisma.encryptionKeyCheck.findUniqueOrThrow({ where: { id: CHECK_ID } });
  verify(winner.ciphertext);
}

/** Whether the key opens one secret already stored (true when there is none yet). */
async function opensExistingSecret(prisma: PrismaClient, secrets: SecretBox): Promise<boolean> {
  const config = await prisma.stripeConfig.findFirst({ orderBy: { orgId: "asc" } });
  if (config) return opens(() => openSecretKey(secrets, config));
  const connection = await prisma.stripeConnection.findFirst({
    where: { accessTokenCiphertext: { not: null } },
    select: { id: true, accessTokenCiphertext: true },
    orderBy: { id: "asc" },
  });
  // The associated data src/connections/tokens.ts seals an access token with.
  const token = connection?.accessTokenCiphertext;
  return !token || opens(() => secrets.open(token, `connection:${connection.id}:accessToken`));
}
