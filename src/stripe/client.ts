import Stripe from "stripe";
import type { Deps } from "../deps.ts";
import { markNeedsReauth } from "./connection-status.ts";
import type { CredentialsProvider } from "./tokens.ts";

/** Request options that make one SDK call on behalf of a connection. */
export type ConnectionRequest = { apiKey: string; stripeAccount?: string };

export type StripeClients = {
  /** The SDK client; every call must pass the ConnectionRequest it is given as request options. */
  readonly sdk: Stripe;
  /**
   * Runs `call` with the connection's credentials. A 401 on a Stripe Apps token forces one refresh and
   * one retry; a second 401, or a 401/403 on revoked legacy access, marks the connection NEEDS_REAUTH.
   */
  withConnection<T>(
    connectionId: string,
    call: (stripe: Stripe, request: ConnectionRequest) => Promise<T>,
  ): Promise<T>;
};

/** Points the official SDK at STRIPE_API_URL (Stripe, or the emulator) with per-request credentials. */
export function createStripeClients(
  deps: Pick<Deps, "config" | "db" | "pubsub">,
  credentials: CredentialsProvider,
): StripeClients {
  const api = new URL(deps.config.stripe.apiUrl);
  const protocol = api.protocol === "http:" ? "http" : "https";
  // The key given here is never used: every call passes its connection's key in the request options.
  const sdk = new Stripe("sk_gateway_per_request_key", {
    host: api.hostname,
    port: Number(api.port || (protocol === "http" ? 80 : 443)),
    protocol,
    // Retries (with the rate budget in mind) are the caller's: see src/stripe/api.ts.
    maxNetworkRetries: 0,
    timeout: 30_000,
    telemetry: false,
    appInfo: { name: "stripe-connect-gateway" },
  });

  return {
    sdk,
    async withConnection(connectionId, call) {
      const first = await credentials.credentials(connectionId);
      try {
        return await call(sdk, first);
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeAuthenticationError)) throw error;
        if (first.stripeAccount === undefined) {
          const renewed = await credentials.credentials(connectionId, { forceRefresh: true });
          try {
            return await call(sdk, renewed);
          } catch (retryError) {
            if (!(retryError instanceof Stripe.errors.StripeAuthenticationError)) throw retryError;
          }
        }
        await markNeedsReauth(deps, connectionId, "Stripe no longer accepts this connection's credentials.");
        throw error;
      }
    },
  };
}
