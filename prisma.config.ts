// Prisma CLI config. Offline, run the CLI as `npm run prisma:offline -- <command>` (uses the WASM engine shim
// in tools/); with internet, `npx prisma migrate deploy|status` uses the native engine on the same files.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "pglite:memory" },
});
