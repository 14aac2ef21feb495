import { readFile, unlink, writeFile } from "node:fs/promises";

/**
 * PGlite is a single-process database: a second process opening the same directory corrupts it. A pid
 * file next to the directory keeps a second gateway or CLI out; a stale one (dead pid) is taken over.
 */
export async function lockDataDir(dir: string): Promise<() => Promise<void>> {
  const file = `${dir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, String(process.pid), { flag: "wx" });
      return () => unlink(file).catch(() => {});
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const pid = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (pid && pid !== process.pid && isAlive(pid)) {
        throw new Error(
          `the embedded database ${dir} is in use by process ${pid} (a running gateway?). ` +
            "Stop it first, or call the running gateway's GraphQL API instead.",
        );
      }
      await unlink(file).catch(() => {});
    }
  }
  throw new Error(`could not lock the embedded database ${dir}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
