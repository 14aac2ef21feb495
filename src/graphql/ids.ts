// One id a user can paste anywhere: an ID argument naming an org or a connection takes its global id
// (what GraphQL hands out) or the plain `org_…` / `conn_…` id (what the CLI, the redirect and webhook URLs
// and plainId show). The builder decodes every globalID argument, node and nodes with decodeAnyId.
import { decodeGlobalID } from "@pothos/plugin-relay";

/**
 * Plain ids by their prefix. A global id is base64 of "<Typename>:<id>" and so never starts with a
 * lowercase prefix and an underscore; synced objects' row ids hold a colon and are not plain ids.
 */
const PLAIN_IDS: readonly (readonly [RegExp, string])[] = [
  [/^org_[A-Za-z0-9]+$/, "Org"],
  [/^conn_[A-Za-z0-9]+$/, "StripeConnection"],
];

/** The type and row id an ID argument names; throws (Pothos' validation error) for a malformed one. */
export function decodeAnyId(value: string): { typename: string; id: string } {
  const trimmed = value.trim();
  for (const [pattern, typename] of PLAIN_IDS) if (pattern.test(trimmed)) return { typename, id: trimmed };
  return decodeGlobalID(trimmed);
}

/** The row id an ID argument names when it is a `typename`, else "" (which finds nothing). */
export const rowIdOrNone = (value: string | number, typename: string) =>
  rowIdOf(String(value), typename) ?? "";

/** The row id behind an ID argument when it names a `typename`, else null (another type, or malformed). */
export function rowIdOf(value: string, typename: string): string | null {
  try {
    const decoded = decodeAnyId(value);
    return decoded.typename === typename ? decoded.id : null;
  } catch {
    return null;
  }
}
