// Typed columns of the registry: where each value is in a Stripe object, and what kind of value it is
// (which also decides its GraphQL type).
import type { StripeObject } from "./stripe-object.ts";

/**
 * amount: an integer in the currency's smallest unit (BigInt; SafeInt in GraphQL). text/flag/date: always
 * present ("" / false / the epoch when Stripe leaves it out); the optional kinds are null instead.
 */
export type ColumnKind =
  | "amount"
  | "text"
  | "optionalText"
  | "flag"
  | "optionalFlag"
  | "date"
  | "optionalDate";

export type Column = {
  kind: ColumnKind;
  /** Reads the value from the raw object; null for a link column, which the per-parent list writes. */
  read: ((object: StripeObject) => unknown) | null;
  description?: string;
};

const str = (value: unknown): string | null => (typeof value === "string" ? value : null);

/** Expandable fields hold an id or the expanded object. */
export const idOf = (value: unknown): string | null =>
  typeof value === "string"
    ? value
    : value && typeof value === "object"
      ? str((value as StripeObject).id)
      : null;

export const unixToDate = (value: unknown): Date => new Date((typeof value === "number" ? value : 0) * 1000);

/** A field by dotted path: `payment_method_details.type`. */
function at(object: StripeObject, path: string): unknown {
  let value: unknown = object;
  for (const key of path.split(".")) {
    value = value && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

const first = (object: StripeObject, paths: readonly string[]) =>
  paths.map((path) => str(at(object, path))).find((value) => value !== null) ?? null;

export const column = {
  amount: (path: string): Column => ({
    kind: "amount",
    read: (o) => {
      const value = at(o, path);
      return BigInt(typeof value === "number" && Number.isFinite(value) ? Math.trunc(value) : 0);
    },
  }),
  text: (path: string): Column => ({ kind: "text", read: (o) => str(at(o, path)) ?? "" }),
  /** The first of the paths that holds a string. */
  optionalText: (...paths: string[]): Column => ({ kind: "optionalText", read: (o) => first(o, paths) }),
  /** An expandable field's id. */
  id: (path: string): Column => ({ kind: "optionalText", read: (o) => idOf(at(o, path)) }),
  flag: (path: string, description?: string): Column => ({
    kind: "flag",
    read: (o) => at(o, path) === true,
    ...(description ? { description } : {}),
  }),
  optionalFlag: (path: string): Column => ({
    kind: "optionalFlag",
    read: (o) => {
      const value = at(o, path);
      return typeof value === "boolean" ? value : null;
    },
  }),
  date: (path: string): Column => ({ kind: "date", read: (o) => unixToDate(at(o, path)) }),
  optionalDate: (path: string): Column => ({
    kind: "optionalDate",
    read: (o) => {
      const value = at(o, path);
      return typeof value === "number" && value > 0 ? unixToDate(value) : null;
    },
  }),
  /** An id Stripe keeps off the object, written by the resource's per-parent list. */
  link: (description: string): Column => ({ kind: "optionalText", read: null, description }),
};

/** The typed columns of one object (link columns excluded: only the per-parent list writes them). */
export function readColumns(columns: Record<string, Column>, object: StripeObject): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(columns)) if (spec.read) row[name] = spec.read(object);
  return row;
}
