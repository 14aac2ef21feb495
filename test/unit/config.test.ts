import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

const KEY = randomBytes(32).toString("base64");

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("loadConfig", () => {
  it("applies the documented defaults", () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      host: "0.0.0.0",
      publicUrl: "http://localhost:4000",
      databaseUrl: null,
      redisUrl: null,
      encryptionKey: null,
      adminApiKey: null,
      stripe: {
        apiUrl: "https://api.stripe.com",
        connectUrl: "https://connect.stripe.com",
        marketplaceUrl: "https://marketplace.stripe.com",
      },
      syncIntervalSeconds: 300,
      logLevel: "info",
    });
    expect(config.dataDir).toMatch(/\.data$/);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it("treats empty strings as unset and derives PUBLIC_URL from PORT", () => {
    const config = loadConfig({ PORT: "8080", PUBLIC_URL: "", DATABASE_URL: "", LOG_LEVEL: "" });
    expect(config.publicUrl).toBe("http://localhost:8080");
    expect(config.databaseUrl).toBeNull();
    expect(config.logLevel).toBe("info");
  });

  it("strips a trailing slash from URLs", () => {
    const config = loadConfig({
      PUBLIC_URL: "https://gw.example.com/",
      STRIPE_API_URL: "http://127.0.0.1:12111/",
    });
    expect(config.publicUrl).toBe("https://gw.example.com");
    expect(config.stripe.apiUrl).toBe("http://127.0.0.1:12111");
  });

  it("reports every problem at once, each naming its variable", () => {
    const problems = problemsOf({
      PORT: "eighty",
      PUBLIC_URL: "ftp://x",
      DATABASE_URL: "mysql://db",
      REDIS_URL: "http://redis",
      ADMIN_API_KEY: "short",
      SYNC_INTERVAL_SECONDS: "0",
      LOG_LEVEL: "loud",
      STRIPE_CONNECT_URL: "nope",
    });
    const names = problems.map((problem) => problem.split(":")[0]);
    expect(names.sort()).toEqual(
      [
        "PORT",
        "PUBLIC_URL",
        "DATABASE_URL",
        "REDIS_URL",
        "ADMIN_API_KEY",
        "SYNC_INTERVAL_SECONDS",
        "LOG_LEVEL",
        "STRIPE_CONNECT_URL",
        "ENCRYPTION_KEY",
      ].sort(),
    );
  });

  it("requires a 32-byte ENCRYPTION_KEY with DATABASE_URL", () => {
    expect(problemsOf({ DATABASE_URL: "postgres://db/x" })).toEqual([
      expect.stringMatching(/^ENCRYPTION_KEY: is required when DATABASE_URL is set/),
    ]);
    expect(problemsOf({ DATABASE_URL: "postgres://db/x", ENCRYPTION_KEY: "dG9vc2hvcnQ=" })).toEqual([
      "ENCRYPTION_KEY: must be 32 bytes, base64-encoded",
    ]);
    expect(loadConfig({ DATABASE_URL: "postgres://db/x", ENCRYPTION_KEY: KEY }).encryptionKey).toHaveLength(
      32,
    );
  });

  it("never echoes a rejected secret value", () => {
    const message = String(
      problemsOf({ ADMIN_API_KEY: "tooshort-secret", ENCRYPTION_KEY: "c2VjcmV0LXZhbHVl" }),
    );
    expect(message).not.toContain("tooshort-secret");
    expect(message).not.toContain("c2VjcmV0LXZhbHVl");
  });
});
