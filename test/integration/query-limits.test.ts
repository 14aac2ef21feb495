// Limits checked before execution: each at its boundary (passes at the limit, refused one past it), with the
// defaults and with limits set by the environment; a refusal is a 400 with GRAPHQL_VALIDATION_FAILED that
// names the limit, and sends no SQL statement. The gateways keep no cached credential (cacheMaxAgeMs 0),
// so any request that got as far as authentication would send one.
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createClient } from "graphql-ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { attachWebSocket, type WebSocketEndpoint } from "../../src/http/websocket.ts";
import { type ConnectWorld, connectedOrg, startConnectWorld } from "../helpers/connect.ts";
import { databaseTargets } from "../helpers/databases.ts";
import { CreateOrg } from "../helpers/documents.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "../helpers/gateway.ts";

type Reply = {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; extensions?: Record<string, unknown> }[];
  };
  /** The SQL statements sent while the request was served */
  statements: string[];
};

/** POSTs a body to /graphql and counts the SQL statements sent meanwhile. */
async function post(gateway: TestGateway, body: string, apiKey: string): Promise<Reply> {
  const statements: string[] = [];
  const stop = gateway.deps.db.onQuery((sql) => statements.push(sql));
  try {
    const response = await gateway.app.fetch(
      new Request("http://gateway.test/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
        body,
      }),
    );
    return { status: response.status, body: (await response.json()) as Reply["body"], statements };
  } finally {
    stop();
  }
}

const request = (gateway: TestGateway, apiKey: string, query: string, variables?: Record<string, unknown>) =>
  post(gateway, JSON.stringify({ query, variables }), apiKey);

function expectAnswered(reply: Reply) {
  expect(reply.body.errors, JSON.stringify(reply.body.errors)).toBeUndefined();
  expect(reply.status).toBe(200);
}

function expectRefused(reply: Reply, message: RegExp) {
  expect(reply.status).toBe(400);
  expect(reply.body.data ?? null).toBeNull();
  expect(reply.body.errors).toHaveLength(1);
  expect(reply.body.errors![0]).toMatchObject({ extensions: { code: "GRAPHQL_VALIDATION_FAILED" } });
  expect(reply.body.errors![0]!.message).toMatch(message);
  expect(reply.statements).toEqual([]);
}

// Documents of an exact size, made of fields every org can read.
/** `n` tokens: 18 of the document and a list of n - 18 enum values. */
const ofTokens = (n: number) =>
  `{ stripeConnections(status: [${Array(n - 18)
    .fill("READY")
    .join(" ")}]) { edges { node { id } } } }`;
const ofAliases = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: viewer { id }`).join(" ")} }`;
const ofDirectives = (n: number) => `{ viewer { ${Array(n).fill("id @include(if: true)").join(" ")} } }`;
/** The path to the deepest field this schema has (10): connections → payouts → balance transactions. */
const DEEPEST = [
  "stripeConnections(first: 1)",
  "edges",
  "node",
  "payouts(first: 1)",
  "edges",
  "node",
  "balanceTransactions(first: 1)",
  "edges",
  "node",
];
/** A document whose deepest field (`__typename`) is at level `n`. */
const ofDepth = (n: number) =>
  DEEPEST.slice(0, n - 1).reduceRight((inner, field) => `${field} { ${inner} }`, "__typename");
/** Costs 1 + n: the list and one object per item; `first` comes from a variable. */
const CONNECTIONS = "query Connections($n: Int) { stripeConnections(first: $n) { edges { node { id } } } }";

describe.each(databaseTargets)("query limits on $name", (target) => {
  describe("with the default limits", () => {
    let world: ConnectWorld;
    let apiKey: string;
    let connectionId: string;
    let orgId: string;
    const gateway = () => world.gateway;

    beforeAll(async () => {
      world = await startConnectWorld(target, { size: "tiny", accounts: 1, cacheMaxAgeMs: 0 });
      ({
        apiKey,
        org: { id: orgId },
        connection: { id: connectionId },
      } = await connectedOrg(world, { name: "Limits" }));
    }, 60_000);
    afterAll(() => world?.close());

    it("authenticates after validating: an accepted request reads the credential, a refused one sends nothing", async () => {
      const accepted = await request(gateway(), apiKey, ofAliases(1));
      expectAnswered(accepted);
      expect(accepted.statements.length).toBeGreaterThan(0);
      expectRefused(await request(gateway(), apiKey, ofAliases(21)), /aliases/i);
    });

    it("counts tokens up to 1000", async () => {
      expectAnswered(await request(gateway(), apiKey, ofTokens(1000)));
      expectRefused(
        await request(gateway(), apiKey, ofTokens(1001)),
        /^Token limit of 1000 exceeded \(GRAPHQL_MAX_TOKENS\)\.$/,
      );
    });

    it("counts aliases up to 20, and refuses 5,000 of them without running one", async () => {
      expectAnswered(await request(gateway(), apiKey, ofAliases(20)));
      expectRefused(
        await request(gateway(), apiKey, ofAliases(21)),
        /^Aliases limit of 20 exceeded, found 21 \(GRAPHQL_MAX_ALIASES\)\.$/,
      );
      // The 5,000 aliases are over the body limit; 2,000 are over the token limit, where the
      // parser stops.
      const fiveThousand = await request(gateway(), apiKey, ofAliases(5000));
      expect(fiveThousand.status).toBe(413);
      expect(fiveThousand.statements).toEqual([]);
      expectRefused(await request(gateway(), apiKey, ofAliases(2000)), /GRAPHQL_MAX_TOKENS/);
    });

    it("counts directives up to 50", async () => {
      expectAnswered(await request(gateway(), apiKey, ofDirectives(50)));
      expectRefused(
        await request(gateway(), apiKey, ofDirectives(51)),
        /^Directives limit of 50 exceeded, found 51 \(GRAPHQL_MAX_DIRECTIVES\)\.$/,
      );
    });

    it("lets the deepest query the schema has (10 levels) through the depth limit of 12", async () => {
      expectAnswered(await request(gateway(), apiKey, `{ ${ofDepth(10)} }`));
    });

    /** 2 × (1 + 100 × (1 + 1 + 100)) + (1 + 45 × (1 + 1 + 100)) = 24,993 */
    const lists = (first: number) =>
      `stripeConnections(first: ${first}) { edges { node { payouts(first: 100) { edges { node { id } } } } } }`;
    const COST_24_993 = `a: ${lists(100)} b: ${lists(100)} c: ${lists(45)}`;

    it("counts cost up to 25,000, `first` from variables included", async () => {
      // and 1 + n for `rest`
      const query = `query Cost($n: Int) { ${COST_24_993} rest: stripeConnections(first: $n) { edges { node { id } } } }`;
      expectAnswered(await request(gateway(), apiKey, query, { n: 6 }));
      expectRefused(
        await request(gateway(), apiKey, query, { n: 7 }),
        /^Query cost 25,001 exceeds the limit of 25,000 \(GRAPHQL_MAX_COST\)/,
      );
      // The same document again: a refusal is never cached with the document, nor is an acceptance.
      expectAnswered(await request(gateway(), apiKey, query, { n: 6 }));
      expectRefused(await request(gateway(), apiKey, query, { n: 7 }), /Query cost 25,001/);
    });

    it("passes a dashboard page: a connection, 100 payouts with 10 balance transactions each, and more lists", async () => {
      const reply = await request(
        gateway(),
        apiKey,
        `query Dashboard($id: ID!) {
          stripeConnection(id: $id) {
            status lastSyncedAt
            account { businessName country defaultCurrency payoutsEnabled }
            balance { available { amount currency } pending { amount currency } }
            syncStates { resource status objectsSynced }
            payouts(first: 100) {
              edges { node {
                id stripeId amount currency status arrivalDate reconciliationStatus created
                balanceTransactions(first: 10) { edges { node { stripeId type amount fee net sourceId } } }
              } }
              pageInfo { hasNextPage endCursor }
            }
            charges(first: 20) { edges { node { stripeId amount status refunds { edges { node { stripeId amount } } } } } }
            disputes(first: 20) { edges { node { stripeId amount reason } } }
            events(first: 20) { edges { node { stripeId type created } } }
          }
        }`,
        { id: connectionId },
      );
      expectAnswered(reply);
      const connection = reply.body.data?.stripeConnection as { payouts: { edges: unknown[] } } | undefined;
      expect(connection?.payouts.edges.length).toBeGreaterThan(0);
    });

    it("passes the benchmark's page of 100 payouts", async () => {
      const fields = "stripeId amount currency status arrivalDate created";
      expectAnswered(
        await request(
          gateway(),
          apiKey,
          `query Payouts($id: ID!, $created: DateTimeRange) { stripeConnection(id: $id) { payouts(first: 100, created: $created) { edges { node { ${fields} } } } } }`,
          { id: connectionId, created: { lte: new Date(Date.now() + 86_400_000).toISOString() } },
        ),
      );
    });

    it("refuses 100 connections × 100 payouts × 100 balance transactions, naming its cost and the limit", async () => {
      const reply = await request(
        gateway(),
        apiKey,
        `{ stripeConnections(first: 100) { edges { node { payouts(first: 100) { edges { node {
            balanceTransactions(first: 100) { edges { node { id amount } } } } } } } } } }`,
      );
      expectRefused(reply, /^Query cost 1,020,201 exceeds the limit of 25,000 \(GRAPHQL_MAX_COST\)/);
      // README's example, as it is
      expect(reply.body).toEqual({
        errors: [
          {
            message:
              "Query cost 1,020,201 exceeds the limit of 25,000 (GRAPHQL_MAX_COST): each list counts its `first` " +
              "(or `last`, or 20 without either) times what it selects.",
            extensions: { code: "GRAPHQL_VALIDATION_FAILED", cost: 1_020_201, maxCost: 25_000 },
          },
        ],
      });
    });

    it("counts `nodes(ids:)` one object per id, and lists without `first` at their default of 20", async () => {
      const query = `query Nodes($ids: [ID!]!) { ${COST_24_993} nodes(ids: $ids) { id } }`;
      expectAnswered(await request(gateway(), apiKey, query, { ids: Array(7).fill(orgId) }));
      expectRefused(
        await request(gateway(), apiKey, query, { ids: Array(8).fill(orgId) }),
        /^Query cost 25,001 exceeds/,
      );
      const viaFragments = await request(
        gateway(),
        apiKey,
        `{ stripeConnections(first: 100) { edges { node { ...Lists } } } }
         fragment Lists on StripeConnection { charges(first: 100) { edges { node { refunds { edges { node { id } } } } } } }`,
      );
      // 1 + 100 × (1 + 1 + 100 × (1 + 1 + 20 × 1))
      expectRefused(viaFragments, /^Query cost 220,201 exceeds/);
    });

    it("refuses fragments spread into a billion fields, as too costly to price", async () => {
      const fragments = Array.from({ length: 30 }, (_, i) =>
        i === 0
          ? "fragment F0 on Query { viewer { id } }"
          : `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`,
      );
      expectRefused(
        await request(gateway(), apiKey, `{ ...F29 } ${fragments.join(" ")}`),
        /^Query cost is over the limit of 25,000: Query exceeds the maximum allowed number of nodes\.$/,
      );
    });

    it("limits the body of /graphql to 100,000 bytes, before reading the query", async () => {
      const sized = (bytes: number) => {
        const base = JSON.stringify({ query: "{ viewer { id } }", variables: { pad: "" } });
        return JSON.stringify({
          query: "{ viewer { id } }",
          variables: { pad: "x".repeat(bytes - base.length) },
        });
      };
      expect(sized(100_000)).toHaveLength(100_000);
      const atLimit = await post(gateway(), sized(100_000), apiKey);
      expectAnswered(atLimit);
      const over = await post(gateway(), sized(100_001), apiKey);
      expect(over.status).toBe(413);
      expect(over.body.errors![0]).toMatchObject({
        message: "Request body too large: at most 100000 bytes (GRAPHQL_MAX_BODY_BYTES).",
        extensions: { code: "REQUEST_ENTITY_TOO_LARGE" },
      });
      expect(over.statements).toEqual([]);
    });

    describe("over WebSocket", () => {
      let server: Server;
      let websocket: WebSocketEndpoint;
      let url: string;

      beforeAll(async () => {
        server = await new Promise<Server>((resolve) => {
          const started = serve({ fetch: gateway().app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
            resolve(started as Server),
          ) as Server;
        });
        websocket = attachWebSocket(server, gateway().app.graphql, gateway().deps);
        url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
      });
      afterAll(async () => {
        await websocket?.close();
        server?.closeAllConnections();
        await new Promise((resolve) => server?.close(resolve));
      });

      it("refuses an operation over a limit with the same error", async () => {
        const client = createClient({
          url,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${apiKey}` },
        });
        try {
          const error = await new Promise<unknown>((resolve) => {
            client.subscribe(
              { query: ofAliases(21) },
              { next: () => resolve("answered"), error: resolve, complete: () => resolve("completed") },
            );
          });
          expect(error).toEqual([
            expect.objectContaining({
              message: "Aliases limit of 20 exceeded, found 21 (GRAPHQL_MAX_ALIASES).",
            }),
          ]);
        } finally {
          await client.dispose();
        }
      });

      it("closes a socket whose message is over the body limit (1009)", async () => {
        const socket = new WebSocket(url, "graphql-transport-ws");
        const closed = new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));
        await new Promise((resolve) => socket.on("open", resolve));
        socket.send(JSON.stringify({ type: "connection_init", payload: { pad: "x".repeat(100_001) } }));
        expect(await closed).toBe(1009);
      });
    });
  });

  describe("with limits set by the environment", () => {
    let gateway: TestGateway;
    let apiKey: string;

    beforeAll(async () => {
      gateway = await startTestGateway(
        target,
        {
          GRAPHQL_MAX_DEPTH: "6",
          GRAPHQL_MAX_ALIASES: "2",
          GRAPHQL_MAX_TOKENS: "60",
          GRAPHQL_MAX_DIRECTIVES: "1",
          GRAPHQL_MAX_COST: "100",
          GRAPHQL_MAX_BODY_BYTES: "1000",
        },
        { cacheMaxAgeMs: 0 },
      );
      const created = await gateway.gql(CreateOrg, { name: "Tight limits" }, ADMIN_KEY);
      if (created.data?.createOrg.__typename !== "CreateOrgSuccess") throw new Error(JSON.stringify(created));
      apiKey = created.data.createOrg.apiKey;
    });
    afterAll(() => gateway?.close());

    it("applies each one at its boundary", async () => {
      expectAnswered(await request(gateway, apiKey, `{ ${ofDepth(6)} }`));
      expectRefused(
        await request(gateway, apiKey, `{ ${ofDepth(7)} }`),
        /^Query depth limit of 6 exceeded, found 7 \(GRAPHQL_MAX_DEPTH\)\.$/,
      );
      expectAnswered(await request(gateway, apiKey, ofAliases(2)));
      expectRefused(await request(gateway, apiKey, ofAliases(3)), /^Aliases limit of 2 exceeded, found 3/);
      expectAnswered(await request(gateway, apiKey, ofTokens(60)));
      expectRefused(await request(gateway, apiKey, ofTokens(61)), /^Token limit of 60 exceeded/);
      expectAnswered(await request(gateway, apiKey, ofDirectives(1)));
      expectRefused(
        await request(gateway, apiKey, ofDirectives(2)),
        /^Directives limit of 1 exceeded, found 2/,
      );
      expectAnswered(await request(gateway, apiKey, CONNECTIONS, { n: 99 }));
      expectRefused(
        await request(gateway, apiKey, CONNECTIONS, { n: 100 }),
        /^Query cost 101 exceeds the limit of 100 \(GRAPHQL_MAX_COST\)/,
      );
    });

    it("counts fragments once per place they are spread, and no level for the spread itself", async () => {
      expectAnswered(await request(gateway, apiKey, `{ ...Q } fragment Q on Query { ${ofDepth(6)} }`));
      const fragment = "fragment C on StripeConnectionConnection { edges { node { id } } }";
      expectAnswered(await request(gateway, apiKey, `{ stripeConnections(first: 49) { ...C } } ${fragment}`));
      // (1 + 50) + (1 + 49)
      expectRefused(
        await request(
          gateway,
          apiKey,
          `{ a: stripeConnections(first: 50) { ...C } b: stripeConnections(first: 49) { ...C } } ${fragment}`,
        ),
        /^Query cost 101 exceeds/,
      );
    });

    it("prices a document again for each request whose variables decide its lists", async () => {
      const query = `query Maybe($more: Boolean!) {
        stripeConnections(first: 50) { edges { node { id } } }
        more: stripeConnections(first: 49) @include(if: $more) { edges { node { id } } }
      }`;
      for (const more of [false, true, false, true]) {
        const reply = await request(gateway, apiKey, query, { more });
        if (more) expectRefused(reply, /^Query cost 101 exceeds/);
        else expectAnswered(reply);
      }
    });

    it("limits the body to GRAPHQL_MAX_BODY_BYTES", async () => {
      const body = (bytes: number) => {
        const base = JSON.stringify({ query: "{ viewer { id } }", variables: { pad: "" } });
        return JSON.stringify({
          query: "{ viewer { id } }",
          variables: { pad: "x".repeat(bytes - base.length) },
        });
      };
      expectAnswered(await post(gateway, body(1000), apiKey));
      const over = await post(gateway, body(1001), apiKey);
      expect(over.status).toBe(413);
      expect(over.statements).toEqual([]);
    });
  });
});
