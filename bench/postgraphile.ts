// The same 100-payout page (6 columns, one connection's, newest first) from PostGraphile 4 over the
// gateway's own tables, filled by the gateway (a scratch database, or the embedded cluster over its socket). Its document is the same every request:
// PostGraphile has no response cache to skip.
import { startChild } from "./child.ts";
import type { Load } from "./measure.ts";
import { PAYOUT_FIELDS } from "./queries.ts";
import type { GatewayInfo } from "./servers/gateway.ts";

export const POSTGRAPHILE_QUERY = `query Payouts($connectionId: String!) { allStripePayouts(first: 100, condition: { connectionId: $connectionId }, orderBy: [CREATED_DESC, ID_DESC]) { edges { node { ${PAYOUT_FIELDS} } } } }`;

/** PostGraphile in its own process, checked once (100 rows, no errors): its load. */
export async function startPostGraphile(
  gateway: GatewayInfo,
  databaseUrl: string,
): Promise<{ load: Load; stop(): Promise<void> }> {
  const server = await startChild<{ url: string }>("postgraphile.ts", { BENCH_DATABASE_URL: databaseUrl });
  const url = `${server.info.url}/graphql`;
  const body = JSON.stringify({
    query: POSTGRAPHILE_QUERY,
    variables: { connectionId: gateway.connectionRowId },
  });
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  const result = (await response.json()) as {
    data?: { allStripePayouts: { edges: unknown[] } };
    errors?: unknown;
  };
  if (!response.ok || result.errors || result.data?.allStripePayouts.edges.length !== 100) {
    await server.stop();
    throw new Error(`PostGraphile answered ${response.status}: ${JSON.stringify(result).slice(0, 300)}`);
  }
  return { load: { url, body }, stop: () => server.stop() };
}
