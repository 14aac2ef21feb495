import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { type App, createApp } from "../../src/app.ts";
import { type Env, loadConfig } from "../../src/config.ts";
import { createDeps, type Deps, type DepsOverrides } from "../../src/deps.ts";
import { createLogger } from "../../src/logger.ts";
import { createScratchDatabase, type DatabaseTarget } from "./databases.ts";

export const ADMIN_KEY = "test-admin-key-0123456789abcdef";

export type GraphQLResult<T> = {
  data?: T | null;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
};

export type TestGateway = {
  app: App;
  deps: Deps;
  /** Every log line written so far, as raw JSON text. */
  logs(): string;
  /** POSTs a typed document to /graphql with an optional API key. */
  gql<T, V>(
    document: TypedDocumentNode<T, V>,
    variables?: V,
    apiKey?: string | null,
  ): Promise<GraphQLResult<T> & { status: number }>;
  close(): Promise<void>;
};

/** The real app, in-process, on a fresh database of the given target, with its logs captured. */
export async function startTestGateway(
  target: DatabaseTarget,
  env: Env = {},
  overrides: Omit<DepsOverrides, "logger" | "databaseRole"> = {},
): Promise<TestGateway> {
  // env.DATABASE_URL joins an existing database (a second instance); otherwise each gateway gets a new one
  const scratch = env.DATABASE_URL ? null : await createScratchDatabase(target);
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const config = loadConfig({
    NODE_ENV: "test",
    PUBLIC_URL: "https://gateway.test",
    ADMIN_API_KEY: ADMIN_KEY,
    DATA_DIR: `/tmp/gateway-test-${randomBytes(4).toString("hex")}`,
    ...(scratch ? { DATABASE_URL: scratch.url } : {}),
    LOG_LEVEL: "debug",
    ...env,
    ENCRYPTION_KEY: env.ENCRYPTION_KEY ?? randomBytes(32).toString("base64"),
  });
  const logger = createLogger({ level: "debug", destination });
  const deps = await createDeps(config, { logger, queryEvents: true, ...overrides }).catch(
    async (error: unknown) => {
      await scratch?.drop();
      throw error;
    },
  );
  const app = createApp(deps);
  return {
    app,
    deps,
    logs: () => lines.join(""),
    gql: async (document, variables, apiKey) => {
      const response = await app.fetch(
        new Request("http://gateway.test/graphql", {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
          },
          body: JSON.stringify({ query: print(document), variables }),
        }),
      );
      return { status: response.status, ...((await response.json()) as GraphQLResult<never>) };
    },
    close: async () => {
      try {
        await deps.close();
      } finally {
        await scratch?.drop();
      }
    },
  };
}
