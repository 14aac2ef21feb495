// The module picture of README's "Layout", checked on the real import graph (type-only imports included).
import madge from "madge";
import { beforeAll, describe, expect, it } from "vitest";

let graph: Record<string, string[]>;

beforeAll(async () => {
  const result = await madge(new URL("../../src", import.meta.url).pathname, {
    fileExtensions: ["ts"],
    tsConfig: new URL("../../tsconfig.json", import.meta.url).pathname,
    excludeRegExp: [/^generated\//],
  });
  graph = result.obj();
}, 60_000);

const under = (dir: string) => (file: string) => file.startsWith(`${dir}/`);
/** Every import edge from a module matching `from` to one matching `to`, as "a → b". */
const edges = (from: (file: string) => boolean, to: (file: string) => boolean) =>
  Object.entries(graph)
    .filter(([file]) => from(file))
    .flatMap(([file, imports]) => imports.filter(to).map((target) => `${file} → ${target}`));

describe("module boundaries", () => {
  it("keeps the emulator apart: it imports nothing of the gateway, and only the dev commands load it", () => {
    expect(edges(under("emulator"), (file) => !under("emulator")(file))).toEqual([]);
    const loaders = edges((file) => !under("emulator")(file), under("emulator")).map(
      (edge) => edge.split(" → ")[0],
    );
    expect([...new Set(loaders)].sort()).toEqual(["cli.ts", "demo.ts"]);
  });

  it("keeps the embedded cluster (db/embedded/) to the database: it imports nothing above db/", () => {
    expect(edges(under("db/embedded"), (file) => !under("db")(file))).toEqual([]);
  });

  it("keeps stripe/ to Stripe's protocol", () => {
    const above = (file: string) =>
      ["orgs", "sync", "connections", "graphql", "http"].some((dir) => under(dir)(file));
    expect(edges(under("stripe"), (file) => above(file) || file === "deps.ts")).toEqual([]);
  });

  it("lets sync/ use connections/ but never the reverse, and neither reaches up to graphql/ or http/", () => {
    const top = (file: string) =>
      under("graphql")(file) || under("http")(file) || file === "deps.ts" || file === "app.ts";
    expect(edges(under("connections"), (file) => under("sync")(file) || top(file))).toEqual([]);
    expect(edges(under("sync"), top)).toEqual([]);
    expect(
      edges(
        (file) => under("orgs")(file) || under("db")(file) || file === "pubsub.ts",
        (file) => ["stripe", "sync", "connections", "graphql", "http"].some((dir) => under(dir)(file)),
      ),
    ).toEqual([]);
  });

  it("keeps feed/ (the change log) below sync/ and connections/: it reaches up to none of them", () => {
    const above = (file: string) =>
      ["sync", "connections", "graphql", "http"].some((dir) => under(dir)(file)) ||
      file === "deps.ts" ||
      file === "app.ts";
    expect(edges(under("feed"), above)).toEqual([]);
    expect(edges(under("sync"), under("feed")).length).toBeGreaterThan(0);
  });

  it("keeps graphql/ and http/ siblings: app.ts wires them", () => {
    expect(
      edges(under("http"), under("graphql")).filter(
        (edge) => !edge.endsWith("graphql/yoga.ts") && !edge.endsWith("graphql/auth.ts"),
      ),
    ).toEqual([]);
    expect(edges(under("graphql"), under("http"))).toEqual([]);
  });
});
