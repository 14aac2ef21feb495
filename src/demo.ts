import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { startConnection } from "./connections/lifecycle.ts";
import { createDeps } from "./deps.ts";
import { createEmulator } from "./emulator/create-emulator.ts";
import { createOrg, orgRedirectUri } from "./orgs/orgs.ts";
import { setStripeConfig } from "./orgs/stripe-config.ts";

export type DemoOptions = { port: number; emulatorPort: number; seed: string };

/**
 * Emulator + gateway in one process, an org configured against the emulator, and a connect URL to
 * open in a browser: the whole flow without a Stripe account. Data lives in memory.
 */
export async function runDemo(options: DemoOptions, log: (line: string) => void = console.log) {
  const publicUrl = `http://localhost:${options.port}`;
  const emulator = createEmulator({
    seed: options.seed,
    oauthDecision: "page",
    platforms: [{ redirectUris: [`${publicUrl}/stripe/proxy/*`] }],
  });
  const emulatorServer = await emulator.listen(options.emulatorPort, "127.0.0.1");
  const config = loadConfig({
    PORT: String(options.port),
    PUBLIC_URL: publicUrl,
    STRIPE_API_URL: emulatorServer.url,
    STRIPE_CONNECT_URL: emulatorServer.url,
    STRIPE_MARKETPLACE_URL: emulatorServer.url,
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    LOG_LEVEL: "warn",
  });
  const deps = await createDeps(config, { pgliteDir: "memory://" });
  const server = serve({ fetch: createApp(deps).fetch, port: options.port, hostname: "127.0.0.1" }) as Server;

  const { org, apiKey } = await createOrg(deps.db.prisma, { name: "Demo Org" });
  const keys = emulator.platforms[0]!.keys.test;
  await setStripeConfig(
    { prisma: deps.db.prisma, secrets: deps.secrets, marketplaceUrl: config.stripe.marketplaceUrl },
    org.id,
    { clientId: keys.clientId, secretKey: keys.secretKey },
  );
  const { authorizationUrl } = await startConnection(deps, org, {});

  log(`Stripe emulator   ${emulatorServer.url}  (control API: ${emulatorServer.url}/_emulator)`);
  log(`Gateway GraphiQL  ${publicUrl}/graphql`);
  log(`Org API key       ${apiKey}   (GraphiQL headers: {"Authorization": "Bearer ${apiKey}"})`);
  log(`Redirect URI      ${orgRedirectUri(publicUrl, org.id)}`);
  log("");
  log("Open this link, pick an account and approve; you land back on the gateway, connected:");
  log(`  ${authorizationUrl}`);
  log("");
  log("Then in GraphiQL: { stripeConnections { edges { node { id status stripeAccountId } } } }");
  log(
    "More connect links: mutation { startStripeConnection { ... on StartStripeConnectionSuccess { authorizationUrl } } }",
  );

  return {
    apiKey,
    authorizationUrl,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      await deps.close();
      await emulator.close();
    },
  };
}
