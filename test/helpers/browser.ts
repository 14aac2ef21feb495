// Headless Chromium for the browser tests: Debian's `chromium` (apt-get install -y chromium), driven by
// playwright-core; never a browser Playwright downloads. Without one the browser tests are skipped, loudly.
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { type Browser, chromium, type Page } from "playwright-core";

const ROOT = path.resolve(import.meta.dirname, "../..");
/** Screenshots of each page (gitignored). */
export const SCREENSHOT_DIR = path.join(ROOT, "test-results");

/** CHROMIUM_PATH, else Debian's. */
export const chromiumPath =
  [process.env.CHROMIUM_PATH, "/usr/bin/chromium"].find((file) => file && existsSync(file)) ?? null;

if (!chromiumPath) {
  console.warn(
    "\n!!! No Chromium at /usr/bin/chromium (apt-get install -y chromium; or set CHROMIUM_PATH): the browser tests are SKIPPED (.ci/run installs it).\n",
  );
}

/**
 * Starts Chromium headless. Playwright gives each launch a fresh, empty profile (its own --user-data-dir);
 * the flags keep Chromium off the network it would otherwise try at start (updates, sync, first-run pages).
 */
export async function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error("no Chromium: the suite should have skipped");
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/** Writes test-results/<name>.png: the whole page as a person sees it. */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage: true });
}

/**
 * Fails the test on anything the page should never do: a request off the machine (the pages must work
 * offline), a Content-Security-Policy violation, an uncaught error. Returns the list to assert empty.
 */
export function watchForProblems(page: Page, origins: readonly string[]): string[] {
  const problems: string[] = [];
  page.on("pageerror", (error) => problems.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content.Security.Policy|Refused to/i.test(message.text())) {
      problems.push(`csp: ${message.text()}`);
    }
  });
  page.on("request", (request) => {
    const url = request.url();
    if (/^(data|blob):/.test(url)) return;
    if (!origins.some((origin) => url.startsWith(origin))) problems.push(`off-site request: ${url}`);
  });
  return problems;
}

const AXE_SOURCE = createRequire(import.meta.url).resolve("axe-core/axe.min.js");

/**
 * The page's WCAG 2.1 A/AA violations, as axe-core finds them ("rule: selectors"). axe is evaluated through
 * the DevTools protocol, which the page's Content-Security-Policy does not govern.
 */
export async function accessibilityViolations(page: Page): Promise<string[]> {
  const loaded = await page.evaluate(() => "axe" in window);
  if (!loaded) await page.evaluate(await readFile(AXE_SOURCE, "utf8"));
  return page.evaluate(async () => {
    const { axe } = window as unknown as {
      axe: {
        run(options: object): Promise<{ violations: { id: string; nodes: { target: string[] }[] }[] }>;
      };
    };
    const { violations } = await axe.run({
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return violations.map((v) => `${v.id}: ${v.nodes.map((node) => node.target.join(" ")).join(", ")}`);
  });
}
