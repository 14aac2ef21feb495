// db.sql, the few statements without the ORM (a connection's idle poll): its timestamps are the same UTC
// instants Prisma reads and writes, whatever the process's time zone.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { databaseTargets } from "../helpers/databases.ts";
import { startTestGateway, type TestGateway } from "../helpers/gateway.ts";

describe.each(databaseTargets)("db.sql on $name", (target) => {
  let gateway: TestGateway;
  const zone = process.env.TZ;
  beforeAll(async () => {
    gateway = await startTestGateway(target);
    process.env.TZ = "Pacific/Auckland"; // far from UTC: a local-time reading would be off by hours
  });
  afterAll(async () => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
    await gateway?.close();
  });

  it("writes and reads timestamp columns as the instants Prisma writes and reads", async () => {
    const { prisma, sql } = gateway.deps.db;
    const created = new Date("2026-03-01T10:20:30.456Z");
    await prisma.org.create({ data: { id: "org_sql_zone", name: "Zone", createdAt: created } });
    const [read] = await sql<{ createdAt: Date }>(`SELECT "createdAt" FROM "Org" WHERE "id" = $1`, [
      "org_sql_zone",
    ]);
    expect(read!.createdAt.toISOString()).toBe(created.toISOString());

    const updated = new Date("2026-07-04T23:59:58.001Z");
    await sql(`UPDATE "Org" SET "updatedAt" = $1 WHERE "id" = $2`, [updated, "org_sql_zone"]);
    const org = await prisma.org.findUniqueOrThrow({ where: { id: "org_sql_zone" } });
    expect(org.updatedAt.toISOString()).toBe(updated.toISOString());
  });

  it("is seen by the query listeners like any statement", async () => {
    const seen: string[] = [];
    const stop = gateway.deps.db.onQuery((statement) => seen.push(statement));
    await gateway.deps.db.sql("SELECT 1 AS one");
    stop();
    expect(seen).toEqual(["SELECT 1 AS one"]);
  });
});
