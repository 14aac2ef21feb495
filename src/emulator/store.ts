import type { Mode, StripeObject } from "./types.ts";

/** A stored object plus associations Stripe keeps outside the object (e.g. `payout` of a txn). */
export interface StoredRecord {
  object: StripeObject;
  links: Record<string, string>;
}

/** One resource of one account in one mode, kept oldest → newest so new objects append. */
class Collection {
  readonly items: StoredRecord[] = [];
  private readonly index = new Map<string, number>();

  get(id: string): StoredRecord | undefined {
    const position = this.index.get(id);
    return position === undefined ? undefined : this.items[position];
  }

  position(id: string): number | undefined {
    return this.index.get(id);
  }

  add(record: StoredRecord): void {
    const last = this.items.at(-1);
    this.items.push(record);
    if (!last || last.object.created <= record.object.created) {
      this.index.set(record.object.id, this.items.length - 1);
      return;
    }
    // Out-of-order insert (rare): keep the ordering stable by created, then reindex.
    this.items.sort((a, b) => a.object.created - b.object.created);
    this.items.forEach((item, i) => {
      this.index.set(item.object.id, i);
    });
  }
}

export interface AccountState {
  /** The account object as served by /v1/account. */
  object: StripeObject;
  /** `${platformId}:${mode}` → whether that platform's app is installed (connected) on the account. */
  connections: Map<string, boolean>;
}

export const connectionKey = (platformId: string, mode: Mode) => `${platformId}:${mode}`;

export interface Located {
  accountId: string;
  mode: Mode;
  resource: string;
  record: StoredRecord;
}

export class Store {
  readonly accounts = new Map<string, AccountState>();
  private readonly collections = new Map<string, Collection>();
  private readonly owners = new Map<string, { accountId: string; mode: Mode; resource: string }>();

  collection(accountId: string, mode: Mode, resource: string): Collection {
    const key = `${accountId}/${mode}/${resource}`;
    let collection = this.collections.get(key);
    if (!collection) {
      collection = new Collection();
      this.collections.set(key, collection);
    }
    return collection;
  }

  insert(
    accountId: string,
    mode: Mode,
    resource: string,
    object: StripeObject,
    links: Record<string, string> = {},
  ): StoredRecord {
    const record = { object, links };
    this.collection(accountId, mode, resource).add(record);
    this.owners.set(object.id, { accountId, mode, resource });
    return record;
  }

  /** Finds any object by id, whichever account and mode holds it. */
  locate(id: string): Located | undefined {
    const owner = this.owners.get(id);
    if (!owner) return undefined;
    const record = this.collection(owner.accountId, owner.mode, owner.resource).get(id);
    return record ? { ...owner, record } : undefined;
  }

  account(id: string): AccountState | undefined {
    return this.accounts.get(id);
  }
}
