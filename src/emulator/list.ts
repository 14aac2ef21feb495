import { apiError, errors } from "./api-errors.ts";
import type { Caller } from "./auth.ts";
import { expandObject, validateExpand } from "./expand.ts";
import { type Params, type ParamValue, stringParam } from "./params.ts";
import { type FilterSpec, type ResourceSpec, resourceSpec } from "./resources.ts";
import type { Store, StoredRecord } from "./store.ts";
import type { StripeObject } from "./types.ts";

type Predicate = (record: StoredRecord) => boolean;
const PAGINATION = new Set(["limit", "starting_after", "ending_before", "expand"]);
const RANGE_OPERATORS = new Set(["gt", "gte", "lt", "lte"]);

function parseInteger(param: string, value: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw errors.invalidInteger(param, `Invalid integer: ${value}`);
  return Number(value);
}

function fieldValue(object: StripeObject, path: string): unknown {
  let value: unknown = object;
  for (const part of path.split(".")) value = (value as Record<string, unknown> | null)?.[part];
  return value && typeof value === "object" && "id" in value ? (value as { id: unknown }).id : value;
}

/** Turns one filter parameter into a predicate, rejecting malformed values as Stripe does. */
function buildPredicate(spec: FilterSpec, value: ParamValue): Predicate {
  const field = "field" in spec && spec.field ? spec.field : spec.param;
  switch (spec.kind) {
    case "range": {
      if (typeof value === "string") {
        const exact = parseInteger(spec.param, value);
        return (r) => r.object[field] === exact;
      }
      if (Array.isArray(value))
        throw errors.invalidInteger(spec.param, `Invalid integer: ${value.join(",")}`);
      const bounds: Array<[string, number]> = [];
      for (const [operator, raw] of Object.entries(value)) {
        if (!RANGE_OPERATORS.has(operator)) throw errors.unknownParameter(`${spec.param}[${operator}]`);
        bounds.push([operator, parseInteger(`${spec.param}[${operator}]`, raw)]);
      }
      return (r) => {
        const n = r.object[field] as number;
        return bounds.every(([op, bound]) =>
          op === "gt" ? n > bound : op === "gte" ? n >= bound : op === "lt" ? n < bound : n <= bound,
        );
      };
    }
    case "equal":
    case "enum": {
      if (typeof value !== "string")
        throw errors.invalidParameter(spec.param, `Invalid string: ${spec.param}`);
      if (spec.kind === "enum") {
        if (!spec.values.includes(value)) throw errors.invalidEnum(spec.param, spec.values);
        const special = spec.special?.[value];
        if (special) return (r) => special(r.object);
      }
      return (r) => fieldValue(r.object, field) === value;
    }
    case "link":
      if (typeof value !== "string")
        throw errors.invalidParameter(spec.param, `Invalid string: ${spec.param}`);
      return (r) => r.links[spec.param] === value;
    case "event-type": {
      const names = typeof value === "string" ? [value] : Array.isArray(value) ? value : [];
      if (names.length === 0 || names.length > 20)
        throw errors.invalidParameter(spec.param, `Invalid ${spec.param}: pass between 1 and 20 event types`);
      const patterns = names.map(
        (name) => new RegExp(`^${name.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")}$`),
      );
      return (r) => patterns.some((pattern) => pattern.test(r.object.type as string));
    }
  }
}

export interface ListContext {
  store: Store;
  caller: Caller;
  spec: ResourceSpec;
  params: Params;
  now: number;
  /** For sub-resources (`spec.parent`): the parent object's id from the path. */
  parentId?: string;
}

/**
 * The records of a sub-resource belong to one parent of the caller's account and mode: 404 for another
 * parent (`param` names the path parameter); everything else is in scope.
 */
function parentScope({ store, caller, spec, parentId }: ListContext, param: string): Predicate {
  if (!spec.parent) return () => true;
  const parent = resourceSpec(spec.parent.resource);
  const id = parentId ?? "";
  if (!store.collection(caller.accountId, caller.mode, parent.name).get(id))
    throw errors.resourceMissing(parent.label, id, param);
  const field = spec.parent.field;
  return (r) => r.object[field] === id;
}

function listUrl({ spec, parentId }: ListContext): string {
  return spec.parent
    ? `/v1/${resourceSpec(spec.parent.resource).path}/${parentId}/${spec.path}`
    : `/v1/${spec.path}`;
}

/** The one list handler: filters, Stripe's cursor pagination (newest first) and `expand[]`. */
export function listObjects(context: ListContext) {
  const { store, caller, spec, params, now } = context;
  const filters = new Map(spec.filters.map((filter) => [filter.param, filter]));
  for (const name of params.keys())
    if (!PAGINATION.has(name) && !filters.has(name)) throw errors.unknownParameter(name);

  const limitRaw = stringParam(params, "limit");
  const limit = limitRaw === undefined ? 10 : parseInteger("limit", limitRaw);
  if (limit < 1) throw errors.invalidInteger("limit", "This value must be greater than or equal to 1.");
  if (limit > 100) throw errors.invalidInteger("limit", "This value must be less than or equal to 100.");
  const expand = validateExpand(spec, expandParam(params), true);
  const inScope = parentScope(context, "id");

  // Deleted objects (customers) are never listed; retrieving one answers its `deleted: true` stub.
  const predicates: Predicate[] = [(r) => r.object.deleted !== true, inScope];
  for (const [name, value] of params) {
    const filter = filters.get(name);
    if (!filter) continue;
    predicates.push(buildPredicate(filter, value));
    if (filter.kind === "link") {
      const target = store.collection(caller.accountId, caller.mode, filter.resource).get(value as string);
      if (!target) throw errors.resourceMissing(resourceSpec(filter.resource).label, value as string, name);
      const problem = filter.check?.(target.object);
      if (problem) throw apiError(400, { param: name, message: problem });
    }
  }
  if (spec.defaultVisible && !params.has("status")) {
    const visible = spec.defaultVisible;
    predicates.push((r) => visible(r.object));
  }
  if (spec.retentionSeconds) {
    const since = Math.floor(now / 1000) - spec.retentionSeconds;
    predicates.push((r) => r.object.created >= since);
  }
  const matches = (record: StoredRecord) => predicates.every((predicate) => predicate(record));

  const collection = store.collection(caller.accountId, caller.mode, spec.name);
  const items = collection.items;
  const startingAfter = stringParam(params, "starting_after");
  const endingBefore = stringParam(params, "ending_before");
  if (startingAfter !== undefined && endingBefore !== undefined)
    throw apiError(400, {
      message: "You may only specify one of these parameters: ending_before, starting_after.",
      param: "ending_before",
    });
  const cursor = startingAfter ?? endingBefore;
  const cursorParam = startingAfter !== undefined ? "starting_after" : "ending_before";
  const cursorPosition = cursor === undefined ? undefined : collection.position(cursor);
  if (cursor !== undefined && (cursorPosition === undefined || !inScope(items[cursorPosition]!)))
    throw errors.resourceMissing(spec.label, cursor, cursorParam);

  const page: StoredRecord[] = [];
  if (endingBefore !== undefined) {
    // The `limit` objects just newer than the cursor, still served newest first.
    for (let i = (cursorPosition as number) + 1; i < items.length && page.length <= limit; i++) {
      const record = items[i] as StoredRecord;
      if (matches(record)) page.push(record);
    }
    const hasMore = page.length > limit;
    const data = page.slice(0, limit).reverse();
    return envelope(listUrl(context), data, hasMore, (r) =>
      expandObject(store, caller, spec, r, expand, now),
    );
  }
  const from = cursorPosition === undefined ? items.length - 1 : cursorPosition - 1;
  for (let i = from; i >= 0 && page.length <= limit; i--) {
    const record = items[i] as StoredRecord;
    if (matches(record)) page.push(record);
  }
  const hasMore = page.length > limit;
  return envelope(listUrl(context), page.slice(0, limit), hasMore, (r) =>
    expandObject(store, caller, spec, r, expand, now),
  );
}

function envelope(
  url: string,
  records: StoredRecord[],
  hasMore: boolean,
  render: (record: StoredRecord) => StripeObject,
) {
  return {
    object: "list",
    data: records.map(render),
    has_more: hasMore,
    url,
  };
}

function expandParam(params: Params): string[] {
  const value = params.get("expand");
  if (value === undefined) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value;
  throw errors.invalidParameter("expand", "Invalid array");
}

/** GET /v1/<resource>/:id for the caller's account and mode. */
export function retrieveObject(context: ListContext, id: string): StripeObject {
  const { store, caller, spec, params, now } = context;
  for (const name of params.keys()) if (name !== "expand") throw errors.unknownParameter(name);
  const expand = validateExpand(spec, expandParam(params), false);
  const inScope = parentScope(context, spec.parent?.field ?? "id");
  const record = store.collection(caller.accountId, caller.mode, spec.name).get(id);
  const since = spec.retentionSeconds ? Math.floor(now / 1000) - spec.retentionSeconds : 0;
  if (!record || record.object.created < since || !inScope(record))
    throw errors.resourceMissing(spec.label, id);
  return expandObject(store, caller, spec, record, expand, now);
}
