// PostGraphile 4 (its Node API on node:http) over the gateway's own tables in BENCH_DATABASE_URL (a server's
// URL, or the embedded cluster's with its socket directory in `?host=`): the schema it generates from them,
// read-only, without GraphiQL, watch mode or a query log.

import { createServer, type RequestListener } from "node:http";
import Module, { createRequire } from "node:module";
import path from "node:path";
import { loopbackUrl, serveParent } from "../child.ts";

// PostGraphile 4 needs graphql 15 while the gateway uses 16, and npm leaves it two nested copies of 15
// (its own, and graphile-build-pg's): every `graphql` import in this process is sent to PostGraphile's.
const require = createRequire(import.meta.url);
const postgraphileDir = path.dirname(require.resolve("postgraphile"));
const graphql15 = path.dirname(require.resolve("graphql", { paths: [postgraphileDir] }));
const patched = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
const resolveFilename = patched._resolveFilename;
patched._resolveFilename = function (request, ...rest) {
  const redirected =
    request === "graphql" || request.startsWith("graphql/") ? graphql15 + request.slice(7) : request;
  return resolveFilename.call(this, redirected, ...rest);
};
const { postgraphile } = require("postgraphile") as {
  postgraphile(
    database: string | undefined,
    schema: string,
    options: Record<string, unknown>,
  ): RequestListener;
};

const handler = postgraphile(process.env.BENCH_DATABASE_URL, "public", {
  graphqlRoute: "/graphql",
  disableDefaultMutations: true,
  disableQueryLog: true,
  graphiql: false,
  watchPg: false,
  retryOnInitFail: false,
});
const server = createServer(handler);
server.listen(0, "127.0.0.1", () => serveParent({ url: loopbackUrl(server.address()) }));
