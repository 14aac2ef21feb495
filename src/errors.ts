/**
 * Expected outcomes that GraphQL returns as typed union members. Only subclasses of AppError are ever
 * shown to clients; any other thrown Error is masked as "Unexpected error." and logged.
 */
export class AppError extends Error {
  override name = "AppError";
}

export type FieldError = { path: string[]; message: string };

export class ValidationError extends AppError {
  override name = "ValidationError";
  constructor(readonly fieldErrors: FieldError[]) {
    super(
      fieldErrors.length === 1
        ? `Invalid input: ${fieldErrors[0]!.path.join(".")} ${fieldErrors[0]!.message}`
        : `Invalid input: ${fieldErrors.length} problems`,
    );
  }
}

export class NotFoundError extends AppError {
  override name = "NotFoundError";
}

export class StripeNotConfiguredError extends AppError {
  override name = "StripeNotConfiguredError";
  constructor() {
    super("Stripe is not configured for this org: call setStripeConfig with clientId and secretKey first.");
  }
}
