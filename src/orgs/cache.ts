import type { PrismaClient } from "../db/client.ts";
import type { Org, StripeConnection } from "../generated/prisma/client.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { parseAccessToken } from "./access-tokens.ts";
import { parseApiKey, safeEqual, sha256 } from "./api-keys.ts";
import type { SecretBox } from "./secrets.ts";
import { findWebhookSigningSecret, type WebhookSecretLookup } from "./stripe-config.ts";

/** How long any entry is served without reading the database again: the bound on a missed invalidation. */
export const CACHE_MAX_AGE_MS = 1000;
/** Entries of lookups that found something (bounded by the rows that exist), per kind. */
const MAX_ENTRIES = 100_000;
/** Entries of lookups that found nothing (anyone can make up keys and org ids), per kind. */
const MAX_UNKNOWN_ENTRIES = 10_000;

/** What routing a webhook needs of a connection; the rest of the row is read by whoever needs it. */
export type ConnectionRoute = Pick<
  StripeConnection,
  "id" | "orgId" | "stripeAccountId" | "livemode" | "status"
>;

/** What a browser access token may do, as stored (expiry is the caller's to check, against its clock). */
export type AccessGrant = Readonly<{
  id: string;
  org: Org;
  /** row ids of the connections it may read */
  connectionIds: readonly string[];
  allowConnect: boolean;
  connectUsed: boolean;
  connectMetadata: unknown;
  expiresAt: Date;
}>;

/**
 * The per-request lookups served from memory: an API key's org, an access token's grant, an org's webhook
 * signing secret, the connections of an org's Stripe account, a connection's org. Every write that changes
 * one of them publishes a `cache:invalidate` after its commit (setStripeConfig, createOrg, createApiKey,
 * revokeApiKey, every write of an access token, every connection change through
 * src/connections/status.ts), which drops it on this instance before publish() returns and on the others as
 * the message arrives (through Redis when it is set up); whatever is missed (a direct database write, a lost
 * Redis message) is read again once its entry is CACHE_MAX_AGE_MS old.
 */
export type GatewayCache = {
  /** The org of an API key; null for an unknown, malformed or revoked key. */
  orgOfApiKey(apiKey: string): Promise<Org | null>;
  /** What an access token grants; null for an unknown, malformed or revoked token (expired ones too). */
  accessGrant(token: string): Promise<AccessGrant | null>;
  /** accessGrant by the token's id, for whoever already checked its secret (an open subscription). */
  accessGrantById(tokenId: string): Promise<AccessGrant | null>;
  webhookSigningSecret(orgId: string): Promise<WebhookSecretLookup>;
  /** The org's connections of a Stripe account (one per mode at most). */
  connectionRoutes(orgId: string, stripeAccountId: string): Promise<readonly ConnectionRoute[]>;
  /** The org a connection belongs to; null for an unknown id. */
  orgOfConnection(connectionId: string): Promise<string | null>;
  /** Stops listening for invalidations. */
  close(): void;
};

export type CacheDeps = {
  prisma: PrismaClient;
  secrets: SecretBox;
  pubsub: Pick<GatewayPubSub, "listen">;
};

export type CacheOptions = {
  /** Default CACHE_MAX_AGE_MS; tests make it longer, to show that invalidations alone suffice */
  maxAgeMs?: number;
  /** Milliseconds of a monotonic clock (tests move it by hand) */
  now?: () => number;
};

type ApiKeyEntry = { secretHash: string; org: Org | null };
type TokenEntry = { secretHash: string; grant: AccessGrant | null };

export function createGatewayCache(deps: CacheDeps, options: CacheOptions = {}): GatewayCache {
  const maxAgeMs = options.maxAgeMs ?? CACHE_MAX_AGE_MS;
  const now = options.now ?? (() => performance.now());
  const epoch: Epoch = { drops: 0 };
  const apiKeys = new Store<ApiKeyEntry>(epoch, MAX_ENTRIES);
  const unknownApiKeys = new Store<null>(epoch, MAX_UNKNOWN_ENTRIES);
  const secrets = new Store<WebhookSecretLookup>(epoch, MAX_ENTRIES);
  const unknownOrgs = new Store<WebhookSecretLookup>(epoch, MAX_UNKNOWN_ENTRIES);
  const routes = new Store<readonly ConnectionRoute[]>(epoch, MAX_ENTRIES);
  // Only connections that exist: a connection's org never changes, and the one way a row goes away (a
  // PENDING attempt folded into an existing connection) is published as a change of that org's
  // connections. An unknown id is read each time: it may be created the next moment.
  const owners = new Store<string>(epoch, MAX_ENTRIES);
  const tokens = new Store<TokenEntry>(epoch, MAX_ENTRIES);
  const unknownTokens = new Store<null>(epoch, MAX_UNKNOWN_ENTRIES);
  const stores = [apiKeys, unknownApiKeys, secrets, unknownOrgs, routes, owners, tokens, unknownTokens];

  const stopListening = deps.pubsub.listen("cache:invalidate", (invalidation) => {
    // Runs inside publish() for this instance's writes: it must never throw, whatever arrives from Redis.
    if (typeof invalidation?.key !== "string") return;
    const { kind, key } = invalidation;
    if (kind === "apiKey") {
      apiKeys.drop(key);
      unknownApiKeys.drop(key);
    } else if (kind === "accessToken") {
      tokens.drop(key);
      unknownTokens.drop(key);
    } else if (kind === "org") {
      apiKeys.dropTag(key);
      tokens.dropTag(key);
      secrets.drop(key);
      unknownOrgs.drop(key);
    } else if (kind === "connections") {
      routes.dropTag(key);
      owners.dropTag(key);
    } else {
      // An invalidation this version does not know (a newer instance's): drop everything, to be safe.
      for (const store of stores) store.clear();
    }
  });

  async function apiKeyEntry(id: string): Promise<ApiKeyEntry | null> {
    const known = apiKeys.fresh(id, now(), maxAgeMs);
    if (known) return known;
    if (unknownApiKeys.fresh(id, now(), maxAgeMs) !== undefined) return null;
    return apiKeys.loadOnce(id, async (keep) => {
      const row = await deps.prisma.apiKey.findUnique({
        where: { id },
        select: { secretHash: true, revokedAt: true, org: true },
      });
      if (!row) {
        keep(unknownApiKeys, null, undefined, now());
        return null;
      }
      // A revoked key stays known (with no org), so that it costs no statement either.
      const entry = { secretHash: row.secretHash, org: row.revokedAt ? null : Object.freeze(row.org) };
      keep(apiKeys, entry, row.org.id, now());
      return entry;
    });
  }

  async function tokenEntry(id: string): Promise<TokenEntry | null> {
    const known = tokens.fresh(id, now(), maxAgeMs);
    if (known) return known;
    if (unknownTokens.fresh(id, now(), maxAgeMs) !== undefined) return null;
    return tokens.loadOnce(id, async (keep) => {
      const row = await deps.prisma.accessToken.findUnique({ where: { id }, include: { org: true } });
      if (!row) {
        keep(unknownTokens, null, undefined, now());
        return null;
      }
      const grant: AccessGrant | null = row.revokedAt
        ? null
        : Object.freeze({
            id: row.id,
            org: Object.freeze(row.org),
            connectionIds: Object.freeze([...row.connectionIds]),
            allowConnect: row.allowConnect,
            connectUsed: row.connectUsedAt !== null,
            connectMetadata: row.connectMetadata,
            expiresAt: row.expiresAt,
          });
      const entry = { secretHash: row.secretHash, grant };
      keep(tokens, entry, row.orgId, now());
      return entry;
    });
  }

  return {
    async accessGrant(token) {
      const parsed = parseAccessToken(token);
      if (!parsed) return null;
      const entry = await tokenEntry(parsed.id);
      if (!entry?.grant) return null;
      return safeEqual(sha256(parsed.secret), entry.secretHash) ? entry.grant : null;
    },

    async accessGrantById(tokenId) {
      return (await tokenEntry(tokenId))?.grant ?? null;
    },

    async orgOfApiKey(apiKey) {
      const parsed = parseApiKey(apiKey);
      if (!parsed) return null;
      const entry = await apiKeyEntry(parsed.id);
      if (!entry?.org) return null;
      return safeEqual(sha256(parsed.secret), entry.secretHash) ? entry.org : null;
    },

    async webhookSigningSecret(orgId) {
      const cached = secrets.fresh(orgId, now(), maxAgeMs) ?? unknownOrgs.fresh(orgId, now(), maxAgeMs);
      if (cached) return cached;
      return secrets.loadOnce(orgId, async (keep) => {
        const lookup = await findWebhookSigningSecret(deps, orgId);
        keep(lookup.org === "found" ? secrets : unknownOrgs, lookup, undefined, now());
        return lookup;
      });
    },

    async connectionRoutes(orgId, stripeAccountId) {
      const key = `${orgId} ${stripeAccountId}`;
      const cached = routes.fresh(key, now(), maxAgeMs);
      if (cached) return cached;
      return routes.loadOnce(key, async (keep) => {
        const rows = await deps.prisma.stripeConnection.findMany({
          where: { orgId, stripeAccountId },
          select: { id: true, orgId: true, stripeAccountId: true, livemode: true, status: true },
        });
        const found = Object.freeze(rows.map((row) => Object.freeze(row)));
        keep(routes, found, orgId, now());
        return found;
      });
    },

    async orgOfConnection(connectionId) {
      const cached = owners.fresh(connectionId, now(), maxAgeMs);
      if (cached) return cached;
      return owners.loadOnce(connectionId, async (keep) => {
        const row = await deps.prisma.stripeConnection.findUnique({
          where: { id: connectionId },
          select: { orgId: true },
        });
        if (row) keep(owners, row.orgId, row.orgId, now());
        return row?.orgId ?? null;
      });
    },

    close: stopListening,
  };
}

type Entry<V> = { value: V; at: number; tag: string | undefined };
/** Counts the drops of one cache's stores: a read started before a drop does not store what it read. */
type Epoch = { drops: number };
/** Stores a loaded value, unless an invalidation came while it was being read. */
type Keep = <V>(store: Store<V>, value: V, tag: string | undefined, at: number) => void;

/**
 * Entries by key, the oldest evicted beyond `maxEntries`, each optionally tagged (with its org) so that
 * one invalidation can drop them all. Concurrent misses of a key share one read. A read that was in
 * flight when something was dropped is not stored, and is not shared with later callers: whoever asks
 * after an invalidation gets a read that started after it.
 */
class Store<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly tags = new Map<string, Set<string>>();
  private readonly reads = new Map<string, Promise<unknown>>();

  constructor(
    private readonly epoch: Epoch,
    private readonly maxEntries: number,
  ) {}

  /** The value when its entry is younger than `maxAgeMs`, else undefined. */
  fresh(key: string, now: number, maxAgeMs: number): V | undefined {
    const entry = this.entries.get(key);
    return entry && now - entry.at < maxAgeMs ? entry.value : undefined;
  }

  loadOnce<R>(key: string, read: (keep: Keep) => Promise<R>): Promise<R> {
    const pending = this.reads.get(key) as Promise<R> | undefined;
    if (pending) return pending;
    const started = this.epoch.drops;
    const keep: Keep = (store, value, tag, at) => {
      if (this.epoch.drops === started) store.set(key, value, tag, at);
    };
    const promise = read(keep).finally(() => {
      if (this.reads.get(key) === promise) this.reads.delete(key);
    });
    this.reads.set(key, promise);
    return promise;
  }

  set(key: string, value: V, tag: string | undefined, at: number) {
    this.delete(key);
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.delete(oldest.value);
    }
    this.entries.set(key, { value, at, tag });
    if (tag !== undefined) {
      const keys = this.tags.get(tag) ?? new Set<string>();
      keys.add(key);
      this.tags.set(tag, keys);
    }
  }

  drop(key: string) {
    this.invalidated();
    this.delete(key);
  }

  dropTag(tag: string) {
    this.invalidated();
    for (const key of this.tags.get(tag) ?? []) this.delete(key);
  }

  clear() {
    this.invalidated();
    this.entries.clear();
    this.tags.clear();
  }

  private invalidated() {
    this.epoch.drops++;
    this.reads.clear();
  }

  private delete(key: string) {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    if (entry.tag === undefined) return;
    const keys = this.tags.get(entry.tag);
    keys?.delete(key);
    if (keys?.size === 0) this.tags.delete(entry.tag);
  }
}
