// The Stripe App permissions the gateway may ask for, each with the purpose merchants read on the install
// screen, in the setup guide's order. Every one is read-only: the gateway syncs and serves data, it never writes to Stripe. Which of
// them the manifest requests follows from the registry (resources.ts requiredPermissions).

export const STRIPE_PERMISSIONS = {
  connected_account_read:
    "Reads your account's business name, country, default currency and whether charges and payouts are enabled, to identify your account and show its status.",
  application_fee_read:
    "Reads the application fees on your charges, to report the fees deducted from your revenue.",
  balance_read:
    "Reads your available and pending balance, to show the funds on their way to your bank account.",
  balance_transaction_source_read:
    "Reads the balance transactions and the charges, refunds and fees behind them, to reconcile each payout with the transactions it contains.",
  charge_read: "Reads your charges and their refunds, to keep your payment history in sync.",
  customer_read:
    "Reads your customers' names and email addresses, to show who each charge and subscription belongs to.",
  dispute_read:
    "Reads your disputes, their status and evidence deadlines, to show the disputes open on your account.",
  event_read:
    "Receives events about your payouts, charges, refunds and disputes, to keep the synced data current, and learns when you uninstall the app.",
  issuing_authorization_read:
    "Reads your Stripe Issuing card authorizations, to include card spending in your financial data.",
  issuing_transaction_read:
    "Reads your Stripe Issuing transactions, to include settled card spending in your financial data.",
  payout_read: "Reads your payouts and their arrival dates, to show when funds reach your bank account.",
  subscription_read: "Reads your subscriptions and their status, to report your recurring revenue.",
} as const;

export type StripePermission = keyof typeof STRIPE_PERMISSIONS;
