// Where the gateway may send an org's deliveries. An endpoint URL is https:// (http:// only to this machine,
// outside production); in production it must reach the public internet, never the gateway's own network
// (loopback, private, link-local and cloud metadata addresses), unless WEBHOOK_ALLOW_PRIVATE_URLS=true.
// The addresses are checked when the endpoint is saved and again by the socket that sends, on the
// addresses it connects to: a name that resolved to a public address then and a private one now
// (DNS rebinding) is refused at send time.
import { type LookupAddress, lookup } from "node:dns";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";

export type TargetPolicy = {
  /** NODE_ENV=production: only public addresses, and https:// only. */
  production: boolean;
  /** WEBHOOK_ALLOW_PRIVATE_URLS=true: private addresses (and http://) allowed in production too. */
  allowPrivate: boolean;
};

const MAX_URL_LENGTH = 2048;

/** The URL's host without IPv6 brackets: `[::1]` → `::1`. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

const isLoopbackHost = (host: string) =>
  host === "localhost" ||
  host.endsWith(".localhost") ||
  (isIP(host) !== 0 && ipaddr.process(host).range() === "loopback");

/** Only plain public unicast addresses: everything else (private, reserved, mapped …) stays inside. */
export const isPublicAddress = (address: string) =>
  ipaddr.isValid(address) && ipaddr.process(address).range() === "unicast";

const checksAddresses = (policy: TargetPolicy) => policy.production && !policy.allowPrivate;

/**
 * What is wrong with an endpoint URL as written (no DNS), or null. The sentences finish "url …" in a
 * ValidationError.
 */
export function urlProblem(value: string, policy: TargetPolicy): string | null {
  if (value.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  const url = URL.canParse(value) ? new URL(value) : null;
  if (!url || !/^https?:$/.test(url.protocol) || !url.hostname)
    return "must be an absolute https:// URL, e.g. https://api.example.com/stripe-gateway/webhooks";
  // Shown in the dashboard, GraphQL and logs: a credential in it would be echoed everywhere.
  if (url.username || url.password) return "must not hold a user name or password";
  if (url.hash) return "must not have a #fragment (it is never sent)";
  const host = hostOf(url);
  if (url.protocol === "http:") {
    const mayUseHttp = policy.production ? policy.allowPrivate : isLoopbackHost(host);
    if (!mayUseHttp)
      return policy.production
        ? "must be https:// in production"
        : "must be https:// (http:// only to localhost, for local development)";
  }
  if (checksAddresses(policy) && isIP(host) !== 0 && !isPublicAddress(host))
    return `must reach a public address: ${host} is ${ipaddr.process(host).range()} (set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow it)`;
  if (checksAddresses(policy) && isLoopbackHost(host))
    return `must reach a public address: ${host} is this machine (set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow it)`;
  return null;
}

type Resolve = (host: string) => Promise<LookupAddress[]>;

const resolveAll: Resolve = (host) =>
  new Promise((resolve, reject) =>
    lookup(host, { all: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))),
  );

/**
 * In production (without WEBHOOK_ALLOW_PRIVATE_URLS), what is wrong with where the URL's name resolves
 * today, or null: it must resolve, and only to public addresses.
 */
export async function resolvedUrlProblem(
  value: string,
  policy: TargetPolicy,
  resolve: Resolve = resolveAll,
): Promise<string | null> {
  if (!checksAddresses(policy)) return null;
  const host = hostOf(new URL(value));
  if (isIP(host) !== 0) return null; // a literal address: urlProblem has judged it
  let addresses: LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    return `names a host that does not resolve: ${host}`;
  }
  const inside = addresses.find((entry) => !isPublicAddress(entry.address));
  return inside
    ? `must reach a public address: ${host} resolves to ${inside.address} (set WEBHOOK_ALLOW_PRIVATE_URLS=true to allow it)`
    : null;
}

/** Thrown by the sending socket's lookup when a name now resolves inside (DNS rebinding). */
export class RefusedAddressError extends Error {
  override name = "RefusedAddressError";
  readonly code = "EREFUSEDADDRESS";
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The `lookup` of a sending socket: resolves as usual, and in production refuses an answer with any
 * non-public address, so that the connection goes only where the check allowed. Literal addresses
 * never reach a lookup: `urlProblem` judges them, again at send time.
 */
export function guardedLookup(policy: TargetPolicy) {
  return (host: string, options: { all?: boolean }, callback: LookupCallback) => {
    lookup(host, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const inside = checksAddresses(policy)
        ? addresses.find((entry) => !isPublicAddress(entry.address))
        : undefined;
      if (inside)
        return callback(
          new RefusedAddressError(`${host} resolves to ${inside.address}, which is not a public address`),
          [],
        );
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}
