import { maskKey } from "./random.ts";

type Body = Record<string, unknown>;

/** A response Stripe would send instead of the resource: thrown by handlers, rendered by the app. */
export class StripeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Body,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body.error === "string" ? body.error : "stripe_error");
  }
}

const docUrl = (code: string) => `https://stripe.com/docs/error-codes/${code.replaceAll("_", "-")}`;

interface ApiErrorFields {
  type?: "invalid_request_error" | "api_error" | "idempotency_error";
  code?: string;
  param?: string;
  message: string;
}

export function apiError(status: number, fields: ApiErrorFields): StripeHttpError {
  const error: Body = { message: fields.message, type: fields.type ?? "invalid_request_error" };
  if (fields.code) {
    error.code = fields.code;
    error.doc_url = docUrl(fields.code);
  }
  if (fields.param) error.param = fields.param;
  return new StripeHttpError(status, { error });
}

/** OAuth endpoints answer `{error, error_description}` rather than the API envelope. */
export function oauthError(status: number, error: string, description: string): StripeHttpError {
  return new StripeHttpError(status, { error, error_description: description });
}

export const errors = {
  missingKey: () =>
    apiError(401, {
      message:
        "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
    }),
  invalidKey: (key: string) => apiError(401, { message: `Invalid API Key provided: ${maskKey(key)}` }),
  expiredKey: (key: string) =>
    apiError(401, { code: "api_key_expired", message: `Expired API Key provided: ${maskKey(key)}` }),
  noAccountAccess: (key: string, account: string) =>
    apiError(403, {
      message: `The provided key '${maskKey(key)}' does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
      code: "account_invalid",
    }),
  permission: (key: string, account: string, permission: string) =>
    apiError(403, {
      code: "more_permissions_required_for_application",
      message: `The provided key '${maskKey(key)}' does not have the required permissions for this endpoint on account '${account}'. Having the '${permission}' permission would allow this request to continue.`,
    }),
  resourceMissing: (label: string, id: string, param = "id") =>
    apiError(404, { code: "resource_missing", param, message: `No such ${label}: '${id}'` }),
  missingParameter: (param: string) =>
    apiError(400, { code: "parameter_missing", param, message: `Missing required param: ${param}.` }),
  unknownParameter: (param: string) =>
    apiError(400, { code: "parameter_unknown", param, message: `Received unknown parameter: ${param}` }),
  invalidInteger: (param: string, message: string) =>
    apiError(400, { code: "parameter_invalid_integer", param, message }),
  invalidParameter: (param: string, message: string) => apiError(400, { param, message }),
  invalidEnum: (param: string, allowed: readonly string[]) =>
    apiError(400, {
      param,
      message: `Invalid ${param}: must be one of ${allowed.slice(0, -1).join(", ")}, or ${allowed.at(-1)}`,
    }),
  unrecognizedUrl: (method: string, path: string) =>
    apiError(404, {
      message: `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    }),
  rateLimited: () =>
    new StripeHttpError(
      429,
      {
        error: {
          code: "rate_limit",
          doc_url: docUrl("rate_limit"),
          message:
            "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
          type: "invalid_request_error",
        },
      },
      { "Stripe-Rate-Limited-Reason": "global-rate" },
    ),
  server: (status: number) =>
    apiError(status, {
      type: "api_error",
      message:
        status === 503
          ? "Stripe is temporarily unavailable. Please retry the request."
          : "An unknown error occurred",
    }),
};
