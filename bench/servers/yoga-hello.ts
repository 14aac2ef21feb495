// Baseline: a bare graphql-yoga answering `{ hello }` on node:http.
import { createServer } from "node:http";
import { createSchema, createYoga } from "graphql-yoga";
import { loopbackUrl, serveParent } from "../child.ts";

const yoga = createYoga({
  schema: createSchema({
    typeDefs: "type Query { hello: String! }",
    resolvers: { Query: { hello: () => "world" } },
  }),
  logging: false,
});
const server = createServer(yoga);
server.listen(0, "127.0.0.1", () => serveParent({ url: loopbackUrl(server.address()) }));
