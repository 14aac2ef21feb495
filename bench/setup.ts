// A gateway (embedded PGlite, in memory) with one org and one connection backfilled from an in-process
// emulator listening on loopback: what the query and sync benchmarks measure against.
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createApp } from "../src/app.ts";
import { loadConfig } from "../src/config.ts";
import { startConnection } from "../src/connections/lifecycle.ts";
import { createDeps, type Deps } from "../src/deps.ts";
import { createEmulator, type EmulatorOptions } from "../src/emulator/create-emulator.ts";
import { createLogger } from "../src/logger.ts";
import { createOrg } from "../src/orgs/orgs.ts";
import { setStripeConfig } from "../src/orgs/stripe-config.ts";

export type BenchWorld = {
  deps: Deps;
  url: string;
  apiKey: string;
  connectionId: string;
  close(): Promise<void>;
};

export async function startBenchWorld(size: EmulatorOptions["size"]): Promise<BenchWorld> {
  const emulator = createEmulator({
    seed: "bench",
    accounts: 1,
    size,
    rateLimits: false,
    platforms: [{ redirectUris: ["http://127.0.0.1/stripe/proxy/*"] }],
  });
  const stripe = await emulator.listen(0, "127.0.0.1");
  const config = loadConfig({
    NODE_ENV: "production",
    PUBLIC_URL: "http://127.0.0.1",
    STRIPE_API_URL: stripe.url,
    STRIPE_CONNECT_URL: stripe.url,
    STRIPE_MARKETPLACE_URL: stripe.url,
    ENCRYPTION_KEY: Buffer.alloc(32, 1).toString("base64"),
  });
  const deps = await createDeps(config, {
    pgliteDir: "memory://",
    logger: createLogger({ level: "silent" }),
  });
  const app = createApp(deps);
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }) as Server;
  await new Promise((resolve) => server.once("listening", resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;

  const { org, apiKey } = await createOrg(deps.db.prisma, { name: "Bench" });
  const keys = emulator.platforms[0]!.keys.test;
  await setStripeConfig(
    { prisma: deps.db.prisma, secrets: deps.secrets, marketplaceUrl: config.stripe.marketplaceUrl },
    org.id,
    { clientId: keys.clientId, secretKey: keys.secretKey },
  );
  const started = await startConnection(deps, org, {});
  const atStripe = await fetch(started.authorizationUrl, { redirect: "manual" });
  const callback = new URL(atStripe.headers.get("location")!);
  await app.fetch(new Request(`${url}${callback.pathname}${callback.search}`));
  return {
    deps,
    url,
    apiKey,
    connectionId: started.connection.id,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await deps.close();
      await emulator.close();
    },
  };
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
