// The credentials the schema offers beyond the org's first API key, minted when the schema has them:
// browser access tokens (createAccessToken) and more API keys (createApiKey). Each is a secret of the run.

import { readFile } from "node:fs/promises";
import { buildSchema, type GraphQLSchema } from "graphql";
import { ROOT } from "./gateway-process.ts";
import type { Http } from "./http.ts";
import type { SecretRegistry } from "./secrets.ts";
import { gqlOk, type OrgWorld } from "./setup.ts";

/** The gateway's schema from its source (what the gateway under test serves); the printed one if that fails. */
export async function loadSchema(): Promise<{ schema: GraphQLSchema; source: string }> {
  try {
    const { schema } = await import("../../src/graphql/schema.ts");
    return { schema, source: "src/graphql/schema.ts" };
  } catch (error) {
    console.error(`src/graphql/schema.ts did not load (${String(error)}); using schema/schema.graphql`);
    return {
      schema: buildSchema(await readFile(`${ROOT}/schema/schema.graphql`, "utf8")),
      source: "schema/schema.graphql",
    };
  }
}

const hasMutation = (schema: GraphQLSchema, name: string) =>
  Boolean(schema.getMutationType()?.getFields()[name]);

export async function mintBrowserToken(
  http: Http,
  gateway: string,
  schema: GraphQLSchema,
  org: OrgWorld,
  secrets: SecretRegistry,
) {
  if (!hasMutation(schema, "createAccessToken")) return null;
  const minted = await gqlOk<{ createAccessToken: { __typename: string; token?: string } }>(
    http,
    gateway,
    org.apiKey,
    "mutation($input: CreateAccessTokenInput!) { createAccessToken(input: $input) { __typename ... on CreateAccessTokenSuccess { token } } }",
    { input: { connectionIds: [org.connectionId] } },
  );
  const token = minted.createAccessToken.token;
  if (!token) throw new Error(`createAccessToken answered ${minted.createAccessToken.__typename}`);
  secrets.add("browser access token", `org ${org.name}`, token, minted.record);
  return token;
}

export async function mintApiKey(
  http: Http,
  gateway: string,
  schema: GraphQLSchema,
  org: OrgWorld,
  secrets: SecretRegistry,
) {
  if (!hasMutation(schema, "createApiKey")) return null;
  const minted = await gqlOk<{ createApiKey: { __typename: string; apiKey?: string } }>(
    http,
    gateway,
    org.apiKey,
    "mutation($input: CreateApiKeyInput!) { createApiKey(input: $input) { __typename ... on CreateApiKeySuccess { apiKey } } }",
    { input: { name: "reliability second key" } },
  );
  const key = minted.createApiKey.apiKey;
  if (!key) throw new Error(`createApiKey answered ${minted.createApiKey.__typename}`);
  secrets.add("API key", `org ${org.name} (createApiKey)`, key, minted.record);
  return key;
}
