import type { FaultInjector, FaultInput } from "./faults.ts";
import { type MetadataInput, refundApplicationFee, updateFeeRefund } from "./mutations-fees.ts";
import { cancelSubscription, deleteCustomer, submitDisputeEvidence } from "./mutations-lifecycle.ts";
import {
  type CreateChargeInput,
  closeDispute,
  createCharge,
  openDispute,
  refundCharge,
} from "./mutations-payments.ts";
import { createPayout, uninstallApp, updateAccount, updatePayoutStatus } from "./mutations-payouts.ts";
import type { Platform } from "./platforms.ts";
import { maskKey } from "./random.ts";
import type { RateLimiter, RateLimits } from "./rate-limit.ts";
import type { EmulatorState, OAuthDecision } from "./state.ts";
import { type Mode, PERMISSIONS, type Permission, type StripeObject } from "./types.ts";
import type { DeliveryOptions, WebhookEndpointInput } from "./webhooks.ts";

export interface PlatformUpdate {
  redirectUris?: string[];
  oauthLinks?: string[];
  permissions?: Permission[];
}

/** Test and demo control over the emulator; every data change records and delivers Stripe events. */
export function createControl(state: EmulatorState, faults: FaultInjector, limiter: RateLimiter) {
  const platform = (id?: string): Platform => {
    const found =
      id === undefined || id === "default" ? state.platforms[0] : state.platforms.find((p) => p.id === id);
    if (!found) throw new RangeError(`No such platform: ${id}`);
    return found;
  };
  return {
    /** Keys, client ids and accounts (secret keys included: this is the operator's view). */
    info() {
      return {
        api_version: state.apiVersion,
        now: state.clock.seconds(),
        platforms: state.platforms.map((p) => ({
          id: p.id,
          name: p.name,
          keys: p.keys,
          redirect_uris: p.redirectUris,
          oauth_links: p.oauthLinks,
          permissions: p.permissions,
        })),
        accounts: state.accountIds.map((id) => {
          const account = state.store.account(id)?.object as StripeObject;
          const profile = account.business_profile as { name: string };
          return {
            id,
            name: profile.name,
            country: account.country,
            default_currency: account.default_currency,
          };
        }),
        oauth: { decision: state.oauth.decision, next_account: state.oauth.nextAccount },
        rate_limits: limiter.current(),
        webhook_endpoints: state.webhooks.endpoints.map((e) => ({ ...e, secret: maskKey(e.secret) })),
        failures: faults.pending(),
      };
    },
    advanceClock(ms: number): number {
      state.clock.advance(ms);
      return state.clock.now();
    },
    setOAuthDecision(decision: OAuthDecision): void {
      if (!["approve", "deny", "page"].includes(decision))
        throw new RangeError(`Unknown decision ${decision}`);
      state.oauth.decision = decision;
    },
    /** The account that approves the next authorization (default: the dataset's first account). */
    setNextAccount(accountId: string | null): void {
      if (accountId !== null && !state.store.account(accountId))
        throw new RangeError(`No such account: ${accountId}`);
      state.oauth.nextAccount = accountId;
    },
    updatePlatform(id: string | undefined, update: PlatformUpdate): Platform {
      const target = platform(id);
      if (update.permissions?.some((p) => !(PERMISSIONS as readonly string[]).includes(p)))
        throw new RangeError(`Unknown permission in ${update.permissions.join(", ")}`);
      if (update.redirectUris) target.redirectUris = [...update.redirectUris];
      if (update.oauthLinks) target.oauthLinks = [...update.oauthLinks];
      if (update.permissions) target.permissions = [...update.permissions];
      return target;
    },
    injectFailure(input: FaultInput): void {
      faults.add(input);
    },
    clearFailures(): void {
      faults.clear();
    },
    setRateLimits(limits: RateLimits | false): void {
      limiter.configure(limits);
    },
    addWebhookEndpoint: (input: WebhookEndpointInput) => state.webhooks.addEndpoint(input),
    removeWebhookEndpoint: (id: string) => state.webhooks.removeEndpoint(id),
    setDeliveryOptions(options: Partial<DeliveryOptions>): DeliveryOptions {
      const given = Object.entries(options).filter(([, value]) => value !== undefined);
      state.webhooks.options = { ...state.webhooks.options, ...Object.fromEntries(given) };
      return state.webhooks.options;
    },
    get deliveries() {
      return state.webhooks.deliveries;
    },
    /** Resolves when every queued webhook delivery (retries included) has finished. */
    flushWebhooks: () => state.webhooks.flush(),
    createCharge: (accountId: string, mode: Mode, input: CreateChargeInput) =>
      createCharge(state, accountId, mode, input),
    createPayout: (accountId: string, mode: Mode, input: { amount?: number; currency?: string } = {}) =>
      createPayout(state, accountId, mode, input),
    updatePayout: (id: string, input: { status: string; failureCode?: string }) =>
      updatePayoutStatus(state, id, input),
    payPayout: (id: string) => updatePayoutStatus(state, id, { status: "paid" }),
    failPayout: (id: string, failureCode = "could_not_process") =>
      updatePayoutStatus(state, id, { status: "failed", failureCode }),
    refundCharge: (id: string, input: { amount?: number; reason?: string | null } = {}) =>
      refundCharge(state, id, input),
    refundApplicationFee: (id: string, input: { amount?: number; metadata?: MetadataInput } = {}) =>
      refundApplicationFee(state, id, input),
    updateFeeRefund: (feeId: string, id: string, input: { metadata?: MetadataInput }) =>
      updateFeeRefund(state, feeId, id, input),
    openDispute: (chargeId: string, input: { reason?: string } = {}) => openDispute(state, chargeId, input),
    closeDispute: (id: string, status: "won" | "lost") => closeDispute(state, id, { status }),
    submitDisputeEvidence: (id: string) => submitDisputeEvidence(state, id),
    deleteCustomer: (id: string) => deleteCustomer(state, id),
    cancelSubscription: (id: string) => cancelSubscription(state, id),
    updateAccount: (id: string, patch: Record<string, unknown>) => updateAccount(state, id, patch),
    uninstallApp: (accountId: string, options: { platformId?: string; modes?: Mode[] } = {}) =>
      uninstallApp(state, accountId, options),
  };
}

export type EmulatorControl = ReturnType<typeof createControl>;
