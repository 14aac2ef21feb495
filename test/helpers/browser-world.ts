import { once } from "node:events";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { createClock, type EmulatorClock } from "../../src/emulator/clock.ts";
import type { EmulatorOptions } from "../../src/emulator/create-emulator.ts";
import { CreateOrgDoc } from "./connect.ts";
import type { DatabaseTarget } from "./databases.ts";
import { type StartedEmulator, startEmulator } from "./emulator.ts";
import { ADMIN_KEY, startTestGateway, type TestGateway } from "./gateway.ts";

export type BrowserWorld = {
  /** The gateway's address, which is also its PUBLIC_URL (redirect and webhook URLs point here). */
  url: string;
  gateway: TestGateway;
  emulator: StartedEmulator;
  /** Both sides' clock: advance it between two changes of one object (versions are kept per second). */
  clock: EmulatorClock;
  /** A new org's API key. */
  createOrg(name: string): Promise<string>;
  close(): Promise<void>;
};

/**
 * What a person's browser meets: the gateway on a real port (PUBLIC_URL its own address, so that Stripe's
 * redirects and webhooks reach it) and the emulator on another, showing its consent page for OAuth.
 */
export async function startBrowserWorld(
  target: DatabaseTarget,
  options: Pick<EmulatorOptions, "size" | "accounts" | "seed"> = {},
): Promise<BrowserWorld> {
  // The port first (the gateway's config needs its URL), the app behind it once it exists.
  let handle = async (_request: Request) => new Response("starting", { status: 503 });
  const server = serve({ fetch: (request) => handle(request), port: 0, hostname: "127.0.0.1" }) as Server;
  if (!server.listening) await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const clock = createClock();
  const emulator = await startEmulator({
    clock,
    accounts: 2,
    size: "tiny",
    rateLimits: false,
    ...options,
    oauthDecision: "page",
    platforms: [{ redirectUris: [`${url}/stripe/proxy/*`] }],
  });
  const gateway = await startTestGateway(
    target,
    {
      PUBLIC_URL: url,
      STRIPE_API_URL: emulator.url,
      STRIPE_CONNECT_URL: emulator.url,
      STRIPE_MARKETPLACE_URL: emulator.url,
      LOG_LEVEL: "info",
    },
    { clock: { now: () => new Date(clock.now()) } },
  );
  handle = (request) => gateway.app.fetch(request);
  return {
    url,
    gateway,
    emulator,
    clock,
    async createOrg(name) {
      const result = await gateway.gql(CreateOrgDoc, { name }, ADMIN_KEY);
      const created = result.data?.createOrg;
      if (!created || !("apiKey" in created)) throw new Error(JSON.stringify(result));
      return created.apiKey;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await gateway.close();
      await emulator.close();
    },
  };
}
