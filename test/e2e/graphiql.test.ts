// GraphiQL in headless Chromium with every request off the gateway refused (as on a machine without
// internet): its scripts, styles and Monaco's workers come from the gateway, and it runs a query.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GRAPHIQL_ASSETS_PATH } from "../../src/graphql/graphiql.ts";
import { chromiumPath, launchChromium, screenshot, watchForProblems } from "../helpers/browser.ts";
import { type BrowserWorld, startBrowserWorld } from "../helpers/browser-world.ts";
import { databaseTargets } from "../helpers/databases.ts";

describe.skipIf(!chromiumPath)("GraphiQL, offline", () => {
  let world: BrowserWorld;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  const refused: string[] = [];
  const served: { url: string; status: number }[] = [];

  beforeAll(async () => {
    [world, browser] = await Promise.all([startBrowserWorld(databaseTargets[0]!), launchChromium()]);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    // No internet: whatever is not the gateway fails, as a CDN would.
    await context.route("**/*", (route) => {
      if (route.request().url().startsWith(world.url)) return route.continue();
      refused.push(route.request().url());
      return route.abort("internetdisconnected");
    });
    page = await context.newPage();
    page.on("response", (response) => served.push({ url: response.url(), status: response.status() }));
    problems = watchForProblems(page, [world.url]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("loads from the gateway's own files and runs a query", async () => {
    await page.goto(`${world.url}/graphql?query=${encodeURIComponent("{ __typename }")}`);
    const run = page.getByRole("button", { name: /Execute query/ });
    await run.waitFor({ timeout: 20_000 });
    await run.click();
    await page.locator(".graphiql-response").getByText('"Query"').waitFor({ timeout: 20_000 });
    await screenshot(page, "graphiql");

    const assets = served.filter(({ url }) => url.startsWith(`${world.url}${GRAPHIQL_ASSETS_PATH}`));
    // The bundle, its styles and the three Monaco workers, every one answered.
    expect(assets.map(({ url }) => url.split("/").pop()).sort()).toEqual(
      expect.arrayContaining([
        "editor.worker.bundle.js",
        "graphiql.css",
        "graphql.worker..bundle.js",
        "json.worker.bundle.js",
        "yoga-graphiql.umd.js",
      ]),
    );
    expect(assets.filter(({ status }) => status !== 200)).toEqual([]);
    expect(refused).toEqual([]);
    expect(problems).toEqual([]);
  }, 60_000);
});
