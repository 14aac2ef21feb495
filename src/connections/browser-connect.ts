// startStripeConnection from a merchant's browser: an access token minted with allowConnect starts one
// connection, carrying the metadata its backend fixed, and that connection joins what the token reads.
import type { Org } from "../generated/prisma/client.ts";
import { addToScope, claimConnect, releaseConnect } from "../orgs/access-tokens.ts";
import type { AccessGrant } from "../orgs/cache.ts";
import type { GatewayPubSub } from "../pubsub.ts";
import { type StartConnectionDeps, type StartConnectionInput, startConnection } from "./lifecycle.ts";

export type BrowserConnectDeps = StartConnectionDeps & { pubsub: Pick<GatewayPubSub, "publish"> };

/**
 * Starts the token's one connection; null when the token has no start left (used, revoked or expired
 * meanwhile: concurrent calls race on one claim). A start that fails gives the claim back.
 */
export async function startConnectionForToken(
  deps: BrowserConnectDeps,
  org: Org,
  grant: AccessGrant,
  input: Omit<StartConnectionInput, "metadata">,
) {
  const tokens = { prisma: deps.db.prisma, pubsub: deps.pubsub };
  if (!(await claimConnect(tokens, grant.id, deps.clock.now()))) return null;
  let started: Awaited<ReturnType<typeof startConnection>>;
  try {
    started = await startConnection(deps, org, { ...input, metadata: grant.connectMetadata });
  } catch (error) {
    await releaseConnect(tokens, grant.id);
    throw error;
  }
  if (!grant.connectionIds.includes(started.connection.id)) {
    await addToScope(tokens, grant.id, started.connection.id);
  }
  return started;
}
