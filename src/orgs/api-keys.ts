import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { PrismaClient } from "../db/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";

const PREFIX = "cgw";

export type IssuedApiKey = { id: string; secretHash: string; key: string };

/** A new org API key `cgw_<id>_<secret>`: the id finds the row, only the secret's hash is stored. */
export function issueApiKey(): IssuedApiKey {
  const id = `key_${randomBytes(9).toString("base64url")}`;
  const secret = randomBytes(32).toString("base64url");
  return { id, secretHash: sha256(secret), key: `${PREFIX}_${id}_${secret}` };
}

export function parseApiKey(key: string): { id: string; secret: string } | null {
  const match = /^cgw_(key_[A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/.exec(key);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time comparison of two strings (via their hashes, so lengths never leak either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}

/**
 * Revokes an API key: from the commit on it authenticates nothing, on this instance at once and on every
 * other as soon as the invalidation reaches it (at most the cache's max age later). False when there is
 * no such key, or it was already revoked.
 */
export async function revokeApiKey(
  deps: { prisma: PrismaClient; pubsub: Pick<GatewayPubSub, "publish"> },
  keyId: string,
  now: Date,
): Promise<boolean> {
  const { count } = await deps.prisma.apiKey.updateMany({
    where: { id: keyId, revokedAt: null },
    data: { revokedAt: now },
  });
  // Published even when nothing changed here: an instance may still hold what an earlier call changed.
  deps.pubsub.publish("cache:invalidate", { kind: "apiKey", key: keyId });
  return count > 0;
}
