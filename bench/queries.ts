/**
 * Query throughput over real HTTP: payouts(first: 100) and payouts(first: 10), each with nested
 * balanceTransactions(first: 5), as a ratio of a bare Yoga `{ hello }` server measured in the same run
 * (medians of 3 rounds). Run: npx tsx bench/queries.ts   (about 60 s)
 */
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import autocannon from "autocannon";
import { createSchema, createYoga } from "graphql-yoga";
import { median, startBenchWorld } from "./setup.ts";

const ROUNDS = 3;
const DURATION_S = 4;

async function requestsPerSecond(url: string, body: string, headers: Record<string, string> = {}) {
  const result = await autocannon({
    url: `${url}/graphql`,
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    connections: 10,
    duration: DURATION_S,
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${result.non2xx} non-2xx, ${result.errors} errors`);
  return result.requests.average;
}

const hello = createYoga({
  schema: createSchema({
    typeDefs: "type Query { hello: String! }",
    resolvers: { Query: { hello: () => "world" } },
  }),
  logging: false,
});
const bare = serve({ fetch: hello.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
await new Promise((resolve) => bare.once("listening", resolve));
const bareUrl = `http://127.0.0.1:${(bare.address() as { port: number }).port}`;

const world = await startBenchWorld({ payouts: 150, chargesPerPayout: 4 });
await world.deps.sync.idle();
const payouts = (first: number) =>
  JSON.stringify({
    query: `query($id: ID!) { stripeConnection(id: $id) { payouts(first: ${first}) { edges { node { id stripeId amount currency status arrivalDate balanceTransactions(first: 5) { edges { node { stripeId amount net type } } } } } pageInfo { hasNextPage endCursor } } } }`,
    variables: { id: world.connectionId },
  });
const auth = { authorization: `Bearer ${world.apiKey}` };

const results = { hello: [] as number[], first100: [] as number[], first10: [] as number[] };
for (let round = 0; round < ROUNDS; round++) {
  results.hello.push(await requestsPerSecond(bareUrl, JSON.stringify({ query: "{ hello }" })));
  results.first100.push(await requestsPerSecond(world.url, payouts(100), auth));
  results.first10.push(await requestsPerSecond(world.url, payouts(10), auth));
}
const base = median(results.hello);
console.log(`bare Yoga { hello }: ${base.toFixed(0)} req/s`);
for (const name of ["first100", "first10"] as const) {
  const rps = median(results[name]);
  console.log(
    `payouts(${name.replace("first", "first: ")}) + balanceTransactions(first: 5): ${rps.toFixed(0)} req/s = ${(rps / base).toFixed(3)} × hello`,
  );
}
await new Promise((resolve) => bare.close(resolve));
await world.close();
process.exit(0);
