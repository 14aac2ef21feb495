// What the emulator holds for an account, listed the way the gateway's backfill lists it (every page of
// every list resource, and per-parent lists under their parents): the ids a finished backfill must store.
import { RESOURCES, type ResourceSpec } from "../../src/stripe/resources.ts";

type Page = { data: { id: string; amount_refunded?: number }[]; has_more: boolean };

async function listAll(
  base: string,
  secretKey: string,
  account: string,
  path: string,
  params: Record<string, string> = {},
) {
  const objects: Page["data"] = [];
  for (;;) {
    const query = new URLSearchParams({ limit: "100", ...params });
    const last = objects.at(-1);
    if (last) query.set("starting_after", last.id);
    const response = await fetch(`${base}${path}?${query}`, {
      headers: { authorization: `Bearer ${secretKey}`, "stripe-account": account },
    });
    if (!response.ok) throw new Error(`emulator ${path}: ${response.status} ${await response.text()}`);
    const page = (await response.json()) as Page;
    objects.push(...page.data);
    if (!page.has_more || page.data.length === 0) return objects;
  }
}

/** Stripe ids per resource key (resources with their own table only). */
export async function emulatorObjects(
  base: string,
  secretKey: string,
  account: string,
): Promise<Map<string, Set<string>>> {
  const result = new Map<string, Set<string>>();
  const specs = RESOURCES as readonly ResourceSpec[];
  const listed = new Map<string, Page["data"]>();
  for (const spec of specs) {
    if (!spec.list) continue;
    const objects = await listAll(base, secretKey, account, spec.list.path, spec.list.params);
    listed.set(spec.key, objects);
    result.set(spec.key, new Set(objects.map((object) => object.id)));
  }
  for (const spec of specs) {
    if (spec.list || !spec.perParent) continue;
    const ids = new Set<string>();
    // Parents that can have any: a fee with nothing refunded has no refunds.
    const parents = (listed.get(spec.perParent.parent) ?? []).filter(
      (parent) => parent.amount_refunded !== 0,
    );
    for (const parent of parents) {
      const children = await listAll(
        base,
        secretKey,
        account,
        spec.perParent.path(parent.id),
        spec.perParent.params?.(parent.id),
      );
      for (const child of children) ids.add(child.id);
    }
    result.set(spec.key, ids);
  }
  return result;
}

/** The table of a resource's Prisma model (`stripePayout` → "StripePayout"). */
export const tableOf = (spec: ResourceSpec) => `${spec.model[0]!.toUpperCase()}${spec.model.slice(1)}`;
