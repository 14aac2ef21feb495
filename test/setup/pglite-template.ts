// Vitest globalSetup: migrates one in-memory PGlite database once per run and leaves its data directory
// as a tarball; every embedded test gateway starts from a copy of it (test/helpers/gateway.ts) instead of
// running initdb and the migrations again (about a second per gateway).
import { randomBytes } from "node:crypto";
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { TestProject } from "vitest/node";
import { applyMigrations } from "../../src/db/migrate.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Path of a migrated PGlite data directory tarball (dumpDataDir, uncompressed). */
    pgliteTemplate: string;
  }
}

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../prisma/migrations");

export default async function setup(project: TestProject) {
  const file = path.join(tmpdir(), `gateway-pglite-template-${randomBytes(4).toString("hex")}.tar`);
  const pglite = new PGlite("memory://");
  try {
    await applyMigrations(
      {
        script: async (sql) => void (await pglite.exec(sql)),
        query: async (sql, params = []) =>
          (await pglite.query(sql, params, { rowMode: "array" })).rows as never,
      },
      MIGRATIONS_DIR,
      () => {},
    );
    // Uncompressed: loading it is ~350 ms where gzip costs another ~150 ms per database.
    const dump = await pglite.dumpDataDir("none");
    await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  } finally {
    await pglite.close();
  }
  project.provide("pgliteTemplate", file);
  return async () => {
    await rm(file, { force: true });
  };
}
