// Where deliveries may go: https:// only (http:// to localhost outside production); in production never to
// loopback, private, link-local or metadata addresses — checked on the URL, on what its name resolves to
// when saved, and by the sending socket's own lookup (DNS rebinding) — unless WEBHOOK_ALLOW_PRIVATE_URLS.
import { describe, expect, it } from "vitest";
import {
  guardedLookup,
  isPublicAddress,
  resolvedUrlProblem,
  urlProblem,
} from "../../src/feed/webhooks/endpoint-url.ts";

const development = { production: false, allowPrivate: false };
const production = { production: true, allowPrivate: false };
const trusting = { production: true, allowPrivate: true };

describe("webhook endpoint targets", () => {
  it("takes https:// anywhere, and http:// only to this machine outside production", () => {
    expect(urlProblem("https://api.example.com/hooks", development)).toBeNull();
    expect(urlProblem("http://localhost:3000/hooks", development)).toBeNull();
    expect(urlProblem("http://127.0.0.1:3000/hooks", development)).toBeNull();
    expect(urlProblem("http://[::1]:3000/hooks", development)).toBeNull();
    expect(urlProblem("http://api.example.com/hooks", development)).toMatch(/must be https:\/\//);
    expect(urlProblem("http://localhost:3000/hooks", production)).toBe("must be https:// in production");
    expect(urlProblem("ftp://example.com/", development)).toMatch(/absolute https:\/\/ URL/);
    expect(urlProblem("/hooks", development)).toMatch(/absolute https:\/\/ URL/);
    expect(urlProblem("https://user:secret@example.com/", development)).toBe(
      "must not hold a user name or password",
    );
    expect(urlProblem("https://example.com/#x", development)).toMatch(/fragment/);
  });

  it("refuses loopback, private, link-local and metadata addresses in production", () => {
    for (const host of [
      "127.0.0.1",
      "10.1.2.3",
      "192.168.0.10",
      "172.16.0.1",
      "169.254.169.254",
      "[::1]",
      "[fd00:ec2::254]",
      "[::ffff:10.0.0.1]",
      "100.100.100.200",
      "0.0.0.0",
      "localhost",
    ])
      expect(urlProblem(`https://${host}/hooks`, production), host).toMatch(/must reach a public address/);
    expect(urlProblem("https://93.184.215.14/hooks", production)).toBeNull();
    expect(urlProblem("https://10.1.2.3/hooks", trusting)).toBeNull();
    expect(urlProblem("http://10.1.2.3/hooks", trusting)).toBeNull();
    expect(isPublicAddress("2606:4700::1111")).toBe(true);
  });

  it("checks what a name resolves to when the endpoint is saved", async () => {
    const resolvesTo = (address: string) => async () => [{ address, family: address.includes(":") ? 6 : 4 }];
    expect(
      await resolvedUrlProblem("https://hooks.example.com/x", production, resolvesTo("10.0.0.7")),
    ).toMatch(/hooks.example.com resolves to 10.0.0.7/);
    expect(
      await resolvedUrlProblem("https://hooks.example.com/x", production, resolvesTo("93.184.215.14")),
    ).toBeNull();
    expect(
      await resolvedUrlProblem("https://hooks.example.com/x", development, resolvesTo("10.0.0.7")),
    ).toBeNull();
    const fails = async () => {
      throw new Error("ENOTFOUND");
    };
    expect(await resolvedUrlProblem("https://nowhere.invalid/x", production, fails)).toMatch(
      /does not resolve/,
    );
  });

  it("refuses, at send time, a name that now resolves to this machine (DNS rebinding)", async () => {
    const lookup = (policy: typeof production) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: unknown }>((resolve) =>
        guardedLookup(policy)("localhost", {}, (error, address) => resolve({ error, address })),
      );
    const refused = await lookup(production);
    expect(refused.error?.code).toBe("EREFUSEDADDRESS");
    expect(refused.error?.message).toMatch(/localhost resolves to .* which is not a public address/);
    const allowed = await lookup(trusting);
    expect(allowed.error).toBeNull();
    expect(["127.0.0.1", "::1"]).toContain(allowed.address);
  });
});
