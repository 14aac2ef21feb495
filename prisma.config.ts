// Prisma CLI config. Offline, the CLI's database commands run on the WASM schema engine through the shim in
// tools/: `PRISMA_SCHEMA_ENGINE_BINARY="$PWD/tools/prisma-schema-engine.mjs" npx prisma migrate status`
// (`npm run db:generate` sets it too); with internet, `npx prisma migrate deploy|status` uses the native engine
// on the same files. To author or check migrations, use `npm run db:new -- <name>` / `npm run db:check`: they
// start their own temporary embedded PostgreSQL and need no DATABASE_URL.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  // No default: the gateway's embedded cluster runs only beside a gateway (on a Unix socket in DATA_DIR, with
  // generated credentials), and a guessed server could be someone else's. Without DATABASE_URL, `generate`
  // works (it needs no database) and the database commands stop with Prisma's "datasource.url is required".
  datasource: { url: process.env.DATABASE_URL },
});
