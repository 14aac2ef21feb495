import { randomToken } from "./random.ts";
import type { Mode } from "./types.ts";

export type GrantKind = "apps" | "connect";

/** Who a code or token was issued to and for which account. */
export interface Grant {
  kind: GrantKind;
  platformId: string;
  accountId: string;
  mode: Mode;
  scope: string;
}

export interface IssuedGrant extends Grant {
  /** Emulator-clock ms; null for tokens that never expire (legacy Connect access tokens). */
  expiresAt: number | null;
}

const MINUTE = 60_000;
const LIFETIMES = {
  code: 5 * MINUTE,
  appsAccessToken: 60 * MINUTE,
  refreshToken: 365 * 24 * 60 * MINUTE,
};

const sameGrant = (a: Grant, b: Grant) =>
  a.kind === b.kind && a.platformId === b.platformId && a.accountId === b.accountId && a.mode === b.mode;

/** Authorization codes, access tokens and refresh tokens issued by the emulator's OAuth endpoints. */
export class TokenStore {
  private readonly codes = new Map<string, IssuedGrant & { used: boolean }>();
  private readonly access = new Map<string, IssuedGrant>();
  private readonly refresh = new Map<string, IssuedGrant>();

  issueCode(grant: Grant, now: number): string {
    const code = randomToken("ac", 32);
    this.codes.set(code, { ...grant, expiresAt: now + LIFETIMES.code, used: false });
    return code;
  }

  code(code: string): (IssuedGrant & { used: boolean }) | undefined {
    return this.codes.get(code);
  }

  issueAccessToken(grant: Grant, now: number): string {
    const token = randomToken(`sk_${grant.mode}`, 99);
    const expiresAt = grant.kind === "apps" ? now + LIFETIMES.appsAccessToken : null;
    this.access.set(token, { ...grant, expiresAt });
    return token;
  }

  issueRefreshToken(grant: Grant, now: number): string {
    const token = randomToken("rt", 48);
    this.refresh.set(token, { ...grant, expiresAt: now + LIFETIMES.refreshToken });
    return token;
  }

  accessToken(token: string): IssuedGrant | undefined {
    return this.access.get(token);
  }

  refreshToken(token: string, now: number): IssuedGrant | undefined {
    const entry = this.refresh.get(token);
    return entry && (entry.expiresAt === null || entry.expiresAt > now) ? entry : undefined;
  }

  deleteRefreshToken(token: string): void {
    this.refresh.delete(token);
  }

  /** Drops the access tokens of one grant (legacy refresh revokes the previous token). */
  revokeAccessTokens(grant: Grant): void {
    for (const [token, entry] of this.access) if (sameGrant(entry, grant)) this.access.delete(token);
  }

  /** Drops every code and token of one platform on one account in one mode (uninstall / deauthorize). */
  revoke(platformId: string, accountId: string, mode: Mode): void {
    for (const map of [this.codes, this.access, this.refresh])
      for (const [key, grant] of map)
        if (grant.platformId === platformId && grant.accountId === accountId && grant.mode === mode)
          map.delete(key);
  }

  /** Stripe: reusing a legacy code revokes what it produced. */
  revokeGrant(grant: Grant): void {
    for (const map of [this.access, this.refresh])
      for (const [key, entry] of map) if (sameGrant(entry, grant)) map.delete(key);
  }
}
