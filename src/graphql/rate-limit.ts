import type { Deps } from "../deps.ts";
import { type RateLimitName, retryAfterSeconds } from "../orgs/rate-limits.ts";
import type { Credential } from "./auth.ts";
import { rateLimited } from "./errors.ts";

const LIMITED: Record<"apiKey" | "accessToken", string> = {
  apiKey: "Too many requests for this API key",
  accessToken: "Too many requests for this access token",
};

/**
 * Counts one operation against its credential's bucket, or throws RATE_LIMITED (HTTP 429). Browser access
 * tokens have their own limit; API keys and the admin key share the API-key limit, each in its own bucket.
 * Called where Yoga builds the context, so every HTTP, SSE and WebSocket operation counts, and a refused
 * one reaches no resolver. Anonymous operations are refused by authentication anyway.
 */
export function limitCredential(
  deps: Pick<Deps, "rateLimits">,
  credential: Pick<Credential, "kind" | "id"> | null,
): void | Promise<void> {
  if (!credential) return;
  const limit = credential.kind === "accessToken" ? "accessToken" : "apiKey";
  const wait = deps.rateLimits.take(limit, credential.id);
  if (typeof wait === "number") return refuseWhileWaiting(limit, wait);
  return wait.then((waitMs) => refuseWhileWaiting(limit, waitMs));
}

function refuseWhileWaiting(limit: Extract<RateLimitName, "apiKey" | "accessToken">, waitMs: number) {
  if (waitMs === 0) return;
  const seconds = retryAfterSeconds(waitMs);
  throw rateLimited(`${LIMITED[limit]}: retry in ${seconds} s.`, seconds);
}
