// A DATA_DIR written by the PGlite version of the gateway (test/fixtures/pglite-data-dir.md) started with this
// one: its data is copied into the embedded PostgreSQL once, and everything reads as before.
import { execFile } from "node:child_process";
import { chmod, mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type GatewayProcess, postGraphql, startGatewayProcess } from "../helpers/gateway-process.ts";

const FIXTURE = path.resolve(import.meta.dirname, "../fixtures/pglite-data-dir.tar.xz");

type Manifest = {
  apiKey: string;
  accounts: string[];
  payout: string;
  counts: Record<string, number>;
};

type Count = { totalCount: number };
type ConnectionRead = {
  stripeAccountId: string;
  status: string;
  payouts: Count;
  charges: Count;
  balanceTransactions: Count;
};
type Read = {
  viewer: { name: string; webhookEndpoints: { url: string; types: string[] }[] };
  stripeConnections: { edges: { node: ConnectionRead }[] };
};
type Changes = { changes: { edges: { cursor: string }[] } };
const graphql = (url: string, query: string, key: string) => postGraphql<Read & Changes>(url, query, key);

const READ = `{
  viewer { name webhookEndpoints { url types } }
  stripeConnections(first: 10) {
    edges {
      node {
        stripeAccountId status
        payouts(first: 1) { totalCount }
        charges(first: 1) { totalCount }
        balanceTransactions(first: 1) { totalCount }
      }
    }
  }
}`;

describe("a DATA_DIR of the PGlite version", { timeout: 120_000 }, () => {
  let folder: string;
  let dataDir: string;
  let manifest: Manifest;
  let gateway: GatewayProcess;

  beforeAll(async () => {
    folder = await mkdtemp(path.join(tmpdir(), "gw-pglite-import-"));
    await chmod(folder, 0o711); // DATA_DIR is inside: run by root, the server's OS user passes through
    await promisify(execFile)("tar", ["-xJf", FIXTURE, "-C", folder]);
    dataDir = path.join(folder, "data");
    manifest = JSON.parse(await readFile(path.join(folder, "manifest.json"), "utf8"));
  });
  afterAll(async () => {
    await gateway?.stop("SIGTERM");
    await rm(folder, { recursive: true, force: true });
  });

  it("is copied into the embedded PostgreSQL at the first start, with a line saying so", async () => {
    gateway = await startGatewayProcess({ DATA_DIR: dataDir }, 120_000);
    const { counts } = manifest;
    const objects = Object.entries(counts)
      .filter(
        ([table]) =>
          /^Stripe/.test(table) && !/^Stripe(Connection|Config|Event|Change|SyncState)$/.test(table),
      )
      .reduce((sum, [, count]) => sum + count, 0);
    expect(gateway.output()).toContain(
      `copied the earlier PGlite database ${path.join(dataDir, "pglite")} into the embedded PostgreSQL: ${counts.Org} orgs, ${counts.ApiKey} API keys, ${counts.StripeConfig} Stripe configs, ${counts.StripeConnection} connections, ${objects} synced objects, ${counts.StripeEvent} events.`,
    );
    expect((await stat(path.join(dataDir, "pglite.imported", "PG_VERSION"))).isFile()).toBe(true);
    expect(await stat(path.join(dataDir, "pglite")).catch(() => null)).toBeNull();

    // The org's API key, its Stripe config (sealed with the key in DATA_DIR), its connections and objects.
    const read = await graphql(gateway.url, READ, manifest.apiKey);
    expect(read.errors).toBeUndefined();
    expect(read.data!.viewer.name).toBe("Imported Org");
    expect(read.data!.viewer.webhookEndpoints).toEqual([
      { url: "https://example.com/hooks", types: ["payout.*"] },
    ]);
    const connections = read.data!.stripeConnections.edges.map((edge) => edge.node);
    expect(connections.map((c) => c.stripeAccountId).sort()).toEqual([...manifest.accounts].sort());
    expect(connections.every((c) => c.status === "READY")).toBe(true);
    const total = (field: "payouts" | "charges" | "balanceTransactions") =>
      connections.reduce((sum, c) => sum + c[field].totalCount, 0);
    expect(total("payouts")).toBe(counts.StripePayout);
    expect(total("charges")).toBe(counts.StripeCharge);
    expect(total("balanceTransactions")).toBe(counts.StripeBalanceTransaction);
    // The change log goes on from where it was: a resuming subscriber's sequence stays valid.
    const changes = await graphql(
      gateway.url,
      `{ changes(first: 1, after: "${counts.StripeChange! - 1}") { edges { cursor } } }`,
      manifest.apiKey,
    );
    expect(changes.errors).toBeUndefined();
    expect(changes.data!.changes.edges.map((edge) => edge.cursor)).toEqual([String(counts.StripeChange)]);
  });

  it("is not copied again at the next start", async () => {
    await gateway.stop("SIGTERM");
    gateway = await startGatewayProcess({ DATA_DIR: dataDir }, 120_000);
    expect(gateway.output()).not.toContain("copied the earlier PGlite database");
    const read = await graphql(gateway.url, READ, manifest.apiKey);
    const connections = read.data!.stripeConnections.edges.map((edge) => edge.node);
    expect(connections.reduce((sum, c) => sum + c.payouts.totalCount, 0)).toBe(manifest.counts.StripePayout);
  });
});
