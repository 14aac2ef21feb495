// Calls an org makes on its own platform account with its secret key: reading the account (does Stripe
// take the key?) and managing the Connect webhook endpoint (`/v1/webhook_endpoints`). PROTOCOL.md §3.1.
import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { createStripeSdk } from "./client.ts";
import { withRetry } from "./retry.ts";

/** What Stripe said of a secret key: `message` for people, null when there is nothing to add. */
export type SecretKeyCheck =
  | { outcome: "accepted"; message: string | null }
  | { outcome: "rejected"; message: string }
  | { outcome: "unchecked"; message: string };

/**
 * A Stripe call that did not happen: the key refused (401), the key not allowed to (403, a restricted
 * key), the request refused (another 4xx, with Stripe's message and the parameter it names), or no answer.
 */
export class PlatformCallError extends Error {
  override name = "PlatformCallError";
  constructor(
    readonly kind: "key_rejected" | "key_forbidden" | "request_refused" | "unavailable",
    message: string,
    readonly status: number | null = null,
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

export type WebhookEndpointInput = {
  url: string;
  enabledEvents: readonly string[];
  description: string;
  metadata: Record<string, string>;
};

export type StripePlatformApi = {
  checkSecretKey(secretKey: string): Promise<SecretKeyCheck>;
  listWebhookEndpoints(secretKey: string): Promise<Stripe.WebhookEndpoint[]>;
  /** A Connect endpoint (`connect=true`): events of the connected accounts. Its `secret` is in this answer only. */
  createConnectWebhookEndpoint(
    secretKey: string,
    input: WebhookEndpointInput,
  ): Promise<Stripe.WebhookEndpoint>;
  /** Deleting one that is already gone counts as done. */
  deleteWebhookEndpoint(secretKey: string, id: string): Promise<void>;
};

/** 429s, 5xx and connection failures: sent again (a POST with the same idempotency key, which Stripe replays). */
const retryable = (error: unknown) =>
  error instanceof Stripe.errors.StripeRateLimitError ||
  error instanceof Stripe.errors.StripeAPIError ||
  error instanceof Stripe.errors.StripeConnectionError;

function failureOf(error: unknown): PlatformCallError {
  if (error instanceof PlatformCallError) return error;
  if (error instanceof Stripe.errors.StripeAuthenticationError)
    return new PlatformCallError("key_rejected", error.message, 401);
  if (error instanceof Stripe.errors.StripePermissionError)
    return new PlatformCallError("key_forbidden", error.message, 403);
  if (retryable(error)) {
    const detail = error instanceof Error ? error.message : String(error);
    return new PlatformCallError("unavailable", `Stripe did not answer (${detail})`);
  }
  if (error instanceof Stripe.errors.StripeError)
    return new PlatformCallError(
      "request_refused",
      error.message,
      error.statusCode ?? null,
      error.param ?? null,
    );
  throw error;
}

/**
 * The org-level Stripe calls, through the official SDK at STRIPE_API_URL, each retried a few times on
 * 429, 5xx and connection failures (an org waits on them in a mutation: seconds, not minutes).
 */
export function createStripePlatformApi(options: {
  apiUrl: string;
  retryBaseMs?: number;
}): StripePlatformApi {
  const sdk = createStripeSdk(options.apiUrl);
  const call = async <T>(attempt: () => Promise<T>): Promise<T> => {
    try {
      return await withRetry(attempt, {
        attempts: 3,
        firstDelayMs: options.retryBaseMs ?? 250,
        maxDelayMs: 2_000,
        retryable,
      });
    } catch (error) {
      throw failureOf(error);
    }
  };

  return {
    async checkSecretKey(secretKey) {
      try {
        const account = await call(() => sdk.accounts.retrieveCurrent(undefined, { apiKey: secretKey }));
        return { outcome: "accepted", message: account.id ? null : "Stripe answered without an account id." };
      } catch (error) {
        const failure = failureOf(error);
        if (failure.kind === "unavailable") return { outcome: "unchecked", message: failure.message };
        // A restricted key without "Account: read" is a working key that may not read the account.
        if (failure.kind === "key_forbidden")
          return {
            outcome: "accepted",
            message: `Stripe took the key, but it may not read the account: ${failure.message}`,
          };
        return { outcome: "rejected", message: failure.message };
      }
    },

    async listWebhookEndpoints(secretKey) {
      const endpoints: Stripe.WebhookEndpoint[] = [];
      let startingAfter: string | undefined;
      for (;;) {
        const page = await call(() =>
          sdk.webhookEndpoints.list({ limit: 100, starting_after: startingAfter }, { apiKey: secretKey }),
        );
        endpoints.push(...page.data);
        startingAfter = page.data.at(-1)?.id;
        if (!page.has_more || !startingAfter) return endpoints;
      }
    },

    createConnectWebhookEndpoint(secretKey, input) {
      const idempotencyKey = `gateway-webhook-endpoint-${randomUUID()}`;
      return call(() =>
        sdk.webhookEndpoints.create(
          {
            url: input.url,
            connect: true,
            enabled_events: [...input.enabledEvents] as Stripe.WebhookEndpointCreateParams.EnabledEvent[],
            description: input.description,
            metadata: input.metadata,
          },
          { apiKey: secretKey, idempotencyKey },
        ),
      );
    },

    async deleteWebhookEndpoint(secretKey, id) {
      try {
        await call(() => sdk.webhookEndpoints.del(id, undefined, { apiKey: secretKey }));
      } catch (error) {
        if (error instanceof PlatformCallError && error.status === 404) return;
        throw error;
      }
    },
  };
}
