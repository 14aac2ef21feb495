/** One permission of the Stripe App manifest: what the merchant approves at install. */
export type StripeAppPermission = { permission: string; purpose: string };

/**
 * The permissions of the setup guide, in its order, each with the purpose merchants read on the
 * install screen. Every one is read-only: the gateway syncs and serves data, it never writes to Stripe.
 */
export const STRIPE_APP_PERMISSIONS: readonly StripeAppPermission[] = Object.freeze([
  {
    permission: "connected_account_read",
    purpose:
      "Reads your account's business name, country, default currency and whether charges and payouts are enabled, to identify your account and show its status.",
  },
  {
    permission: "application_fee_read",
    purpose: "Reads the application fees on your charges, to report the fees deducted from your revenue.",
  },
  {
    permission: "balance_read",
    purpose: "Reads your available and pending balance, to show the funds on their way to your bank account.",
  },
  {
    permission: "balance_transaction_source_read",
    purpose:
      "Reads the balance transactions and the charges, refunds and fees behind them, to reconcile each payout with the transactions it contains.",
  },
  {
    permission: "charge_read",
    purpose: "Reads your charges and their refunds, to keep your payment history in sync.",
  },
  {
    permission: "customer_read",
    purpose:
      "Reads your customers' names and email addresses, to show who each charge and subscription belongs to.",
  },
  {
    permission: "dispute_read",
    purpose:
      "Reads your disputes, their status and evidence deadlines, to show the disputes open on your account.",
  },
  {
    permission: "event_read",
    purpose:
      "Receives events about your payouts, charges, refunds and disputes, to keep the synced data current, and learns when you uninstall the app.",
  },
  {
    permission: "issuing_authorization_read",
    purpose:
      "Reads your Stripe Issuing card authorizations, to include card spending in your financial data.",
  },
  {
    permission: "issuing_transaction_read",
    purpose:
      "Reads your Stripe Issuing transactions, to include settled card spending in your financial data.",
  },
  {
    permission: "payout_read",
    purpose: "Reads your payouts and their arrival dates, to show when funds reach your bank account.",
  },
  {
    permission: "subscription_read",
    purpose: "Reads your subscriptions and their status, to report your recurring revenue.",
  },
]);
