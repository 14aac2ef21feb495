import { createRandom } from "./random.ts";
import { MODES, type Mode, PERMISSIONS, type Permission } from "./types.ts";

export interface PlatformKeys {
  secretKey: string;
  restrictedKey: string;
  publishableKey: string;
  /** OAuth client id (`ca_…`), used by both the Stripe App and legacy Connect in this mode. */
  clientId: string;
}

/** A platform (the org's Stripe account that owns the Stripe App / Connect settings). */
export interface Platform {
  id: string;
  name: string;
  keys: Record<Mode, PlatformKeys>;
  /**
   * Allowed OAuth redirect URIs; the first is the default. An entry ending in `*` matches any URI
   * with that prefix (an emulator convenience: the gateway's URI contains an org id).
   */
  redirectUris: string[];
  /** External-test install link ids (`chnlink_…`) accepted at /oauth/v2/:link/authorize. */
  oauthLinks: string[];
  /** Permissions the app was granted; requests needing another one get 403. */
  permissions: Permission[];
}

export interface PlatformInput {
  name?: string;
  keys?: Partial<Record<Mode, Partial<PlatformKeys>>>;
  redirectUris?: string[];
  oauthLinks?: string[];
  permissions?: Permission[];
}

const DEFAULT_REDIRECT_URIS = [
  "http://localhost:4000/stripe/proxy/*",
  "http://127.0.0.1:4000/stripe/proxy/*",
];

export function createPlatforms(seed: string, inputs: PlatformInput[] = [{}]): Platform[] {
  return inputs.map((input, index) => {
    const random = createRandom(`${seed}/platform/${index}`);
    const id = random.id("acct", 16);
    const keyFor = (mode: Mode): PlatformKeys => {
      const body = () => `51${id.slice(6)}${random.chars(40)}`;
      return {
        secretKey: `sk_${mode}_${body()}`,
        restrictedKey: `rk_${mode}_${body()}`,
        publishableKey: `pk_${mode}_${body()}`,
        clientId: `ca_${random.chars(32)}`,
        ...input.keys?.[mode],
      };
    };
    const keys = { test: keyFor("test"), live: keyFor("live") };
    return {
      id,
      name: input.name ?? (index === 0 ? "Emulator Platform" : `Emulator Platform ${index + 1}`),
      keys,
      redirectUris: input.redirectUris ?? [...DEFAULT_REDIRECT_URIS],
      oauthLinks: input.oauthLinks ?? [`chnlink_${random.chars(24)}`],
      permissions: input.permissions ?? [...PERMISSIONS],
    };
  });
}

export interface KeyMatch {
  platform: Platform;
  mode: Mode;
  kind: "secret" | "restricted";
}

/** Looks a platform key up among all platforms. */
export function findPlatformKey(platforms: readonly Platform[], key: string): KeyMatch | undefined {
  for (const platform of platforms)
    for (const mode of MODES) {
      const keys = platform.keys[mode];
      if (keys.secretKey === key) return { platform, mode, kind: "secret" };
      if (keys.restrictedKey === key) return { platform, mode, kind: "restricted" };
    }
  return undefined;
}

export function findClient(
  platforms: readonly Platform[],
  clientId: string,
): { platform: Platform; mode: Mode } | undefined {
  for (const platform of platforms)
    for (const mode of MODES) if (platform.keys[mode].clientId === clientId) return { platform, mode };
  return undefined;
}

/** Exact match against the allowed list (prefix match for `*` entries); undefined picks the default. */
export function resolveRedirectUri(platform: Platform, requested: string | undefined): string | undefined {
  if (requested === undefined) {
    const first = platform.redirectUris[0];
    return first && !first.endsWith("*") ? first : undefined;
  }
  const allowed = platform.redirectUris.some((uri) =>
    uri.endsWith("*") ? requested.startsWith(uri.slice(0, -1)) : uri === requested,
  );
  return allowed ? requested : undefined;
}
