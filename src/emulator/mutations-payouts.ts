import { apiError, errors } from "./api-errors.ts";
import { buildContext, checkCurrency, locateObject } from "./mutations-payments.ts";
import { buildBalanceTransaction, buildPayout, payoutBalanceTransaction } from "./objects.ts";
import { type EmulatorState, mergeInto, patchAndRecord, previousAttributes, recordEvent } from "./state.ts";
import { connectionKey } from "./store.ts";
import { MODES, type Mode, type StripeObject } from "./types.ts";

const FAILURE_MESSAGES: Record<string, string> = {
  account_closed: "The bank account has been closed.",
  account_frozen: "The bank account has been frozen.",
  insufficient_funds: "Your Stripe account has insufficient funds to cover the payout.",
  no_account: "The bank account details on file are probably incorrect.",
  could_not_process: "The bank could not process this payout.",
};

/**
 * Creates a payout in `currency` (default: the account's). Without `amount` it is an automatic payout of
 * every balance transaction in that currency not yet paid out (so `/v1/balance_transactions?payout=`
 * reconciles); with `amount` a manual one.
 */
export function createPayout(
  state: EmulatorState,
  accountId: string,
  mode: Mode,
  input: { amount?: number; currency?: string } = {},
) {
  const ctx = buildContext(state, accountId, mode, checkCurrency(input.currency));
  const transactions = state.store.collection(accountId, mode, "balance_transaction");
  // Stripe pays out each currency's balance separately.
  const unpaid =
    input.amount === undefined
      ? transactions.items.filter((r) => !r.links.payout && r.object.currency === ctx.currency)
      : [];
  const amount = input.amount ?? unpaid.reduce((sum, r) => sum + (r.object.net as number), 0);
  if (!Number.isInteger(amount) || amount <= 0)
    throw apiError(400, {
      code: "balance_insufficient",
      message: "You have insufficient funds in your Stripe account for this transfer.",
    });
  const payoutId = ctx.id("po");
  const bt = payoutBalanceTransaction(ctx, { source: payoutId, amount, created: ctx.now });
  const lastPayout = state.store.collection(accountId, mode, "payout").items.at(-1)?.object;
  const payout = buildPayout(ctx, {
    id: payoutId,
    amount,
    created: ctx.now,
    balanceTransaction: bt.id,
    destination: (lastPayout?.destination as string) ?? ctx.id("ba"),
    status: "pending",
    automatic: input.amount === undefined,
  });
  for (const record of unpaid) record.links.payout = payoutId;
  state.store.insert(
    accountId,
    mode,
    "balance_transaction",
    bt,
    input.amount === undefined ? { payout: payoutId } : {},
  );
  state.store.insert(accountId, mode, "payout", payout);
  recordEvent(state, { accountId, mode, type: "payout.created", object: payout });
  return payout;
}

const STATUS_EVENTS: Record<string, string> = {
  paid: "payout.paid",
  failed: "payout.failed",
  canceled: "payout.canceled",
  in_transit: "payout.updated",
};

/** Moves a payout along its lifecycle, recording `payout.updated` and the status event. */
export function updatePayoutStatus(
  state: EmulatorState,
  payoutId: string,
  input: { status: string; failureCode?: string },
): StripeObject {
  const statusEvent = STATUS_EVENTS[input.status];
  if (!statusEvent) throw errors.invalidEnum("status", Object.keys(STATUS_EVENTS));
  const { accountId, mode, record } = locateObject(state, "payout", payoutId);
  const payout = record.object;
  if (payout.status === "failed" || payout.status === "canceled")
    throw apiError(400, { message: `Payout ${payoutId} is ${payout.status as string} and cannot change.` });
  const patch: Record<string, unknown> = { status: input.status };
  if (input.status === "paid") patch.trace_id = { status: "supported", value: `TRACE${payoutId.slice(-10)}` };
  if (input.status === "failed" || input.status === "canceled") {
    const ctx = buildContext(state, accountId, mode, payout.currency as string);
    const reversal = buildBalanceTransaction(ctx, {
      amount: payout.amount as number,
      type: input.status === "failed" ? "payout_failure" : "payout_cancel",
      reportingCategory: "payout_reversal",
      source: payoutId,
      created: ctx.now,
      availableOn: ctx.now,
      description: input.status === "failed" ? "Payout failure" : "Payout cancellation",
    });
    state.store.insert(accountId, mode, "balance_transaction", reversal);
    patch.failure_balance_transaction = reversal.id;
    if (input.status === "failed") {
      const code = input.failureCode ?? "could_not_process";
      patch.failure_code = code;
      patch.failure_message = FAILURE_MESSAGES[code] ?? "The payout failed.";
    }
  }
  patchAndRecord(state, { accountId, mode }, payout, "payout.updated", patch);
  if (statusEvent !== "payout.updated")
    recordEvent(state, { accountId, mode, type: statusEvent, object: payout });
  return payout;
}

/** Updates the account object (deep merge) and records `account.updated` in both modes' event logs. */
export function updateAccount(state: EmulatorState, accountId: string, patch: Record<string, unknown>) {
  const account = state.store.account(accountId);
  if (!account) throw errors.resourceMissing("account", accountId);
  const previous = previousAttributes(account.object, patch);
  mergeInto(account.object, patch);
  for (const mode of MODES)
    recordEvent(state, {
      accountId,
      mode,
      type: "account.updated",
      object: account.object,
      previousAttributes: previous,
    });
  return account.object;
}

/** Uninstalls the platform's app (or deauthorizes the Connect grant): tokens and access stop working. */
export function uninstallApp(
  state: EmulatorState,
  accountId: string,
  options: { platformId?: string; modes?: readonly Mode[] } = {},
): StripeObject[] {
  const account = state.store.account(accountId);
  if (!account) throw errors.resourceMissing("account", accountId);
  const platform = state.platforms.find((p) => p.id === (options.platformId ?? state.platforms[0]?.id));
  if (!platform) throw errors.resourceMissing("platform", options.platformId ?? "");
  const events: StripeObject[] = [];
  for (const mode of options.modes ?? MODES) {
    const key = connectionKey(platform.id, mode);
    const wasConnected = account.connections.get(key) === true;
    account.connections.set(key, false);
    state.tokens.revoke(platform.id, accountId, mode);
    if (!wasConnected) continue;
    const application = { id: platform.keys[mode].clientId, object: "application", name: platform.name };
    events.push(
      recordEvent(state, { accountId, mode, type: "account.application.deauthorized", object: application }),
    );
  }
  return events;
}

/** Grants the platform access (OAuth approval) and records `account.application.authorized`. */
export function installApp(state: EmulatorState, accountId: string, platformId: string, mode: Mode): void {
  const account = state.store.account(accountId);
  const platform = state.platforms.find((p) => p.id === platformId);
  if (!account || !platform) return;
  const key = connectionKey(platformId, mode);
  if (account.connections.get(key) === true) return;
  account.connections.set(key, true);
  const application = { id: platform.keys[mode].clientId, object: "application", name: platform.name };
  recordEvent(state, { accountId, mode, type: "account.application.authorized", object: application });
}
