import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createApp } from "./app.ts";
import { loadConfig } from "./config.ts";
import { prepareDashboard } from "./dashboard/build.ts";
import { createDeps } from "./deps.ts";
import { createEmulator } from "./emulator/create-emulator.ts";
import { ListenError, listenGateway } from "./http/listen.ts";
import { createOrg, orgRedirectUri } from "./orgs/orgs.ts";

export type DemoOptions = { port: number; emulatorPort: number; seed: string };

/** In-flight requests get this long to finish when the demo stops. */
const STOP_GRACE_MS = 5_000;

/**
 * Emulator + gateway in one process, an org configured against the emulator with its Connect webhook
 * endpoint registered, and a connect URL to open in a browser: the whole flow, live updates included,
 * without a Stripe account. Data lives in a temporary DATA_DIR (its own embedded cluster), removed on close.
 */
export async function runDemo(options: DemoOptions, log: (line: string) => void = console.log) {
  const publicUrl = `http://localhost:${options.port}`;
  const emulator = createEmulator({
    seed: options.seed,
    oauthDecision: "page",
    platforms: [{ redirectUris: [`${publicUrl}/stripe/proxy/*`] }],
  });
  const emulatorServer = await emulator.listen(options.emulatorPort, "127.0.0.1").catch(async (error) => {
    await emulator.close();
    throw portError(error, options.emulatorPort, "the emulator's", "--emulator-port");
  });
  const dataDir = await mkdtemp(path.join(tmpdir(), "stripe-gateway-demo-"));
  const removeDataDir = () => rm(dataDir, { recursive: true, force: true });
  const config = loadConfig({
    PORT: String(options.port),
    DATA_DIR: dataDir,
    PUBLIC_URL: publicUrl,
    STRIPE_API_URL: emulatorServer.url,
    STRIPE_CONNECT_URL: emulatorServer.url,
    STRIPE_MARKETPLACE_URL: emulatorServer.url,
    ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    LOG_LEVEL: "warn",
  });
  const deps = await createDeps(config).catch(async (error: unknown) => {
    await emulator.close();
    await removeDataDir();
    throw error;
  });
  const app = createApp(deps);
  const gateway = await prepareDashboard(deps.logger)
    .then(() => listenGateway(app, deps, { port: options.port, host: "127.0.0.1" }))
    .catch(async (error) => {
      await deps.close();
      await emulator.close();
      await removeDataDir();
      throw portError(error, options.port, "the gateway's", "--port");
    });
  deps.sync.startWorkers();
  deps.changeFeed.startPruning();
  deps.webhooks.start();
  const close = async () => {
    await gateway.close({ graceMs: STOP_GRACE_MS });
    await deps.close();
    await emulator.close();
    await removeDataDir();
  };

  try {
    const { org, apiKey } = await createOrg(deps.db.prisma, { name: "Demo Org" });
    // The rest as a user does it: through the gateway's GraphQL API, with the org's key.
    const graphql = async <T>(query: string): Promise<T> => {
      const response = await app.fetch(
        new Request(`${publicUrl}/graphql`, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}` },
          body: JSON.stringify({ query }),
        }),
      );
      const body = (await response.json()) as { data?: Record<string, T>; errors?: { message: string }[] };
      const result = body.data ? Object.values(body.data)[0] : undefined;
      const failure = result as { __typename?: string; message?: string } | undefined;
      if (!result || failure?.__typename?.endsWith("Error")) {
        throw new Error(`demo set-up failed: ${failure?.message ?? body.errors?.[0]?.message}`);
      }
      return result;
    };

    const keys = emulator.platforms[0]!.keys.test;
    await graphql(
      `mutation { setStripeConfig(input: { clientId: "${keys.clientId}", secretKey: "${keys.secretKey}" }) { __typename ... on ValidationError { message } } }`,
    );
    const endpoint = await graphql<{ endpointId: string; url: string }>(
      "mutation { registerStripeWebhookEndpoint { __typename ... on RegisterStripeWebhookEndpointSuccess { endpointId url } ... on StripeNotConfiguredError { message } ... on ValidationError { message } } }",
    );
    const { authorizationUrl } = await graphql<{ authorizationUrl: string }>(
      "mutation { startStripeConnection { __typename ... on StartStripeConnectionSuccess { authorizationUrl } ... on StripeNotConfiguredError { message } ... on ValidationError { message } ... on NotFoundError { message } } }",
    );

    // A payout on its way, in the account the consent page preselects, for the command below to pay.
    const accountId = emulator.accountIds[0]!;
    const payout = emulator.control.createPayout(accountId, "test");
    const payCommand = `curl -s -X POST ${emulatorServer.url}/_emulator/payouts/${payout.id} -H 'content-type: application/json' -d '{"status":"paid"}'`;

    log(`Stripe emulator   ${emulatorServer.url}  (control API: ${emulatorServer.url}/_emulator)`);
    log(`Dashboard         ${publicUrl}/  (sign in with the org API key)`);
    log(`Gateway GraphiQL  ${publicUrl}/graphql`);
    log(`Org API key       ${apiKey}   (GraphiQL headers: {"Authorization": "Bearer ${apiKey}"})`);
    log(`Redirect URI      ${orgRedirectUri(publicUrl, org.id)}`);
    log(`Webhook endpoint  ${endpoint.url}  (${endpoint.endpointId}, registered with the emulator)`);
    log("");
    log("Open this link, pick an account and approve; you land back on the gateway, connected:");
    log(`  ${authorizationUrl}`);
    log("");
    log("Then in GraphiQL: { stripeConnections { edges { node { id status stripeAccountId } } } }");
    log(
      "More connect links: mutation { startStripeConnection { __typename ... on StartStripeConnectionSuccess { authorizationUrl } ... on StripeNotConfiguredError { message } ... on ValidationError { message } ... on NotFoundError { message } } }",
    );
    log("");
    log(
      `Live updates: keep the dashboard's Connections page open, or subscribe in GraphiQL to
  subscription { payoutUpdated { stripeId status amount currency } }
then run this to move payout ${payout.id} of ${accountId} (the account preselected on the consent page) to paid:`,
    );
    log(`  ${payCommand}`);
    log("");
    log(
      `Everything lives in ${dataDir} (its own embedded PostgreSQL) and is gone when the demo stops. Stop it with Ctrl-C.`,
    );
    return { apiKey, authorizationUrl, payCommand, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A port that cannot be bound, as one line naming it and the option that changes it. */
function portError(error: unknown, port: number, whose: string, option: string): unknown {
  const code = error instanceof ListenError ? error.code : (error as NodeJS.ErrnoException).code;
  if (code !== "EADDRINUSE") return error;
  return new Error(
    `port ${port} (${whose}) is already in use: stop what listens there, or pass ${option} <another port>`,
  );
}
