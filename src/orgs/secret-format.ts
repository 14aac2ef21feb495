import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Credentials the gateway issues: `cgw_<kind>_<12 id chars>_<43 secret chars>`. The id finds the row; only
 * the SHA-256 of the secret is stored. `key` is an org API key, `tok` a browser access token.
 */
export type CredentialKind = "key" | "tok";

export type IssuedCredential = { id: string; secretHash: string; credential: string };

export function issueCredential(kind: CredentialKind): IssuedCredential {
  const id = `${kind}_${randomBytes(9).toString("base64url")}`;
  const secret = randomBytes(32).toString("base64url");
  return { id, secretHash: sha256(secret), credential: `cgw_${id}_${secret}` };
}

const FORMATS: Record<CredentialKind, RegExp> = {
  key: /^cgw_(key_[A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/,
  tok: /^cgw_(tok_[A-Za-z0-9_-]{12})_([A-Za-z0-9_-]{43})$/,
};

export function parseCredential(kind: CredentialKind, text: string): { id: string; secret: string } | null {
  const match = FORMATS[kind].exec(text);
  return match ? { id: match[1]!, secret: match[2]! } : null;
}

export function sha256(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

/** Constant-time comparison of two strings (via their hashes, so lengths never leak either). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash("sha256").update(a).digest(), createHash("sha256").update(b).digest());
}
