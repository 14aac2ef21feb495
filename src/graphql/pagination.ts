import { badInput } from "./errors.ts";

export const MAX_PAGE_SIZE = 100;
export const DEFAULT_PAGE_SIZE = 20;

/** Relay paging arguments are checked before any query runs. */
export function assertPageArgs(args: { first?: number | null; last?: number | null }): void {
  for (const name of ["first", "last"] as const) {
    const value = args[name];
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw badInput(`\`${name}\` must be between 0 and ${MAX_PAGE_SIZE}, got ${value}.`);
    }
  }
}
