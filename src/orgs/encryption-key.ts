import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config.ts";

export const GENERATED_KEY_FILE = "encryption.key";

/**
 * ENCRYPTION_KEY when set; otherwise (embedded database only, config guarantees it) the key stored in
 * DATA_DIR, generated on first start. Losing that file makes every stored secret unreadable.
 */
export async function resolveEncryptionKey(config: Config, warn: (message: string) => void): Promise<Buffer> {
  if (config.encryptionKey) return config.encryptionKey;
  const file = path.join(config.dataDir, GENERATED_KEY_FILE);
  const existing = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    throw error;
  });
  if (existing !== null) {
    const key = Buffer.from(existing.trim(), "base64");
    if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
    return key;
  }
  const key = randomBytes(32);
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  warn(
    `ENCRYPTION_KEY is not set: generated one into ${file}. Back it up, or set ENCRYPTION_KEY, before storing real Stripe credentials.`,
  );
  return key;
}
