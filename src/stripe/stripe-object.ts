/** A Stripe object as it arrives: only `id` is certain; anything else may be absent or new. */
export type StripeObject = { id: string; object?: string; [field: string]: unknown };
