// The dashboard as a person uses it, in headless Chromium against the emulator: sign in, configure Stripe
// (each refusal beside its field), stripe-app.json out and back in, the webhook endpoint, connecting an
// account through Stripe's consent page, and a payout change arriving in the live feed without a reload.
// One browser and one tab for the whole file: each test goes on from where the one before left off.
import { readFile } from "node:fs/promises";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  accessibilityViolations,
  chromiumPath,
  launchChromium,
  screenshot,
  watchForProblems,
} from "../helpers/browser.ts";
import { type BrowserWorld, startBrowserWorld } from "../helpers/browser-world.ts";
import { databaseTargets } from "../helpers/databases.ts";

const WAIT = { timeout: 20_000 };

describe.skipIf(!chromiumPath).each(databaseTargets)("the dashboard in Chromium ($name)", (target) => {
  let world: BrowserWorld;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let apiKey: string;

  const field = (id: string) => page.locator(`#${id}`);
  const heading = (name: string) => page.getByRole("heading", { level: 1, name });
  const focusedId = () => page.evaluate(() => document.activeElement?.id ?? "");
  const openPage = async (name: string) => {
    await page.getByRole("navigation", { name: "Dashboard" }).getByRole("link", { name }).click();
    await heading(name).waitFor();
  };

  beforeAll(async () => {
    [world, browser] = await Promise.all([startBrowserWorld(target), launchChromium()]);
    apiKey = await world.createOrg("Browser Org");
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    page = await context.newPage();
    problems = watchForProblems(page, [world.url, world.emulator.url]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await world?.close();
  });

  it("signs in with the org's API key, kept in this tab's session storage and sent as a bearer header", async () => {
    await page.goto(`${world.url}/`);
    await field("api-key").waitFor();
    await screenshot(page, "dashboard-sign-in");
    expect(await accessibilityViolations(page)).toEqual([]);
    await field("api-key").fill("cgw_key_not_a_real_key_000000000000");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("#api-key-error").getByText("Unknown or revoked API key.").waitFor();
    expect(await field("api-key").getAttribute("aria-invalid")).toBe("true");

    const sent = page.waitForRequest((request) => request.url().endsWith("/graphql"));
    await page.getByLabel("Org API key").fill(apiKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    expect((await sent).headers().authorization).toBe(`Bearer ${apiKey}`);
    // Nothing is configured yet: the guide's first page.
    await heading("Stripe platform").waitFor();
    expect(page.url()).toBe(`${world.url}/#/platform`);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([apiKey]);
    expect(await context.cookies()).toEqual([]);
  });

  it("shows the values to copy and each refusal of setStripeConfig beside its field", async () => {
    const orgRow = await world.gateway.deps.db.prisma.org.findFirstOrThrow({
      where: { name: "Browser Org" },
    });
    expect(await field("redirect-uri").inputValue()).toBe(`${world.url}/stripe/proxy/${orgRow.id}/redirect`);
    expect(await field("org-id").inputValue()).toBe(orgRow.id);

    await field("clientId").fill("client-123");
    await field("secretKey").fill("pk_test_123");
    await field("defaultReturnUrl").fill("not a url");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Nothing was saved.").waitFor();
    for (const id of ["clientId", "secretKey", "defaultReturnUrl"]) {
      expect(await field(id).getAttribute("aria-invalid"), id).toBe("true");
      expect(await field(`${id}-error`).textContent(), id).not.toBe("");
      // The error is read out with its field.
      expect(await field(id).getAttribute("aria-describedby"), id).toContain(`${id}-error`);
    }
    expect(await focusedId()).toBe("clientId");
    await screenshot(page, "dashboard-platform-refused");
    expect(await accessibilityViolations(page)).toEqual([]);

    // Stripe does not answer the key check: saved all the same, with a warning that says so.
    const keys = world.emulator.emulator.platforms[0]!.keys.test;
    const { control } = world.emulator.emulator;
    control.injectFailure({ kind: "error", status: 503, count: 1_000, pathPrefix: "/v1/account" });
    await field("clientId").fill(keys.clientId);
    await field("secretKey").fill(keys.secretKey);
    await field("defaultReturnUrl").fill("");
    await page.getByRole("button", { name: "Save", exact: true }).click();
    await page.getByText("Saved.", { exact: true }).waitFor(WAIT);
    control.clearFailures();
    await page
      .locator(".warnings")
      .getByText(/saved without Stripe's check/)
      .waitFor();
    await page
      .locator("#secretKey-hint")
      .getByText(`Saved: ${keys.secretKey.slice(0, 8)}`)
      .waitFor();
    expect(await field("secretKey").inputValue()).toBe("");
    expect(await field("clientId").getAttribute("aria-invalid")).toBeNull();
    const config = await world.gateway.deps.db.prisma.stripeConfig.findUniqueOrThrow({
      where: { orgId: orgRow.id },
    });
    expect(config.clientId).toBe(keys.clientId);
  });

  it("downloads stripe-app.json and checks a dropped one", async () => {
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download stripe-app.json" }).click(),
    ]);
    expect(download.suggestedFilename()).toBe("stripe-app.json");
    const manifest = await readFile(await download.path(), "utf8");
    const redirectUri = await field("redirect-uri").inputValue();
    expect(JSON.parse(manifest)).toMatchObject({ allowed_redirect_uris: [redirectUri] });
    await page.getByRole("heading", { name: "Check an existing stripe-app.json" }).scrollIntoViewIfNeeded();

    // The file chooser, with the file just downloaded: nothing to fix.
    await page.getByLabel("Drop stripe-app.json here").setInputFiles({
      name: "stripe-app.json",
      mimeType: "application/json",
      buffer: Buffer.from(manifest),
    });
    await page.getByText("stripe-app.json: no problems found.").waitFor();

    // A file dropped on the zone, with the guide's mistakes.
    const broken = JSON.stringify({ ...JSON.parse(manifest), allowed_redirect_uris: [], permissions: [] });
    const dropped = await page.evaluateHandle((text) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([text], "broken-app.json", { type: "application/json" }));
      return transfer;
    }, broken);
    await page.dispatchEvent(".drop-zone", "drop", { dataTransfer: dropped });
    await page.getByText(/broken-app\.json: \d+ problems to fix\./).waitFor();
    expect(await page.locator(".problems li").count()).toBeGreaterThan(1);
    await screenshot(page, "dashboard-platform");
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it("takes a signing secret by hand, or registers the webhook endpoint with Stripe in one click", async () => {
    await openPage("Webhooks");
    const orgRow = await world.gateway.deps.db.prisma.org.findFirstOrThrow({
      where: { name: "Browser Org" },
    });
    const webhookUrl = `${world.url}/stripe/webhooks/${orgRow.id}`;
    expect(await field("webhook-url").inputValue()).toBe(webhookUrl);
    await page.getByText("Signing secret: not set").waitFor();
    await field("webhookSigningSecret").fill("whsec_typed_in_by_hand_0123456789");
    await page.getByRole("button", { name: "Save signing secret" }).click();
    await page.getByText("Signing secret: saved").waitFor();

    await page.getByRole("button", { name: "Register with Stripe" }).click();
    await page.getByText("Registered with Stripe.").waitFor(WAIT);
    const endpoints = world.emulator.emulator.control.info().webhook_endpoints as {
      id: string;
      url: string;
      connect: boolean;
    }[];
    expect(endpoints).toEqual([expect.objectContaining({ url: webhookUrl, connect: true })]);
    await page.locator(".registered").getByText(endpoints[0]!.id).waitFor();
    await screenshot(page, "dashboard-webhooks");
    expect(await accessibilityViolations(page)).toEqual([]);
  });

  it("connects an account through Stripe's consent page and shows it READY after its first sync", async () => {
    await openPage("Connections");
    await page.getByText("No Stripe account is connected yet.").waitFor();
    const account = world.emulator.emulator.accountIds[1]!;
    await page.getByRole("button", { name: "Connect a Stripe account" }).click();
    await page.waitForURL(`${world.emulator.url}/**`);
    await page.getByLabel("Account").selectOption(account);
    await page.getByRole("button", { name: "Approve" }).click();

    // Back on the dashboard, which says so and drops Stripe's parameters from the address.
    await page.getByText("Stripe account connected.").waitFor(WAIT);
    expect(page.url()).toBe(`${world.url}/#/connections`);
    const card = page.locator(".connection", { hasText: account });
    // The backfill keeps to Stripe's test-mode rate budget: give it time on a busy machine.
    await card.getByText("Ready", { exact: true }).waitFor({ timeout: 45_000 });
    await card.getByText(/Sync progress: \d+ of \d+ resources done/).click();
    expect(await card.locator("tbody tr").count()).toBeGreaterThan(3);
    await screenshot(page, "dashboard-connections");
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it("shows a payout change pushed by the emulator in the live feed, without a reload", async () => {
    await page.locator(".live-state", { hasText: "Live" }).waitFor(WAIT);
    await page.evaluate(() => {
      (window as { notReloaded?: boolean }).notReloaded = true;
    });
    const account = world.emulator.emulator.accountIds[1]!;
    const payout = world.emulator.emulator.control.createPayout(account, "test", { amount: 4_242 });
    const feed = page.getByRole("log", { name: "Payout and charge updates" });
    // first(): one state may be pushed more than once (an event per field that changed).
    const entries = feed.locator("li", { hasText: payout.id });
    await entries.getByText("pending", { exact: true }).first().waitFor(WAIT);
    world.clock.advance(2_000);
    world.emulator.emulator.control.payPayout(payout.id);
    await entries.getByText("paid", { exact: true }).first().waitFor(WAIT);
    // 4,242 in the smallest unit of the account's currency
    expect(await entries.first().textContent()).toMatch(/42\.42/);
    expect(await page.evaluate(() => (window as { notReloaded?: boolean }).notReloaded)).toBe(true);
    await screenshot(page, "dashboard-live-feed");
    expect(await accessibilityViolations(page)).toEqual([]);
  }, 60_000);

  it("is driven by keyboard: the skip link, the navigation, the focus on each new page's heading", async () => {
    await page.reload();
    await heading("Connections").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await focusedId()).toBe("main");
    await page.getByRole("link", { name: "Webhooks" }).focus();
    await page.keyboard.press("Enter");
    await heading("Webhooks").waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Webhooks");
    expect(await page.getByRole("link", { name: "Webhooks" }).getAttribute("aria-current")).toBe("page");
  });

  it("fits a phone's screen on every page", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    for (const name of ["Stripe platform", "Webhooks", "Connections"]) {
      await openPage(name);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, name).toBeLessThanOrEqual(0);
      await screenshot(page, `dashboard-phone-${name.toLowerCase().replace(" ", "-")}`);
    }
  });

  it("signs out, forgetting the key", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Org API key").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
  });

  it("loaded nothing from off the machine and broke none of its Content-Security-Policy", () => {
    expect(problems).toEqual([]);
  });
});
