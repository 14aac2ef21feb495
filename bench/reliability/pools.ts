// The ids the GraphQL fuzzing draws from: real global ids of the fuzzed org's objects, of other orgs'
// objects (which must answer as if they did not exist), and the row ids inside them (for type confusion).
import { decodeGlobalID } from "@pothos/plugin-relay";
import type { IdPools } from "./graphql/arbitraries.ts";
import type { Http } from "./http.ts";
import { gqlOk, type OrgWorld } from "./setup.ts";

const IDS = `query($id: ID!) {
  viewer { id }
  stripeConnection(id: $id) {
    id
    payouts(first: 5) { edges { node { id balanceTransactions(first: 2) { edges { node { id } } } } } }
    charges(first: 5) { edges { node { id refunds(first: 2) { edges { node { id } } } } } }
    disputes(first: 2) { edges { node { id } } }
    customers(first: 2) { edges { node { id } } }
    events(first: 3) { edges { node { id } } }
  }
}`;

async function idsOf(http: Http, gateway: string, world: OrgWorld): Promise<string[]> {
  const data = await gqlOk<Record<string, unknown>>(http, gateway, world.apiKey, IDS, {
    id: world.connectionId,
  });
  const ids: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object")
      for (const [key, inner] of Object.entries(value)) {
        if (key === "id" && typeof inner === "string") ids.push(inner);
        else walk(inner);
      }
  };
  walk(data);
  return ids;
}

export async function fuzzPools(
  http: Http,
  gateway: string,
  fuzzed: OrgWorld,
  others: OrgWorld[],
): Promise<IdPools> {
  const own = await idsOf(http, gateway, fuzzed);
  const foreign = (await Promise.all(others.map((world) => idsOf(http, gateway, world)))).flat();
  const rows = [...own, ...foreign].slice(0, 30).map((id) => {
    try {
      return decodeGlobalID(id).id;
    } catch {
      return id;
    }
  });
  return { own, foreign, rows };
}
