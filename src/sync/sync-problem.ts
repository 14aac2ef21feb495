import Stripe from "stripe";
import { StripeOAuthError, StripeUnavailableError } from "../stripe/oauth.ts";

/** Why a sync failed, for people (`lastError`, a sync state's `error`) and for code (`lastErrorCode`). */
export type SyncProblem = { code: string; message: string };

type ErrorClass = abstract new (...args: never[]) => Error;

/** First match wins: Stripe's own error classes say what went wrong on Stripe's side. */
const PROBLEMS: [readonly ErrorClass[], SyncProblem][] = [
  [
    [Stripe.errors.StripeRateLimitError],
    {
      code: "STRIPE_RATE_LIMITED",
      message: "Stripe kept answering 429 Too Many Requests; the sync will try again.",
    },
  ],
  [
    [Stripe.errors.StripeAPIError, Stripe.errors.StripeConnectionError, StripeUnavailableError],
    {
      code: "STRIPE_UNAVAILABLE",
      message: "Stripe could not be reached or answered with a server error; the sync will try again.",
    },
  ],
  [
    [Stripe.errors.StripePermissionError],
    {
      code: "STRIPE_PERMISSION_DENIED",
      message: "The connected account did not grant the permission this data needs.",
    },
  ],
  [
    [Stripe.errors.StripeAuthenticationError, StripeOAuthError],
    { code: "STRIPE_AUTHENTICATION_FAILED", message: "Stripe did not accept this connection's credentials." },
  ],
];

/**
 * Turns a thrown error into a sentence that is safe to show. Anything that is not Stripe's (database,
 * decryption, a bug) is INTERNAL, its details only in the log with the connection id — never Prisma, SQL
 * or crypto text in an API answer.
 */
export function describeSyncProblem(error: unknown): SyncProblem {
  const known = PROBLEMS.find(([classes]) => classes.some((errorClass) => error instanceof errorClass));
  if (known) return known[1];
  if (error instanceof Stripe.errors.StripeError)
    return {
      code: "STRIPE_REQUEST_FAILED",
      message: `Stripe refused a request of the sync (${error.type}); the sync will try again.`,
    };
  return {
    code: "INTERNAL",
    message: "The gateway failed while syncing this connection; the details are in its log.",
  };
}
