// The Stripe emulator of the reliability run, in its own process so that it outlives the gateways the run
// kills. It reports every OAuth secret it issues (authorization codes, access and refresh tokens: the
// secrets scan looks for them) and counts the API requests it serves per list.
//   RELIABILITY_EMULATOR_ACCOUNTS, RELIABILITY_EMULATOR_PAYOUTS, RELIABILITY_EMULATOR_CHARGES  its data
import type { Server } from "node:http";
import { serve } from "@hono/node-server";
import { createEmulator } from "../../../src/emulator/create-emulator.ts";
import { loopbackUrl, serveParent } from "../../child.ts";

export type EmulatorInfo = {
  url: string;
  clientId: string;
  /** The platform's test-mode secret key: the org's Stripe secret key in setStripeConfig */
  secretKey: string;
  accountIds: string[];
};
export type IssuedSecret = {
  kind: "authorization code" | "OAuth access token" | "OAuth refresh token";
  value: string;
};

const emulator = createEmulator({
  seed: "reliability",
  accounts: Number(process.env.RELIABILITY_EMULATOR_ACCOUNTS ?? 3),
  size: {
    payouts: Number(process.env.RELIABILITY_EMULATOR_PAYOUTS ?? 20),
    chargesPerPayout: Number(process.env.RELIABILITY_EMULATOR_CHARGES ?? 2),
  },
  rateLimits: false,
  oauthDecision: "approve",
  platforms: [{ redirectUris: ["http://127.0.0.1/stripe/proxy/*"] }],
});
const issued: IssuedSecret[] = [];
const requests: Record<string, number> = {};

async function tap(request: Request): Promise<Response> {
  const url = new URL(request.url);
  const key = `${request.method} ${url.pathname}${url.searchParams.has("payout") ? "?payout" : ""}`;
  requests[key] = (requests[key] ?? 0) + 1;
  const response = await emulator.fetch(request);
  const code = new URL(response.headers.get("location") ?? "http://x/").searchParams.get("code");
  if (code) issued.push({ kind: "authorization code", value: code });
  if (url.pathname.endsWith("/oauth/token") && response.ok) {
    const body = (await response.clone().json()) as { access_token?: unknown; refresh_token?: unknown };
    if (typeof body.access_token === "string")
      issued.push({ kind: "OAuth access token", value: body.access_token });
    if (typeof body.refresh_token === "string")
      issued.push({ kind: "OAuth refresh token", value: body.refresh_token });
  }
  return response;
}

const server = serve({ fetch: tap, port: 0, hostname: "127.0.0.1" }) as Server;
await new Promise((resolve) => server.once("listening", resolve));
const keys = emulator.platforms[0]!.keys.test;
const info: EmulatorInfo = {
  url: loopbackUrl(server.address()),
  clientId: keys.clientId,
  secretKey: keys.secretKey,
  accountIds: emulator.accountIds,
};
serveParent(info, {
  issued: async () => issued,
  requests: async () => ({ ...requests }),
  resetRequests: async () => {
    for (const key of Object.keys(requests)) delete requests[key];
  },
});
