import { createHash, timingSafeEqual } from "node:crypto";
import type { Deps } from "../deps.ts";
import type { Org } from "../generated/prisma/client.ts";
import { parseAccessToken } from "../orgs/access-tokens.ts";
import { parseApiKey } from "../orgs/api-keys.ts";
import type { AccessGrant } from "../orgs/cache.ts";
import { unauthenticated } from "./errors.ts";

/** Who sent a request: its rate-limit bucket and its audit trail go by this (never the secret). */
export type Credential =
  | { kind: "admin" | "apiKey"; id: string }
  | { kind: "accessToken"; id: string; grant: AccessGrant };

export type Viewer = {
  org: Org | null;
  isAdmin: boolean;
  credential: Credential | null;
  /** The connections (row ids) a browser access token may read; null: every connection of the org. */
  connectionScope: ReadonlySet<string> | null;
};

/** Reads "Bearer <key>"; null when no credentials were sent. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated("The Authorization header must be `Bearer <API key>`.");
  return match[1]!;
}

const digest = (value: string) => createHash("sha256").update(value).digest();
/** The admin key's digest, computed once per configured key rather than on every request. */
const adminDigests = new Map<string, Buffer>();

/** Constant-time, whatever the lengths: digests are compared, never the keys. */
function isAdminKey(key: string, admin: string): boolean {
  let adminDigest = adminDigests.get(admin);
  if (!adminDigest) {
    adminDigest = digest(admin);
    adminDigests.set(admin, adminDigest);
  }
  return timingSafeEqual(digest(key), adminDigest);
}

/**
 * Resolves credentials to a viewer; a key that was sent but matches nothing is rejected outright. Org keys
 * are looked up through the cache (src/orgs/cache.ts): no SQL statement for a key seen in the last second.
 */
export async function authenticate(
  deps: Pick<Deps, "config" | "cache" | "clock" | "keyUsed">,
  key: string | null,
): Promise<Viewer> {
  if (key === null) return { org: null, isAdmin: false, credential: null, connectionScope: null };
  const admin = deps.config.adminApiKey;
  if (admin !== null && isAdminKey(key, admin)) {
    return { org: null, isAdmin: true, credential: { kind: "admin", id: "admin" }, connectionScope: null };
  }
  const apiKey = parseApiKey(key);
  if (apiKey) {
    const org = await deps.cache.orgOfApiKey(key);
    if (!org) throw unauthenticated("Unknown or revoked API key.");
    await deps.keyUsed(apiKey.id, deps.clock.now());
    return { org, isAdmin: false, credential: { kind: "apiKey", id: apiKey.id }, connectionScope: null };
  }
  if (!parseAccessToken(key)) throw unauthenticated("Unknown or revoked API key.");
  const grant = await deps.cache.accessGrant(key);
  // Unknown, revoked and expired tokens are told apart by nobody: one answer for all.
  if (!grant || !isLive(grant, deps.clock.now())) {
    throw unauthenticated("Unknown, expired or revoked credentials.");
  }
  return {
    org: grant.org,
    isAdmin: false,
    credential: { kind: "accessToken", id: grant.id, grant },
    connectionScope: new Set(grant.connectionIds),
  };
}

/** A grant is live until its expiry (revoked ones are never granted at all). */
export function isLive(grant: AccessGrant, now: Date): boolean {
  return grant.expiresAt.getTime() > now.getTime();
}
