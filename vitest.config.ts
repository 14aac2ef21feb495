import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  // Node loads graphql's CommonJS build for Yoga and Pothos; Vite would pick the ESM one for our own
  // files, and two copies of GraphQLError break instanceof checks. Use Node's copy everywhere.
  resolve: { alias: { graphql: require.resolve("graphql") } },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Most of a test's time is waiting (the gateway's Stripe rate budget, emulator latency, real HTTP),
    // not CPU: on 2 cores, 4 workers finished a sample of integration files in 33 s, 2 in 47 s, 1 in 81 s.
    maxWorkers: 4,
    // One embedded PostgreSQL cluster per run, and a migrated template database that each test gateway copies.
    // And the dashboard built (src/dashboard/build.ts), for the gateways that serve it.
    globalSetup: ["test/setup/test-databases.ts", "test/setup/dashboard-build.ts"],
  },
});
