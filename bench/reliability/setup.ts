// An org as a user sets it up, over HTTP: createOrg with the admin key, setStripeConfig with the emulator
// platform's keys and a webhook signing secret, startStripeConnection, the emulator's OAuth approval, the
// browser landing on the gateway's redirect route; then, optionally, its first sync to READY.
import { decodeGlobalID } from "@pothos/plugin-relay";
import type { Http } from "./http.ts";
import { until } from "./phases.ts";
import type { SecretRegistry } from "./secrets.ts";
import type { EmulatorInfo } from "./servers/emulator.ts";

export type OrgWorld = {
  name: string;
  orgId: string;
  apiKey: string;
  signingSecret: string;
  webhookPath: string;
  /** GraphQL id of its connection, and the connection's row id */
  connectionId: string;
  connectionRowId: string;
  account: string;
};

/** POST /graphql; throws unless the answer is 200 without errors. */
export async function gqlOk<T>(
  http: Http,
  base: string,
  token: string,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T & { record: number }> {
  const answer = await http.graphql(base, token, { query, variables });
  if (answer.status !== 200 || !answer.json?.data || answer.json.errors)
    throw new Error(`${query.slice(0, 60)}…: ${answer.status} ${answer.body.slice(0, 300)}`);
  return { ...(answer.json.data as T), record: answer.record };
}

export async function setUpOrg(
  http: Http,
  gateway: string,
  emulator: EmulatorInfo,
  secrets: SecretRegistry,
  options: { name: string; adminKey: string; signingSecret: string; account: string; waitReady: boolean },
): Promise<OrgWorld> {
  const created = await gqlOk<{ createOrg: { apiKey: string; org: { webhookUrl: string } } }>(
    http,
    gateway,
    options.adminKey,
    "mutation($name: String!) { createOrg(input: { name: $name }) { __typename ... on CreateOrgSuccess { apiKey org { webhookUrl } } } }",
    { name: options.name },
  );
  const apiKey = created.createOrg.apiKey;
  secrets.add("API key", `org ${options.name}`, apiKey, created.record);
  secrets.add("webhook signing secret", `org ${options.name}`, options.signingSecret);
  await gqlOk(
    http,
    gateway,
    apiKey,
    "mutation($input: SetStripeConfigInput!) { setStripeConfig(input: $input) { __typename } }",
    {
      input: {
        clientId: emulator.clientId,
        secretKey: emulator.secretKey,
        webhookSigningSecret: options.signingSecret,
      },
    },
  );
  await fetch(`${emulator.url}/_emulator/oauth`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ decision: "approve", next_account: options.account }),
  });
  const started = await gqlOk<{
    startStripeConnection: { authorizationUrl: string; connection: { id: string } };
  }>(
    http,
    gateway,
    apiKey,
    "mutation { startStripeConnection { __typename ... on StartStripeConnectionSuccess { authorizationUrl connection { id } } } }",
  );
  const { authorizationUrl, connection } = started.startStripeConnection;
  const state = new URL(authorizationUrl).searchParams.get("state");
  if (state) secrets.add("OAuth state", `org ${options.name}`, state, started.record);
  // The merchant approves at "Stripe", whose redirect lands on the gateway (PUBLIC_URL has no port).
  const atStripe = await fetch(authorizationUrl, { redirect: "manual" });
  const callback = new URL(atStripe.headers.get("location") ?? "");
  const landed = await http.request(`${gateway}${callback.pathname}${callback.search}`);
  if (landed.status >= 400)
    throw new Error(`OAuth callback answered ${landed.status}: ${landed.body.slice(0, 200)}`);
  const world: OrgWorld = {
    name: options.name,
    orgId: callbackOrgId(created.createOrg.org.webhookUrl),
    apiKey,
    signingSecret: options.signingSecret,
    webhookPath: new URL(created.createOrg.org.webhookUrl).pathname,
    connectionId: connection.id,
    connectionRowId: decodeGlobalID(connection.id).id,
    account: options.account,
  };
  if (options.waitReady) await waitForStatus(http, gateway, world, "READY", 180_000);
  return world;
}

const callbackOrgId = (webhookUrl: string) => new URL(webhookUrl).pathname.split("/").pop() ?? "";

export async function connectionStatus(http: Http, gateway: string, world: OrgWorld): Promise<string> {
  const data = await gqlOk<{ stripeConnection: { status: string } | null }>(
    http,
    gateway,
    world.apiKey,
    "query($id: ID!) { stripeConnection(id: $id) { status } }",
    { id: world.connectionId },
  );
  return data.stripeConnection?.status ?? "missing";
}

export function waitForStatus(
  http: Http,
  gateway: string,
  world: OrgWorld,
  status: string,
  timeoutMs: number,
) {
  return until(
    `connection of ${world.name} ${status}`,
    async () => ((await connectionStatus(http, gateway, world)) === status ? true : undefined),
    timeoutMs,
    250,
  );
}
