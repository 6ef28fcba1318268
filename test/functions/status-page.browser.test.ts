/**
 * The status page in a real headless Chromium (Debian's, driven by playwright-core): the on-call opens it and
 * sees the stuck connector first, as Failing, with its error and how far behind it is. The page is served by
 * the status handler itself, behind a loopback HTTP server standing in for the Functions host.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import functions from "@azure/functions";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusHttp } from "../../src/functions/status.ts";
import { workerRuntime } from "../../src/functions/support/worker-runtime.ts";
import { useAzurite } from "../support/azurite.ts";
import { type AppEnv, startAppEnv } from "./app-env.ts";
import { seedConnector } from "./seed.ts";

const { HttpRequest } = functions;
const chromiumPath = "/usr/bin/chromium";
const hasChromium = existsSync(chromiumPath);
if (!hasChromium)
  console.warn(
    `Skipping the status page browser test: ${chromiumPath} is absent (apt-get install chromium).`,
  );
/** Left in the temp folder after the run, for a human (or a CI artifact step) to look at. */
const screenshotPath = path.join(tmpdir(), "ccp-poller-status-page.png");

const azurite = useAzurite();
let app: AppEnv | undefined;
let server: Server | undefined;
let port = 0;
let browser: BrowserContext | undefined;
let profileDir: string | undefined;

beforeAll(async () => {
  if (!hasChromium) return;
  app = await startAppEnv(azurite(), { now: "2026-01-01T06:00:00Z" });
  const { store } = await workerRuntime();
  await seedConnector(store, app.clock, { id: "okta-sso", committedThrough: "2026-01-01T05:55:00Z" });
  await seedConnector(store, app.clock, {
    id: "jira-audit",
    committedThrough: "2026-01-01T00:00:00Z",
    failures: {
      times: 4,
      at: "2026-01-01T05:55:00Z",
      error: new Error(
        "GET https://example.atlassian.net/rest/api/3/auditing/record returned HTTP 403: permission revoked",
      ),
    },
  });
  app.clock.set("2026-01-01T06:00:00Z");

  const env = app;
  server = createServer(async (req, res) => {
    const headers = Object.fromEntries(
      Object.entries(req.headers).flatMap(([name, value]) =>
        typeof value === "string" ? [[name, value]] : [],
      ),
    );
    const request = new HttpRequest({
      method: req.method ?? "GET",
      url: `http://127.0.0.1${req.url ?? "/"}`,
      headers,
    });
    const response = await statusHttp(request, env.context("status"));
    res.writeHead(response.status ?? 200, Object.fromEntries(new Headers(response.headers)));
    res.end(String(response.body));
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;

  profileDir = await mkdtemp(path.join(tmpdir(), "ccp-chromium-"));
  // A fresh, empty profile each run; Playwright takes it as the persistent context's folder.
  browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath,
    headless: true,
    viewport: { width: 1400, height: 600 },
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await app?.close();
  if (profileDir) await rm(profileDir, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)("status page in headless Chromium", () => {
  it("shows the stuck connector first, as Failing, with its error and its lag", async () => {
    const page = await (browser as BrowserContext).newPage();
    const response = await page.goto(`http://127.0.0.1:${port}/api/status`);
    expect(response?.headers()["content-type"]).toMatch(/^text\/html/);

    const lines = page.locator("tr.line");
    await expect.poll(() => lines.count()).toBe(2);
    const stuck = lines.first();
    expect(await stuck.getAttribute("data-connector")).toBe("jira-audit");
    const text = await stuck.textContent();
    expect(text).toContain("Failing");
    expect(text).toContain("HTTP 403: permission revoked");
    expect(text).toContain("6 h 0 min");
    expect(text).toMatch(/4 consecutive failed attempt/);
    // The badge is rendered red (a string: the project's types have no DOM library).
    const badgeColour = await page.evaluate(
      "getComputedStyle(document.querySelector('tr.line .badge')).backgroundColor",
    );
    expect(badgeColour).toBe("rgb(180, 35, 24)");
    expect(await lines.nth(1).textContent()).toContain("Healthy");
    expect(await page.title()).toBe("Failing · ccp-poller status");

    await page.screenshot({ path: screenshotPath, fullPage: true });
    const png = await readFile(screenshotPath);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.length).toBeGreaterThan(5_000);
    await page.close();
  });
});
