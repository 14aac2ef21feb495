import { builder } from "./builder.ts";
import "./types/scalars.ts";
import "./types/errors.ts";
import "./types/org.ts";
import "./types/stripe-config.ts";
import "./types/stripe-connection.ts";
import "./types/stripe-balance-transaction.ts";
import "./types/stripe-payout.ts";
import "./types/stripe-refund.ts";
import "./types/stripe-charge.ts";
import "./types/stripe-dispute.ts";
import "./types/stripe-customer.ts";
import "./types/stripe-subscription.ts";
import "./types/stripe-application-fee.ts";
import "./types/stripe-issuing.ts";
import "./types/stripe-event.ts";
import "./types/stripe-account.ts";
import "./types/manifest.ts";
import "./types/subscriptions.ts";

builder.queryType({});
builder.mutationType({});
builder.subscriptionType({});

export const schema = builder.toSchema({ sortSchema: false });
