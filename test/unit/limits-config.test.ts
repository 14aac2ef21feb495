import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.ts";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("query limits, production mode and CORS in the config", () => {
  it("has the documented defaults: introspection outside production only, no CORS origin", () => {
    expect(loadConfig({}).graphql).toEqual({
      maxDepth: 12,
      maxAliases: 20,
      maxTokens: 1000,
      maxDirectives: 50,
      maxCost: 25_000,
      maxBodyBytes: 100_000,
      introspection: true,
    });
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({ NODE_ENV: "production" }).graphql.introspection).toBe(false);
    expect(loadConfig({ NODE_ENV: "production", GRAPHQL_INTROSPECTION: "true" }).graphql.introspection).toBe(
      true,
    );
    expect(loadConfig({ GRAPHQL_INTROSPECTION: "false" }).graphql.introspection).toBe(false);
  });

  it("takes each limit from its variable", () => {
    const config = loadConfig({
      GRAPHQL_MAX_DEPTH: "8",
      GRAPHQL_MAX_ALIASES: "0",
      GRAPHQL_MAX_TOKENS: "500",
      GRAPHQL_MAX_DIRECTIVES: "5",
      GRAPHQL_MAX_COST: "1000",
      GRAPHQL_MAX_BODY_BYTES: "2048",
    });
    expect(config.graphql).toMatchObject({
      maxDepth: 8,
      maxAliases: 0,
      maxTokens: 500,
      maxDirectives: 5,
      maxCost: 1000,
      maxBodyBytes: 2048,
    });
  });

  it("reads CORS_ORIGINS as origins, the way browsers send them", () => {
    const config = loadConfig({
      CORS_ORIGINS: " https://App.Example.com/ ,http://localhost:5173,https://a.example:443",
    });
    expect(config.corsOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
      "https://a.example",
    ]);
  });

  it("refuses what is not an origin and limits that are not counts, naming each variable", () => {
    const problems = problemsOf({
      CORS_ORIGINS: "*,https://app.example.com/path,app.example.com,ftp://files.example",
      GRAPHQL_MAX_DEPTH: "0",
      GRAPHQL_MAX_COST: "lots",
      GRAPHQL_INTROSPECTION: "yes",
    });
    expect(problems).toEqual(
      expect.arrayContaining([
        'CORS_ORIGINS: "*" is not an origin: scheme://host[:port], no path',
        'CORS_ORIGINS: "https://app.example.com/path" is not an origin: scheme://host[:port], no path',
        'CORS_ORIGINS: "app.example.com" is not an origin: scheme://host[:port], no path',
        'CORS_ORIGINS: "ftp://files.example" is not an origin: scheme://host[:port], no path',
        "GRAPHQL_INTROSPECTION: must be true or false",
      ]),
    );
    expect(problems.some((problem) => problem.startsWith("GRAPHQL_MAX_DEPTH:"))).toBe(true);
    expect(problems.some((problem) => problem.startsWith("GRAPHQL_MAX_COST:"))).toBe(true);
  });
});
