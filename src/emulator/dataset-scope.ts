import type { BuildContext } from "./objects.ts";
import type { SeededRandom } from "./random.ts";
import type { Store } from "./store.ts";
import type { Mode, StripeObject } from "./types.ts";

/** What every dataset generator works in: one account in one mode, its builders and its random stream. */
export interface GeneratorScope {
  store: Store;
  accountId: string;
  mode: Mode;
  ctx: BuildContext;
  random: SeededRandom;
}

/** Stores `objects` of `resource` in the scope's account and mode, oldest first. */
export function insertAll(
  { store, accountId, mode }: GeneratorScope,
  resource: string,
  objects: StripeObject[],
) {
  objects.sort((a, b) => a.created - b.created);
  for (const object of objects) store.insert(accountId, mode, resource, object);
}
