// The dashboard's browser code (web/) built by Vite into build/dashboard/<hash of its inputs>/, on demand:
// `npm start`, the demo and the test run call buildDashboard() before serving, and inputs that have not
// changed since the last build cost one hash of them. A build is written to a temporary folder and renamed
// into place, so that two processes building at once never serve half a build.
import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Logger } from "../logger.ts";
import {
  DASHBOARD_ASSETS_PATH,
  DASHBOARD_BUILD_DIR,
  DASHBOARD_CURRENT_FILE,
  DASHBOARD_SOURCE_DIR,
  fileExists,
  isBuildName,
  listFiles,
} from "./location.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
// This file by its place in the source tree: `npm start` runs it bundled into build/server/main.mjs, whose
// own name would give every source change a new hash (and a rebuild).
const THIS_FILE = path.join(ROOT, "src", "dashboard", "build.ts");

export type DashboardBuild = { dir: string; hash: string; built: boolean; ms: number };

/** Everything the bundle depends on: web/ (generated documents included), this file, the locked versions. */
async function inputsHash(): Promise<string> {
  const hash = createHash("sha256");
  const inputs = [
    ...(await listFiles(DASHBOARD_SOURCE_DIR)),
    THIS_FILE,
    path.join(ROOT, "package-lock.json"),
  ];
  for (const file of inputs) {
    hash.update(path.relative(ROOT, file)).update("\0");
    hash.update(await readFile(file).catch(() => Buffer.alloc(0))).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}

/** Builds the dashboard unless a build of the same inputs is there; returns the build to serve. */
export async function buildDashboard(): Promise<DashboardBuild> {
  const started = performance.now();
  const hash = await inputsHash();
  const dir = path.join(DASHBOARD_BUILD_DIR, hash);
  const elapsed = () => Math.round(performance.now() - started);
  if (await fileExists(path.join(dir, "index.html"))) {
    await writeCurrent(hash);
    return { dir, hash, built: false, ms: elapsed() };
  }
  const temporary = path.join(DASHBOARD_BUILD_DIR, `.tmp-${hash}-${randomBytes(4).toString("hex")}`);
  try {
    await viteBuild(temporary);
    await rename(temporary, dir).catch(async (error: NodeJS.ErrnoException) => {
      // Another process finished the same build first: keep its copy.
      if (error.code !== "ENOTEMPTY" && error.code !== "EEXIST") throw error;
    });
  } finally {
    await rm(temporary, { recursive: true, force: true });
  }
  await writeCurrent(hash);
  await removeOtherBuilds(hash);
  return { dir, hash, built: true, ms: elapsed() };
}

async function writeCurrent(hash: string): Promise<void> {
  if ((await readFile(DASHBOARD_CURRENT_FILE, "utf8").catch(() => "")).trim() === hash) return;
  const temporary = `${DASHBOARD_CURRENT_FILE}.${randomBytes(4).toString("hex")}`;
  await writeFile(temporary, `${hash}\n`);
  await rename(temporary, DASHBOARD_CURRENT_FILE);
}

async function removeOtherBuilds(keep: string): Promise<void> {
  const entries = await readdir(DASHBOARD_BUILD_DIR, { withFileTypes: true });
  await Promise.all(
    entries
      .filter((entry) => entry.isDirectory() && isBuildName(entry.name) && entry.name !== keep)
      .map((entry) => rm(path.join(DASHBOARD_BUILD_DIR, entry.name), { recursive: true, force: true })),
  );
}

async function viteBuild(outDir: string): Promise<void> {
  await mkdir(DASHBOARD_BUILD_DIR, { recursive: true });
  // Loaded only to build: serving a finished build needs no Vite.
  const { build } = await import("vite");
  await build({
    configFile: false,
    root: DASHBOARD_SOURCE_DIR,
    base: DASHBOARD_ASSETS_PATH,
    logLevel: "warn",
    clearScreen: false,
    // Its own cache, away from Vitest's.
    cacheDir: path.join(ROOT, "build", ".vite"),
    oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
    build: {
      outDir,
      emptyOutDir: true,
      target: "es2022",
      // Every asset a file of its own: the page's policy allows 'self', not data: URLs.
      assetsInlineLimit: 0,
      // The polyfill would be an inline script, which the policy refuses.
      modulePreload: { polyfill: false },
      reportCompressedSize: false,
    },
  });
}

/**
 * What `npm start` and the demo do before serving: build the dashboard if its inputs changed. A failed build
 * is logged and leaves the API up; `/` then says the dashboard is not built.
 */
export async function prepareDashboard(logger: Pick<Logger, "info" | "error">): Promise<void> {
  try {
    const result = await buildDashboard();
    if (result.built) logger.info({ ms: result.ms, dir: result.dir }, "dashboard built");
  } catch (error) {
    logger.error({ err: error }, "dashboard build failed: `npm run build:dashboard` shows why");
  }
}
