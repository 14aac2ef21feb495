import Stripe from "stripe";
import { StripeOAuthError, StripeUnavailableError } from "../stripe/oauth.ts";

/** Why a sync failed, for people (`lastError`, a sync state's `error`) and for code (`lastErrorCode`). */
export type SyncProblem = { code: string; message: string };

/**
 * Turns a thrown error into a sentence that is safe to show: Stripe's own error classes say what went
 * wrong on Stripe's side; anything else (database, decryption, a bug) is INTERNAL, its details only in
 * the log with the connection id — never Prisma, SQL or crypto text in an API answer.
 */
export function describeSyncProblem(error: unknown): SyncProblem {
  if (error instanceof Stripe.errors.StripeRateLimitError)
    return {
      code: "STRIPE_RATE_LIMITED",
      message: "Stripe kept answering 429 Too Many Requests; the sync will try again.",
    };
  if (
    error instanceof Stripe.errors.StripeAPIError ||
    error instanceof Stripe.errors.StripeConnectionError ||
    error instanceof StripeUnavailableError
  )
    return {
      code: "STRIPE_UNAVAILABLE",
      message: "Stripe could not be reached or answered with a server error; the sync will try again.",
    };
  if (error instanceof Stripe.errors.StripePermissionError)
    return {
      code: "STRIPE_PERMISSION_DENIED",
      message: "The connected account did not grant the permission this data needs.",
    };
  if (error instanceof Stripe.errors.StripeAuthenticationError || error instanceof StripeOAuthError)
    return {
      code: "STRIPE_AUTHENTICATION_FAILED",
      message: "Stripe did not accept this connection's credentials.",
    };
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
