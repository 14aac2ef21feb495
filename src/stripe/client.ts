import Stripe from "stripe";

/** Request options that make one SDK call on behalf of a connection. */
export type ConnectionRequest = { apiKey: string; stripeAccount?: string };

export type StripeClients = {
  /**
   * Runs `call` with the connection's credentials; every call must pass the ConnectionRequest it is
   * given as request options. A 401 on a Stripe Apps token forces one refresh and one retry; a second
   * 401, or a 401/403 on revoked legacy access, reports the connection's credentials rejected.
   */
  withConnection<T>(
    connectionId: string,
    call: (stripe: Stripe, request: ConnectionRequest) => Promise<T>,
  ): Promise<T>;
};

export type StripeClientsDeps = {
  /** STRIPE_API_URL: Stripe, or the emulator */
  apiUrl: string;
  /** A connection's request options; `forceRefresh` renews a Stripe Apps access token first. */
  credentials: {
    credentials(connectionId: string, options?: { forceRefresh?: boolean }): Promise<ConnectionRequest>;
  };
  /** Stripe refused the connection's credentials for good; awaited before the error is thrown on. */
  onCredentialsRejected(connectionId: string): Promise<unknown>;
};

/**
 * The official SDK pointed at STRIPE_API_URL (Stripe, or the emulator). The key given here is never used:
 * every call passes its own (a connection's token, an org's secret key) in the request options.
 */
export function createStripeSdk(apiUrl: string): Stripe {
  const api = new URL(apiUrl);
  const protocol = api.protocol === "http:" ? "http" : "https";
  return new Stripe("sk_gateway_per_request_key", {
    host: api.hostname,
    port: Number(api.port || (protocol === "http" ? 80 : 443)),
    protocol,
    // Retries (with the rate budget in mind) are the caller's: see src/stripe/api.ts.
    maxNetworkRetries: 0,
    timeout: 30_000,
    telemetry: false,
    appInfo: { name: "stripe-connect-gateway" },
  });
}

/** Per-connection calls through the SDK, with per-request credentials. */
export function createStripeClients(deps: StripeClientsDeps): StripeClients {
  const sdk = createStripeSdk(deps.apiUrl);

  return {
    async withConnection(connectionId, call) {
      const first = await deps.credentials.credentials(connectionId);
      try {
        return await call(sdk, first);
      } catch (error) {
        if (!(error instanceof Stripe.errors.StripeAuthenticationError)) throw error;
        if (first.stripeAccount === undefined) {
          const renewed = await deps.credentials.credentials(connectionId, { forceRefresh: true });
          try {
            return await call(sdk, renewed);
          } catch (retryError) {
            if (!(retryError instanceof Stripe.errors.StripeAuthenticationError)) throw retryError;
          }
        }
        await deps.onCredentialsRejected(connectionId);
        throw error;
      }
    },
  };
}
