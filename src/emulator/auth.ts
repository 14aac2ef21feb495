import { errors } from "./api-errors.ts";
import { findPlatformKey, type Platform } from "./platforms.ts";
import { connectionKey, type Store } from "./store.ts";
import type { TokenStore } from "./tokens.ts";
import type { Mode, Permission } from "./types.ts";

/** The authenticated party of an API request and the account whose data it reads. */
export interface Caller {
  key: string;
  platform: Platform;
  mode: Mode;
  accountId: string;
  /** Null when every permission is granted (secret keys, legacy Connect tokens). */
  permissions: ReadonlySet<Permission> | null;
}

interface AuthDeps {
  store: Store;
  tokens: TokenStore;
  platforms: readonly Platform[];
  now(): number;
}

/** The raw credential from `Authorization: Bearer <key>` or Basic `<key>:`. */
export function readCredential(request: Request): string | undefined {
  const header = request.headers.get("authorization");
  if (!header) return undefined;
  const [scheme = "", value = ""] = header.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === "bearer") return value || undefined;
  if (scheme.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const user = decoded.split(":")[0];
    return user || undefined;
  }
  return undefined;
}

export function authenticate(deps: AuthDeps, request: Request): Caller {
  const key = readCredential(request);
  if (!key) throw errors.missingKey();
  const stripeAccount = request.headers.get("stripe-account") ?? undefined;
  const platformKey = findPlatformKey(deps.platforms, key);
  if (platformKey) {
    const { platform, mode } = platformKey;
    if (!stripeAccount || stripeAccount === platform.id)
      return { key, platform, mode, accountId: platform.id, permissions: null };
    const account = deps.store.account(stripeAccount);
    if (!account?.connections.get(connectionKey(platform.id, mode)))
      throw errors.noAccountAccess(key, stripeAccount);
    return { key, platform, mode, accountId: stripeAccount, permissions: null };
  }
  const token = deps.tokens.accessToken(key);
  const platform = token && deps.platforms.find((p) => p.id === token.platformId);
  if (!token || !platform) throw errors.invalidKey(key);
  if (token.expiresAt !== null && token.expiresAt <= deps.now()) throw errors.expiredKey(key);
  if (stripeAccount && stripeAccount !== token.accountId) throw errors.noAccountAccess(key, stripeAccount);
  return {
    key,
    platform,
    mode: token.mode,
    accountId: token.accountId,
    permissions: token.kind === "apps" ? grantedPermissions(platform.permissions) : null,
  };
}

/** Stripe Apps: balance_transaction_source_read implies application_fee_read and balance_read. */
function grantedPermissions(permissions: readonly Permission[]): ReadonlySet<Permission> {
  const granted = new Set(permissions);
  if (granted.has("balance_transaction_source_read")) {
    granted.add("application_fee_read");
    granted.add("balance_read");
  }
  return granted;
}

export function requirePermission(caller: Caller, permission: Permission): void {
  if (caller.permissions && !caller.permissions.has(permission))
    throw errors.permission(caller.key, caller.accountId, permission);
}
