import Stripe from "stripe";
import type { Deps } from "../deps.ts";
import { BUDGET_PER_SECOND, createRateBudget } from "./rate-budget.ts";
import type { StripeObject } from "./resources.ts";

export type StripeList = { object: "list"; data: StripeObject[]; has_more: boolean };

const MAX_ATTEMPTS = 6;

/** Query string in Stripe's bracket notation: { created: { gte: 1 } } → created[gte]=1. */
export function stripeQuery(params: Record<string, unknown>): string {
  const search = new URLSearchParams();
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      for (const item of value) add(`${key}[]`, item);
    } else if (typeof value === "object") {
      for (const [inner, innerValue] of Object.entries(value)) add(`${key}[${inner}]`, innerValue);
    } else search.append(key, String(value));
  };
  for (const [key, value] of Object.entries(params)) add(key, value);
  const text = search.toString();
  return text ? `?${text}` : "";
}

/**
 * Reads from Stripe for a connection: within the connection's rate budget, retrying 429s and 5xx with
 * exponential backoff and jitter (the SDK itself does not retry a plain 429).
 */
export function createStripeApi(
  deps: Pick<Deps, "stripe" | "logger">,
  options: { retryBaseMs?: number } = {},
) {
  const retryBaseMs = options.retryBaseMs ?? 500;
  const budget = createRateBudget();

  async function get<T = StripeObject>(
    connection: { id: string; livemode: boolean | null },
    path: string,
    params: Record<string, unknown> = {},
  ): Promise<T> {
    const perSecond = connection.livemode ? BUDGET_PER_SECOND.live : BUDGET_PER_SECOND.test;
    for (let attempt = 1; ; attempt++) {
      await budget.take(connection.id, perSecond);
      try {
        return (await deps.stripe.withConnection(connection.id, (stripe, request) =>
          stripe.rawRequest("GET", `${path}${stripeQuery(params)}`, undefined, request),
        )) as T;
      } catch (error) {
        const retryable =
          error instanceof Stripe.errors.StripeRateLimitError ||
          error instanceof Stripe.errors.StripeAPIError ||
          error instanceof Stripe.errors.StripeConnectionError;
        if (!retryable || attempt >= MAX_ATTEMPTS) throw error;
        const delay = Math.min(30_000, retryBaseMs * 2 ** (attempt - 1)) * (0.5 + Math.random());
        deps.logger.debug({ connectionId: connection.id, path, attempt, delay }, "retrying Stripe request");
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  return { get };
}

export type StripeApi = ReturnType<typeof createStripeApi>;
