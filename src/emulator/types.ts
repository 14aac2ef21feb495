export type Mode = "live" | "test";

/** A Stripe API object as sent on the wire. */
export type StripeObject = { id: string; object: string; created: number; [field: string]: unknown };

export const MODES: readonly Mode[] = ["test", "live"];

export const PERMISSIONS = [
  "connected_account_read",
  "application_fee_read",
  "balance_read",
  "balance_transaction_source_read",
  "charge_read",
  "customer_read",
  "dispute_read",
  "event_read",
  "issuing_authorization_read",
  "issuing_transaction_read",
  "payout_read",
  "subscription_read",
] as const;
export type Permission = (typeof PERMISSIONS)[number];
