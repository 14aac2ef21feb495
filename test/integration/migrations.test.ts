import { createHash } from "node:crypto";
import { cp, mkdir, mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../../src/db/client.ts";
import { createScratchDatabase, databaseTargets } from "../helpers/databases.ts";

const MIGRATIONS = path.resolve("prisma/migrations");

type Row = {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  applied_steps_count: number;
};

describe.each(databaseTargets)("start-up migrations on $name", (target) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A new, empty database on the target. */
  async function freshLocation(): Promise<{ connection: string; kind: "postgres" }> {
    const scratch = await createScratchDatabase(target, { empty: true });
    cleanups.push(scratch.drop);
    return { connection: scratch.url, kind: "postgres" };
  }

  async function open(location: { connection: string; kind: "postgres" }, migrationsDir = MIGRATIONS) {
    const db = await openDatabase({ ...location, migrationsDir });
    cleanups.push(() => db.close());
    return db;
  }

  const recorded = (db: Database) =>
    db.prisma.$queryRawUnsafe<Row[]>(
      `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
    );

  it("migrates a fresh database and records each migration as prisma migrate deploy does", async () => {
    const db = await open(await freshLocation());
    const names = (await readdir(MIGRATIONS, { withFileTypes: true }))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    const rows = await recorded(db);
    expect(rows.map((row) => row.migration_name)).toEqual(names.sort());
    for (const row of rows) {
      const sql = await readFile(path.join(MIGRATIONS, row.migration_name, "migration.sql"));
      expect(row.checksum).toBe(createHash("sha256").update(sql).digest("hex"));
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
    }
    expect(await db.prisma.org.count()).toBe(0);
  });

  it("applies nothing twice on restart", async () => {
    const location = await freshLocation();
    const first = await open(location);
    const before = await recorded(first);
    await first.close();
    cleanups.pop();
    const second = await open(location);
    expect(await recorded(second)).toEqual(before);
  });

  it("refuses to start on a failed migration, naming it, now and on the next start", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gw-migs-"));
    await cp(MIGRATIONS, dir, { recursive: true });
    await mkdir(path.join(dir, "29990101000000_broken"));
    await writeFile(
      path.join(dir, "29990101000000_broken", "migration.sql"),
      "ALTER TABLE nope ADD COLUMN x int;",
    );
    const location = await freshLocation();
    await expect(openDatabase({ ...location, migrationsDir: dir })).rejects.toThrow(
      /migration 29990101000000_broken failed: .*nope/,
    );
    await expect(openDatabase({ ...location, migrationsDir: dir })).rejects.toThrow(
      /migration 29990101000000_broken failed earlier/,
    );
  });

  it("lets two instances start at once on one database", async () => {
    const location = await freshLocation();
    const [a, b] = await Promise.all([open(location), open(location)]);
    const rows = await recorded(a);
    expect(new Set(rows.map((row) => row.migration_name)).size).toBe(rows.length);
    expect(await b.prisma.org.count()).toBe(0);
  });
});
