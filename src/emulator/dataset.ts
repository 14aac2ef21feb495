import {
  generateCustomers,
  generateHistoryEvents,
  generateIssuing,
  generateSubscriptions,
} from "./dataset-extras.ts";
import { generatePaymentHistory } from "./dataset-payments.ts";
import type { GeneratorScope } from "./dataset-scope.ts";
import { type BuildContext, fromFixture } from "./objects.ts";
import type { Platform } from "./platforms.ts";
import { createRandom } from "./random.ts";
import { connectionKey, type Store } from "./store.ts";
import { MODES } from "./types.ts";

export const DATASET_SIZES = {
  tiny: { payouts: 12, chargesPerPayout: 3 },
  small: { payouts: 60, chargesPerPayout: 5 },
  medium: { payouts: 400, chargesPerPayout: 6 },
  large: { payouts: 2000, chargesPerPayout: 8 },
} as const;
export type DatasetSize = keyof typeof DATASET_SIZES | { payouts: number; chargesPerPayout: number };

export interface DatasetOptions {
  seed: string;
  accounts: number;
  size: DatasetSize;
  /** Days of history before the clock's current time. */
  days?: number;
  now: number;
  platforms: readonly Platform[];
  apiVersion: string;
}

const DAY = 86_400;
const BUSINESSES = ["Rocket Rides", "Pasha Books", "Kavholm", "Furever", "Bloom Florists", "Typographic"];
const CURRENCIES = [
  ["US", "usd"],
  ["FR", "eur"],
  ["GB", "gbp"],
] as const;

/** Creates the connected accounts and fills the store with each one's history in both modes. */
export function generateDataset(store: Store, options: DatasetOptions): string[] {
  const random = createRandom(options.seed);
  const ids: string[] = [];
  for (let index = 0; index < options.accounts; index++) {
    const accountRandom = random.fork(`account/${index}`);
    const [country, currency] = CURRENCIES[index % CURRENCIES.length] ?? CURRENCIES[0];
    const name = `${BUSINESSES[index % BUSINESSES.length]}${index >= BUSINESSES.length ? ` ${index + 1}` : ""}`;
    const id = accountRandom.id("acct", 16);
    const account = fromFixture("account", {
      id,
      country,
      created: options.now - (options.days ?? 180) * DAY - 30 * DAY,
      default_currency: currency,
      email: `owner@${name.toLowerCase().replaceAll(" ", "")}.example`,
      business_type: "company",
    });
    Object.assign(account.business_profile as object, { name, url: `https://${id.slice(5, 13)}.example` });
    Object.assign(account.external_accounts as object, { url: `/v1/accounts/${id}/external_accounts` });
    Object.assign((account.settings as { dashboard: object }).dashboard, { display_name: name });
    // Every dataset account starts with the (first) platform's app installed in both modes.
    const connections = new Map<string, boolean>();
    for (const platform of options.platforms.slice(0, 1))
      for (const mode of MODES) connections.set(connectionKey(platform.id, mode), true);
    store.accounts.set(id, { object: account, connections });
    for (const mode of MODES) {
      const modeRandom = accountRandom.fork(mode);
      const ctx: BuildContext = {
        id: (prefix) => modeRandom.id(prefix),
        livemode: mode === "live",
        currency,
        now: options.now,
      };
      generateAccountHistory({ store, accountId: id, mode, ctx, random: modeRandom }, options);
    }
    ids.push(id);
  }
  return ids;
}

function generateAccountHistory(scope: GeneratorScope, options: DatasetOptions): void {
  const size = typeof options.size === "string" ? DATASET_SIZES[options.size] : options.size;
  const start = options.now - (options.days ?? 180) * DAY;
  const customers = generateCustomers(scope, { count: Math.max(5, Math.ceil(size.payouts / 2)), start });
  generatePaymentHistory(scope, {
    ...size,
    start,
    now: options.now,
    customers,
    application: options.platforms[0]?.keys[scope.mode].clientId ?? null,
  });
  generateSubscriptions(scope, { customers, start });
  generateIssuing(scope, { count: Math.ceil(size.payouts / 2), start });
  generateHistoryEvents(scope, options.apiVersion);
}
