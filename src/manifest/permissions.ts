import { requiredPermissions } from "../stripe/resources.ts";

/** One permission of the Stripe App manifest: what the merchant approves at install. */
export type StripeAppPermission = { permission: string; purpose: string };

/** What the registry reads, by permission name: the setup guide's list. */
export const STRIPE_APP_PERMISSIONS: readonly StripeAppPermission[] = Object.freeze(requiredPermissions());
