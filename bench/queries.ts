// Query paths over HTTP with an API key: `{ viewer { id } }`, and one connection's payouts page of 6
// fields (first 10 and first 100). The payouts documents differ on every request — a `created` bound one
// millisecond further each time — so a response cache could not answer them.
import type { Load } from "./measure.ts";
import type { GatewayInfo } from "./servers/gateway.ts";

export const PAYOUT_FIELDS = "stripeId amount currency status arrivalDate created";

const payoutsQuery = (first: number) =>
  `query Payouts($id: ID!, $created: DateTimeRange) { stripeConnection(id: $id) { payouts(first: ${first}, created: $created) { edges { node { ${PAYOUT_FIELDS} } } } } }`;

let bound = Date.now() + 86_400_000;
/** A body that no request before it sent: every stored payout is older than the bound. */
const payoutsBody = (gateway: GatewayInfo, first: number) => () => ({
  body: JSON.stringify({
    query: payoutsQuery(first),
    variables: { id: gateway.connectionId, created: { lte: new Date(bound++).toISOString() } },
  }),
});

/** Checks the page once (status, no errors, `first` rows) before it is measured. */
async function checkPayouts(gateway: GatewayInfo, first: number) {
  const response = await fetch(`${gateway.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${gateway.apiKey}` },
    body: payoutsBody(gateway, first)().body,
  });
  const result = (await response.json()) as {
    data?: { stripeConnection: { payouts: { edges: unknown[] } } };
    errors?: unknown;
  };
  const rows = result.data?.stripeConnection.payouts.edges.length;
  if (!response.ok || result.errors || rows !== first)
    throw new Error(
      `payouts(first: ${first}) answered ${response.status}, ${rows} rows: ${JSON.stringify(result.errors)}`,
    );
}

export type QueryLoads = { viewer: Load; first10: Load; first100: Load };

export async function queryLoads(gateway: GatewayInfo): Promise<QueryLoads> {
  const url = `${gateway.url}/graphql`;
  const headers = { authorization: `Bearer ${gateway.apiKey}` };
  await checkPayouts(gateway, 10);
  await checkPayouts(gateway, 100);
  return {
    viewer: { url, headers, body: JSON.stringify({ query: "{ viewer { id } }" }) },
    first10: { url, headers, body: payoutsBody(gateway, 10) },
    first100: { url, headers, body: payoutsBody(gateway, 100) },
  };
}
