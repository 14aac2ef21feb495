import type { DashboardViewerQuery, StripeConfigFieldsFragment } from "./graphql/graphql.ts";

export type Viewer = DashboardViewerQuery["viewer"];
export type StripeConfig = StripeConfigFieldsFragment;

/** Field errors by field name: ValidationError paths are ["input", "<field>"]. */
export function errorsByField(fieldErrors: readonly { path: readonly string[]; message: string }[]) {
  const byField: Record<string, string> = {};
  for (const { path, message } of fieldErrors) {
    const field = path[path.length - 1] ?? "";
    byField[field] = byField[field] ? `${byField[field]}; ${message}` : message;
  }
  return byField;
}
