import { apiError } from "./api-errors.ts";
import { type Caller, requirePermission } from "./auth.ts";
import { type ResourceSpec, resourceForId } from "./resources.ts";
import type { Store, StoredRecord } from "./store.ts";
import type { StripeObject } from "./types.ts";

const MAX_DEPTH = 4;

/** Checks `expand[]` paths against the resource table before any object is read. */
export function validateExpand(spec: ResourceSpec, paths: readonly string[], list: boolean): string[][] {
  return paths.map((path, index) => {
    const parts = path.split(".");
    if (list) {
      if (parts[0] !== "data") throw cannotExpand(path, index);
      parts.shift();
    }
    if (parts.length === 0 || parts.length > MAX_DEPTH) throw cannotExpand(path, index);
    if (!spec.expandable.includes(parts[0] ?? "")) throw cannotExpand(path, index);
    return parts;
  });
}

function cannotExpand(path: string, index: number) {
  return apiError(400, { param: `expand[${index}]`, message: `This property cannot be expanded (${path}).` });
}

/** Returns a copy of `object` with the given id fields replaced by the objects they name. */
export function expandObject(
  store: Store,
  caller: Caller,
  spec: ResourceSpec,
  record: StoredRecord,
  paths: readonly string[][],
  now: number,
): StripeObject {
  // A deleted object is only its stub (the store keeps `created` to stay ordered).
  if (record.object.deleted === true)
    return { id: record.object.id, object: record.object.object, deleted: true } as unknown as StripeObject;
  const object = spec.present ? spec.present(record, Math.floor(now / 1000)) : record.object;
  if (paths.length === 0) return object;
  const result: StripeObject = { ...object };
  const byField = new Map<string, string[][]>();
  for (const [field = "", ...rest] of paths) byField.set(field, [...(byField.get(field) ?? []), rest]);
  for (const [field, rests] of byField) {
    const value = object[field];
    if (typeof value !== "string") continue;
    const target = resourceForId(value);
    const located = store.locate(value);
    if (!target || !located || located.accountId !== caller.accountId || located.mode !== caller.mode)
      continue;
    if (spec.name === "balance_transaction" && field === "source")
      requirePermission(caller, "balance_transaction_source_read");
    requirePermission(caller, target.permission);
    const deeper = rests.filter((rest) => rest.length > 0);
    result[field] = expandObject(store, caller, target, located.record, deeper, now);
  }
  return result;
}
