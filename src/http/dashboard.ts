import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Context } from "hono";
import { currentDashboardBuild, DASHBOARD_ASSETS_PATH, listFiles } from "../dashboard/location.ts";
import { renderPage } from "./html-page.ts";
import { CACHE_FOREVER, CACHE_REVALIDATE, contentType, fileResponse } from "./static-files.ts";

/**
 * What the dashboard's page may do: run and style itself from the gateway's own files, talk to /graphql
 * (HTTP and SSE), show its icon. No inline script or style, no frame may show it, no form posts anywhere.
 */
export const DASHBOARD_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

type LoadedFile = { body: Uint8Array<ArrayBuffer>; type: string; etag: string };
type LoadedBuild = { hash: string; files: ReadonlyMap<string, LoadedFile> };

async function loadBuild(build: { dir: string; hash: string }): Promise<LoadedBuild> {
  const files = new Map<string, LoadedFile>();
  for (const file of await listFiles(build.dir)) {
    const body = new Uint8Array(await readFile(file));
    const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
    files.set(path.relative(build.dir, file).split(path.sep).join("/"), {
      body,
      type: contentType(file),
      etag,
    });
  }
  return { hash: build.hash, files };
}

/**
 * GET / (the dashboard's page) and GET /dashboard/* (its built files), from the build that
 * src/dashboard/build.ts made (`npm start` builds it at start-up). The build is read into memory once;
 * the page looks for a newer build on each load, so that `npm run build:dashboard` shows without a restart.
 */
export function createDashboardRoutes() {
  let loaded: Promise<LoadedBuild | null> | null = null;

  const refresh = async (): Promise<LoadedBuild | null> => {
    const build = await currentDashboardBuild();
    const before = await loaded;
    if (!build) return before ?? null;
    if (before?.hash === build.hash) return before;
    loaded = loadBuild(build).catch(() => before ?? null);
    return loaded;
  };

  return {
    page: async (c: Context) => {
      const build = await refresh();
      const page = build?.files.get("index.html");
      if (!page) {
        return c.html(
          renderPage(
            "The dashboard is not built yet",
            "npm start builds it when it starts; or run `npm run build:dashboard`, then reload this page.",
          ),
          503,
        );
      }
      return fileResponse(c.req.raw, page, CACHE_REVALIDATE, {
        "content-security-policy": DASHBOARD_CONTENT_SECURITY_POLICY,
      });
    },
    asset: async (c: Context) => {
      const build = await (loaded ?? refresh());
      const name = c.req.path.slice(DASHBOARD_ASSETS_PATH.length);
      const file = name === "index.html" ? undefined : build?.files.get(name);
      if (!file) return c.notFound();
      // Vite names what it emits under assets/ by content hash; the rest (the icon) keeps its name.
      return fileResponse(c.req.raw, file, name.startsWith("assets/") ? CACHE_FOREVER : CACHE_REVALIDATE);
    },
  };
}
