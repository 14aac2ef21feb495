// NODE_ENV=production: no introspection (unless GRAPHQL_INTROSPECTION=true), no "Did you mean" hints, no
// GraphiQL, and unexpected errors masked — against the same gateway outside production, which has them all.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { attachWebSocket, type WebSocketEndpoint } from "../../src/http/websocket.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { CreateOrg } from "../helpers/documents.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: object }[] };

async function post(gateway: TestGateway, apiKey: string, query: string, variables?: object) {
  const response = await gateway.app.fetch(
    new Request("http://gateway.test/graphql", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
      body: JSON.stringify({ query, variables }),
    }),
  );
  const text = await response.text();
  return { status: response.status, text, body: JSON.parse(text) as Body };
}

const INTROSPECTION = "{ __schema { queryType { name } } }";
const TYPE_QUERY = '{ __type(name: "StripePayout") { fields { name } } }';
/** Each one makes graphql-js suggest a name: a field, an argument, an enum literal, an enum variable. */
const MISSPELLED: [string, object?][] = [
  ["{ viewer { nam } }"],
  ["{ stripeConnections(frist: 1) { edges { node { id } } } }"],
  ["{ stripeConnections(status: [REDY]) { edges { node { id } } } }"],
  [
    "query($status: [StripeConnectionStatus!]) { stripeConnections(status: $status) { edges { node { id } } } }",
    { status: ["REDY"] },
  ],
];

/** A gateway whose next statement on StripeConnection fails as a lost database would, with its details. */
async function startFailingGateway(target: (typeof databaseTargets)[number], env: Record<string, string>) {
  let failing = false;
  const gateway = await startTestGateway(target, env, {
    beforeStatement: (sql) => {
      if (failing && sql.includes('"StripeConnection"')) {
        throw new Error("connect ECONNREFUSED db.internal:5432");
      }
    },
  });
  const created = await gateway.gql(CreateOrg, { name: `Mode ${env.NODE_ENV}` }, ADMIN_KEY);
  if (created.data?.createOrg.__typename !== "CreateOrgSuccess") throw new Error(JSON.stringify(created));
  return { gateway, apiKey: created.data.createOrg.apiKey, fail: () => (failing = true) };
}

describe.each(databaseTargets)("production mode on $name", (target) => {
  let production: Awaited<ReturnType<typeof startFailingGateway>>;
  let development: Awaited<ReturnType<typeof startFailingGateway>>;

  beforeAll(async () => {
    production = await startFailingGateway(target, { NODE_ENV: "production" });
    development = await startFailingGateway(target, { NODE_ENV: "development" });
  });
  afterAll(async () => {
    await production?.gateway.close();
    await development?.gateway.close();
  });

  it("refuses introspection in production, and answers it elsewhere", async () => {
    for (const query of [INTROSPECTION, TYPE_QUERY]) {
      const refused = await post(production.gateway, production.apiKey, query);
      expect(refused.status).toBe(400);
      expect(refused.body.data ?? null).toBeNull();
      // one error per introspection field asked for
      expect(refused.body.errors?.length).toBeGreaterThan(0);
      for (const error of refused.body.errors ?? []) {
        expect(error).toMatchObject({
          message: expect.stringMatching(/^GraphQL introspection has been disabled/),
          extensions: { code: "GRAPHQL_VALIDATION_FAILED" },
        });
      }
      const answered = await post(development.gateway, development.apiKey, query);
      expect(answered.body.errors).toBeUndefined();
    }
    const typename = await post(
      production.gateway,
      production.apiKey,
      "{ __typename viewer { __typename } }",
    );
    expect(typename.body).toEqual({ data: { __typename: "Query", viewer: { __typename: "Org" } } });
  });

  it("answers introspection in production with GRAPHQL_INTROSPECTION=true", async () => {
    const gateway = await startTestGateway(target, { NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" });
    try {
      const created = await gateway.gql(CreateOrg, { name: "Introspecting" }, ADMIN_KEY);
      if (created.data?.createOrg.__typename !== "CreateOrgSuccess") throw new Error(JSON.stringify(created));
      const answered = await post(gateway, created.data.createOrg.apiKey, INTROSPECTION);
      expect(answered.body).toEqual({ data: { __schema: { queryType: { name: "Query" } } } });
    } finally {
      await gateway.close();
    }
  });

  it("refuses introspection over WebSocket too", async () => {
    const server = await new Promise<Server>((resolve) => {
      const started = serve({ fetch: production.gateway.app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
        resolve(started as Server),
      ) as Server;
    });
    const websocket: WebSocketEndpoint = attachWebSocket(
      server,
      production.gateway.app.graphql,
      production.gateway.deps,
    );
    const client = createClient({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: { authorization: `Bearer ${production.apiKey}` },
    });
    try {
      const outcome = await new Promise<unknown>((resolve) => {
        client.subscribe(
          { query: INTROSPECTION },
          { next: (result) => resolve(result), error: resolve, complete: () => resolve("completed") },
        );
      });
      expect(outcome).toContainEqual(
        expect.objectContaining({
          message: expect.stringMatching(/^GraphQL introspection has been disabled/),
        }),
      );
    } finally {
      await client.dispose();
      await websocket.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("drops graphql-js's suggestions in production, from validation and from variables", async () => {
    for (const [query, variables] of MISSPELLED) {
      const hidden = await post(production.gateway, production.apiKey, query, variables);
      expect(hidden.body.errors?.length).toBeGreaterThan(0);
      expect(hidden.text).not.toMatch(/did you mean/i);
      const suggested = await post(development.gateway, development.apiKey, query, variables);
      expect(suggested.text).toMatch(/Did you mean/);
      // Only the hint goes: the message is otherwise the same.
      expect(hidden.body.errors![0]!.message).toBe(
        suggested.body.errors![0]!.message.replace(/ Did you mean .*\?$/, ""),
      );
    }
  });

  it("serves no GraphiQL in production", async () => {
    const page = (gateway: TestGateway) =>
      gateway.app.fetch(new Request("http://gateway.test/graphql", { headers: { accept: "text/html" } }));
    const none = await page(production.gateway);
    expect(none.headers.get("content-type") ?? "").not.toMatch(/text\/html/);
    expect(await none.text()).not.toMatch(/graphiql/i);
    const graphiql = await page(development.gateway);
    expect(graphiql.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await graphiql.text()).toMatch(/graphiql/i);
  });

  it("masks unexpected errors: no internal message, no stack, only the request id to look them up by", async () => {
    production.fail();
    const reply = await post(
      production.gateway,
      production.apiKey,
      "{ stripeConnections(first: 1) { edges { node { id } } } }",
    );
    expect(reply.body.errors).toEqual([
      {
        message: "Unexpected error.",
        locations: expect.any(Array),
        path: ["stripeConnections"],
        extensions: { code: "INTERNAL_SERVER_ERROR" },
      },
    ]);
    expect(reply.text).not.toMatch(/db\.internal|ECONNREFUSED|stack|\.ts:\d+/);
    // The operator finds it in the log, with the request id.
    expect(production.gateway.logs()).toContain("ECONNREFUSED db.internal:5432");
  });
});
