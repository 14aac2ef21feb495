import type { Deps } from "../deps.ts";
import type { Org } from "../generated/prisma/client.ts";
import { safeEqual } from "../orgs/api-keys.ts";
import { findOrgByApiKey } from "../orgs/orgs.ts";
import { unauthenticated } from "./errors.ts";

export type Viewer = { org: Org | null; isAdmin: boolean };

/** Reads "Bearer <key>"; null when no credentials were sent. */
export function bearerToken(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw unauthenticated("The Authorization header must be `Bearer <API key>`.");
  return match[1]!;
}

/** Resolves credentials to a viewer; a key that was sent but matches nothing is rejected outright. */
export async function authenticate(deps: Pick<Deps, "config" | "db">, key: string | null): Promise<Viewer> {
  if (key === null) return { org: null, isAdmin: false };
  const admin = deps.config.adminApiKey;
  if (admin !== null && safeEqual(key, admin)) return { org: null, isAdmin: true };
  const org = await findOrgByApiKey(deps.db.prisma, key);
  if (!org) throw unauthenticated("Unknown or revoked API key.");
  return { org, isAdmin: false };
}
