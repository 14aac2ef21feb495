import Stripe from "stripe";
import type { Clock } from "../clock.ts";
import type { Logger } from "../logger.ts";
import type { StripeClients } from "./client.ts";
import { BUDGET_PER_SECOND, createRateBudget } from "./rate-budget.ts";
import type { StripeObject } from "./resources.ts";
import { withRetry } from "./retry.ts";

export type StripeList = { object: "list"; data: StripeObject[]; has_more: boolean };

/** A connection as the API needs it: its id (budget and credentials) and mode (the budget's size). */
export type ApiConnection = { id: string; livemode: boolean | null };

/** One page of a list, with the whole second its read began (see sync/upsert.ts readVersion). */
export type ListPage = { data: StripeObject[]; readAt: Date };

export type StripeApi = {
  get<T = StripeObject>(
    connection: ApiConnection,
    path: string,
    params?: Record<string, unknown>,
  ): Promise<T>;
  /**
   * Every page of a Stripe list, 100 objects each, following `starting_after` from `startingAfter` (a
   * saved cursor) until Stripe says there is no more.
   */
  list(
    connection: ApiConnection,
    path: string,
    params?: Record<string, unknown>,
    startingAfter?: string | null,
  ): AsyncGenerator<ListPage>;
};

export type StripeApiDeps = {
  stripe: Pick<StripeClients, "withConnection">;
  logger: Logger;
  clock: Clock;
};

/** Query string in Stripe's bracket notation: { created: { gte: 1 } } → created[gte]=1. */
function stripeQuery(params: Record<string, unknown>): string {
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

/** 429s, 5xx and connection failures: a GET changes nothing, so any of them may be sent again. */
const retryableRead = (error: unknown) =>
  error instanceof Stripe.errors.StripeRateLimitError ||
  error instanceof Stripe.errors.StripeAPIError ||
  error instanceof Stripe.errors.StripeConnectionError;

/**
 * Reads from Stripe for a connection: within the connection's rate budget, retrying 429s and 5xx with
 * the retry policy (the SDK itself does not retry a plain 429).
 */
export function createStripeApi(deps: StripeApiDeps, options: { retryBaseMs?: number } = {}): StripeApi {
  const budget = createRateBudget();

  async function get<T = StripeObject>(
    connection: ApiConnection,
    path: string,
    params: Record<string, unknown> = {},
  ): Promise<T> {
    const perSecond = connection.livemode ? BUDGET_PER_SECOND.live : BUDGET_PER_SECOND.test;
    return withRetry(
      async () => {
        await budget.take(connection.id, perSecond);
        return (await deps.stripe.withConnection(connection.id, (stripe, request) =>
          stripe.rawRequest("GET", `${path}${stripeQuery(params)}`, undefined, request),
        )) as T;
      },
      {
        attempts: 6,
        firstDelayMs: options.retryBaseMs ?? 500,
        maxDelayMs: 30_000,
        retryable: retryableRead,
        onRetry: (error, attempt) => {
          if (error instanceof Stripe.errors.StripeRateLimitError)
            budget.holdOff(connection.id, options.retryBaseMs ?? 500);
          deps.logger.debug(
            { connectionId: connection.id, path, attempt, err: error },
            "retrying Stripe request",
          );
        },
      },
    );
  }

  async function* list(
    connection: ApiConnection,
    path: string,
    params: Record<string, unknown> = {},
    startingAfter: string | null = null,
  ): AsyncGenerator<ListPage> {
    let cursor = startingAfter;
    for (;;) {
      const readAt = readVersion(deps.clock.now());
      const page = await get<StripeList>(connection, path, { ...params, limit: 100, starting_after: cursor });
      yield { data: page.data, readAt };
      const last = page.data.at(-1)?.id;
      if (!page.has_more || typeof last !== "string") return;
      cursor = last;
    }
  }

  return { get, list };
}

/**
 * The version of what a read returns: events carry whole seconds, and an event of the same second as
 * the read may or may not be in what was read, so the read counts as that second — such an event is a
 * tie (settled by reading again), never silently older.
 */
export function readVersion(readAt: Date): Date {
  return new Date(Math.floor(readAt.getTime() / 1000) * 1000);
}
