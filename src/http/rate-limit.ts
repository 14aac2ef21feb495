import type { Deps } from "../deps.ts";
import { type RateLimitName, retryAfterSeconds } from "../orgs/rate-limits.ts";

/**
 * Org ids as the gateway makes them (`org_` and 24 hex digits), with room to spare. Any other path segment
 * names no org: they all share one bucket, so made-up ids cannot fill memory or Redis with buckets.
 */
const ORG_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NOT_AN_ORG_ID = "(malformed)";

/**
 * Counts one request against the bucket of the org in a REST route's path (its own limit, higher than a
 * credential's): null when it may go on, else the seconds for `Retry-After`. Called before the route reads
 * its body or looks anything up.
 */
export async function limitOrgRoute(
  deps: Pick<Deps, "rateLimits">,
  limit: Extract<RateLimitName, "webhook" | "oauthRedirect">,
  orgId: string,
): Promise<number | null> {
  const waitMs = await deps.rateLimits.take(limit, ORG_ID.test(orgId) ? orgId : NOT_AN_ORG_ID);
  return waitMs === 0 ? null : retryAfterSeconds(waitMs);
}
