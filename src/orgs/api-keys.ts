import type { PrismaClient } from "../db/client.ts";
import { NotFoundError } from "../errors.ts";
import type { ApiKey } from "../generated/prisma/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { checkedName } from "./names.ts";
import { issueCredential, parseCredential } from "./secret-format.ts";

export { safeEqual, sha256 } from "./secret-format.ts";

export type IssuedApiKey = { id: string; secretHash: string; key: string };

type ApiKeyDeps = { prisma: PrismaClient; pubsub: Pick<GatewayPubSub, "publish"> };

/** A new org API key `cgw_key_<id>_<secret>`: the id finds the row, only the secret's hash is stored. */
export function issueApiKey(): IssuedApiKey {
  const { id, secretHash, credential } = issueCredential("key");
  return { id, secretHash, key: credential };
}

export function parseApiKey(key: string): { id: string; secret: string } | null {
  return parseCredential("key", key);
}

/** Another named key of the org; the key itself is returned this once. */
export async function createApiKey(
  deps: ApiKeyDeps,
  orgId: string,
  input: { name: string },
): Promise<{ apiKey: string; key: ApiKey }> {
  const name = checkedName(input.name);
  const issued = issueApiKey();
  const key = await deps.prisma.apiKey.create({
    data: { id: issued.id, orgId, name, secretHash: issued.secretHash },
  });
  // Drops the cache's memory that this id was unknown.
  deps.pubsub.publish("cache:invalidate", { kind: "apiKey", key: key.id });
  return { apiKey: issued.key, key };
}

/**
 * Revokes an API key: from the commit on it authenticates nothing, on this instance at once and on every
 * other as soon as the invalidation reaches it (at most the cache's max age later). False when there is
 * no such key, or it was already revoked.
 */
export async function revokeApiKey(deps: ApiKeyDeps, keyId: string, now: Date): Promise<boolean> {
  const { count } = await deps.prisma.apiKey.updateMany({
    where: { id: keyId, revokedAt: null },
    data: { revokedAt: now },
  });
  // Published even when nothing changed here: an instance may still hold what an earlier call changed.
  deps.pubsub.publish("cache:invalidate", { kind: "apiKey", key: keyId });
  return count > 0;
}

/** revokeApiKey for one of the org's own keys; another org's key is not found, as a missing one. */
export async function revokeOrgApiKey(
  deps: ApiKeyDeps,
  orgId: string,
  keyId: string,
  now: Date,
): Promise<ApiKey> {
  const key = await deps.prisma.apiKey.findFirst({ where: { id: keyId, orgId } });
  if (!key) throw new NotFoundError("No such API key in this org.");
  await revokeApiKey(deps, keyId, now);
  return deps.prisma.apiKey.findUniqueOrThrow({ where: { id: keyId } });
}

/** How often lastUsedAt is written at most, per key. */
export const LAST_USED_EVERY_MS = 60_000;

/**
 * Records that a key was used: at most once a minute per key on this instance, and in the database only
 * when the stored lastUsedAt is a minute old (so several instances together write it about as rarely).
 */
export type KeyUsage = (keyId: string, now: Date) => Promise<void>;

export function createKeyUsage(deps: { prisma: PrismaClient }): KeyUsage {
  const written = new Map<string, number>();
  return async function keyUsed(keyId: string, now: Date): Promise<void> {
    const last = written.get(keyId);
    if (last !== undefined && now.getTime() - last < LAST_USED_EVERY_MS) return;
    if (written.size >= 100_000) written.clear();
    written.set(keyId, now.getTime());
    await deps.prisma.apiKey.updateMany({
      where: {
        id: keyId,
        OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now.getTime() - LAST_USED_EVERY_MS) } }],
      },
      data: { lastUsedAt: now },
    });
  };
}
