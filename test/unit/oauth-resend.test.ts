import { createServer } from "node:net";
import { beforeEach, describe, expect, it } from "vitest";
import type { Config } from "../../src/config.ts";
import { createEmulator, type Emulator } from "../../src/emulator/create-emulator.ts";
import {
  deauthorize,
  exchangeCode,
  type HttpFetch,
  StripeOAuthError,
  StripeUnavailableError,
} from "../../src/stripe/oauth.ts";

const REDIRECT = "https://gateway.example/stripe/proxy/org_1/redirect";
const ENDPOINTS: Config["stripe"] = {
  apiUrl: "http://emulator.test",
  connectUrl: "http://emulator.test",
  marketplaceUrl: "http://emulator.test",
};

/** A port nothing listens on: connecting to it is refused before any byte is sent. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("which OAuth calls are sent again", () => {
  let emulator: Emulator;
  let key: string;
  let calls: number;
  /** Answers the first calls with `first`, the rest from the emulator. */
  const http =
    (...first: Array<() => Promise<Response>>): HttpFetch =>
    (input, init) => {
      calls += 1;
      return first[calls - 1]?.() ?? emulator.fetch(new Request(input, init));
    };

  beforeEach(() => {
    emulator = createEmulator({
      seed: "resend",
      accounts: 1,
      size: "tiny",
      platforms: [{ redirectUris: [REDIRECT] }],
    });
    key = emulator.platforms[0]!.keys.test.secretKey;
    calls = 0;
  });

  async function newCode(): Promise<string> {
    const clientId = emulator.platforms[0]!.keys.test.clientId;
    const response = await emulator.fetch(
      new Request(`http://emulator.test/oauth/v2/authorize?client_id=${clientId}`),
    );
    return new URL(response.headers.get("location")!).searchParams.get("code")!;
  }
  const exchange = async (fetch: HttpFetch) =>
    exchangeCode(fetch, ENDPOINTS, "STRIPE_APP", key, await newCode());

  it("sends a code again after a refused connection or a 429", async () => {
    const port = await closedPort();
    const refused = () => fetch(`http://127.0.0.1:${port}/v1/oauth/token`, { method: "POST" });
    const limited = async () => Response.json({ error: { type: "invalid_request_error" } }, { status: 429 });
    const tokens = await exchange(http(refused, limited));
    expect(tokens.accessToken).toBeTruthy();
    expect(calls).toBe(3);
  });

  it("never sends a code again after a 5xx, a dropped connection or an unreadable answer", async () => {
    const failures = [
      async () => Response.json({ error: { type: "api_error" } }, { status: 503 }),
      async () => Promise.reject(new TypeError("fetch failed", { cause: new Error("other side closed") })),
      async () => new Response("<html>", { status: 200 }),
    ];
    for (const failure of failures) {
      calls = 0;
      await expect(exchange(http(failure))).rejects.toBeInstanceOf(StripeUnavailableError);
      expect(calls).toBe(1);
    }
  });

  it("reports Stripe's OAuth errors as they are", async () => {
    await expect(exchangeCode(http(), ENDPOINTS, "STRIPE_APP", key, "ac_unknown")).rejects.toMatchObject({
      constructor: StripeOAuthError,
      code: "invalid_grant",
    });
  });

  it("keeps retrying deauthorize, which is safe to repeat", async () => {
    const unavailable = async () => Response.json({ error: { type: "api_error" } }, { status: 503 });
    const done = async () => Response.json({ stripe_user_id: "acct_1" });
    await deauthorize(http(unavailable, unavailable, done), ENDPOINTS, key, "ca_1", "acct_1");
    expect(calls).toBe(3);
  });
});
