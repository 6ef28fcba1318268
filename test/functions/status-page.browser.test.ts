/**
 * The status page in a real headless Chromium (Debian's, driven by playwright-core): the on-call opens it and
 * sees the stuck connector first, as Failing, with its error and how far behind it is, and every connector's
 * last 14 days drawn from the hourly activity its row keeps. The page is served by the status handler itself,
 * behind a loopback HTTP server standing in for the Functions host; nothing may load from anywhere else.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import functions from "@azure/functions";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { statusHttp } from "../../src/functions/status.ts";
import { workerRuntime } from "../../src/functions/support/worker-runtime.ts";
import {
  type Activity,
  activityHours,
  hourMs,
  noActivity,
  recordActivity,
} from "../../src/state/activity.ts";
import { silentDropRule } from "../../src/state/index.ts";
import { emptyRow } from "../../src/state/row.ts";
import { renderStatusHtml } from "../../src/status/html.ts";
import { buildStatusPage } from "../../src/status/page.ts";
import { useAzurite } from "../support/azurite.ts";
import { type AppEnv, startAppEnv } from "./app-env.ts";
import { type SeededCommit, seedConnector } from "./seed.ts";

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

const now = Date.parse("2026-01-15T06:00:00Z");
/** Busy by day, quiet at night, never the same twice, so every bar has its own height. */
const usualVolume = (at: Date) =>
  (at.getUTCHours() >= 8 && at.getUTCHours() < 20 ? 600 : 120) + (Math.floor(at.getTime() / hourMs) % 17);

/** A commit at minute `minute` of every hour over the 14 days up to 06:00, `accepted` events each. */
function hourlyCommits(minute: number, lagMinutes: number, accepted: (at: Date) => number): SeededCommit[] {
  return Array.from({ length: activityHours - 1 }, (_, i) => {
    const at = new Date(now - (activityHours - 1 - i) * hourMs + minute * 60_000);
    return { at, accepted: accepted(at), lagMinutes };
  });
}

const seeded = {
  // Healthy: its usual volume every hour, 2 minutes behind.
  "okta-sso": hourlyCommits(57, 2, usualVolume),
  // Healthy, runs every hour, but has accepted nothing since 02:00: the silent drop.
  "github-audit": hourlyCommits(57, 2, (at) => (at.getTime() >= now - 4 * hourMs ? 0 : usualVolume(at))),
  // Its usual volume until midnight, then failing: four failed attempts at 05:55, 355 minutes behind.
  "jira-audit": hourlyCommits(0, 0, usualVolume).filter((commit) => commit.at.getTime() <= now - 6 * hourMs),
};
const jiraFailedAt = new Date("2026-01-15T05:55:00Z");

beforeAll(async () => {
  if (!hasChromium) return;
  app = await startAppEnv(azurite(), { now: new Date(now).toISOString() });
  const { store } = await workerRuntime();
  await seedConnector(store, app.clock, { id: "okta-sso", commits: seeded["okta-sso"] });
  await seedConnector(store, app.clock, { id: "github-audit", commits: seeded["github-audit"] });
  await seedConnector(store, app.clock, {
    id: "jira-audit",
    commits: seeded["jira-audit"],
    failures: {
      times: 4,
      at: jiraFailedAt.toISOString(),
      error: new Error(
        "GET https://example.atlassian.net/rest/api/3/auditing/record returned HTTP 403: permission revoked",
      ),
    },
  });
  app.clock.set(new Date(now));

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

/** One `<rect>` of a chart as Chromium lays it out. */
interface Bar {
  title: string;
  height: number;
  kind: string;
  width: number;
}

const barsOf = async (page: Page, id: string) =>
  (await page.evaluate(
    `[...document.querySelectorAll('tr[data-connector="${id}"] svg.chart rect')].map((rect) => ({ title: rect.querySelector("title").textContent, height: Number(rect.getAttribute("height")), kind: rect.getAttribute("class") ?? "", width: rect.getBBox().width }))`,
  )) as Bar[];

const slotMs = 6 * hourMs;

/** What each 6-hour bar should say, worked out from the seeded writes: the 56 slots up to the current one. */
function expectedBars(writes: readonly SeededCommit[]) {
  const last = Math.floor(now / slotMs) * slotMs;
  return Array.from({ length: 56 }, (_, i) => {
    const start = last - (55 - i) * slotMs;
    const inSlot = writes.filter((w) => w.at.getTime() >= start && w.at.getTime() < start + slotMs);
    const iso = new Date(start).toISOString();
    const end = String(new Date(start + slotMs).getUTCHours() || 24).padStart(2, "0");
    const when = `${iso.slice(0, 10)} ${iso.slice(11, 13)}–${end} UTC`;
    if (inSlot.length === 0) return { accepted: null, title: `${when}: nothing ran` };
    const accepted = inSlot.reduce((sum, w) => sum + w.accepted, 0);
    const lag = Math.max(...inSlot.map((w) => w.lagMinutes));
    const lagText = lag < 120 ? `${lag} min` : `${Math.floor(lag / 60)} h ${lag % 60} min`;
    return {
      accepted,
      title: `${when}: ${accepted.toLocaleString("en-US")} events accepted, lag up to ${lagText}`,
    };
  });
}

function expectBarsToMatch(bars: readonly Bar[], writes: readonly SeededCommit[]): void {
  const expected = expectedBars(writes);
  expect(bars.map((bar) => bar.title)).toEqual(expected.map((slot) => slot.title));
  const peak = Math.max(...expected.map((slot) => slot.accepted ?? 0));
  expected.forEach((slot, i) => {
    const bar = bars[i] as Bar;
    expect(bar.width, bar.title).toBe(4);
    if (slot.accepted === null) expect([bar.kind, bar.height], bar.title).toEqual(["none", 2]);
    else if (slot.accepted === 0) expect([bar.kind, bar.height], bar.title).toEqual(["zero", 2]);
    // In proportion to the busiest bar, 32 px high; never under 2 px, so it can be hovered.
    else
      expect(Math.abs(bar.height - Math.max(2, (slot.accepted / peak) * 32)), bar.title).toBeLessThanOrEqual(
        0.5,
      );
  });
}

describe.skipIf(!hasChromium)("status page in headless Chromium", () => {
  it("shows the stuck connector first and every connector's last 14 days, fetching nothing beyond 127.0.0.1", async () => {
    const context = browser as BrowserContext;
    const requested: string[] = [];
    // Every request the page makes passes here: loopback is served, anything else is refused and kept.
    await context.route("**/*", (route) => {
      requested.push(route.request().url());
      return new URL(route.request().url()).hostname === "127.0.0.1" ? route.continue() : route.abort();
    });
    const page = await context.newPage();
    const response = await page.goto(`http://127.0.0.1:${port}/api/status`);
    expect(response?.headers()["content-type"]).toMatch(/^text\/html/);

    const lines = page.locator("tr.line");
    await expect.poll(() => lines.count()).toBe(3);
    const stuck = lines.first();
    expect(await stuck.getAttribute("data-connector")).toBe("jira-audit");
    const text = await stuck.textContent();
    expect(text).toContain("Failing");
    expect(text).toContain("HTTP 403: permission revoked");
    expect(text).toContain("6 h 0 min");
    expect(text).toMatch(/4 consecutive failed attempt/);
    expect(text).toContain("last data 2026-01-15 00:00:00 UTC");
    // The badge is rendered red (a string: the project's types have no DOM library).
    const badgeColour = await page.evaluate(
      "getComputedStyle(document.querySelector('tr.line .badge')).backgroundColor",
    );
    expect(badgeColour).toBe("rgb(180, 35, 24)");
    expect(await page.title()).toBe("Failing · ccp-poller status");

    // The silent drop comes before the other Healthy connector, marked, with the rule stated on the page.
    const silent = await lines.nth(1).textContent();
    expect(await lines.nth(1).getAttribute("data-connector")).toBe("github-audit");
    expect(silent).toContain("Silent drop");
    expect(silent).toMatch(
      /0 events accepted in the last 3 full hours; usually \d+ \(median of 13 previous days\)/,
    );
    expect(silent).toContain("last data 2026-01-15 01:57:00 UTC");
    const healthy = await lines.nth(2).textContent();
    expect(healthy).toContain("Healthy");
    expect(healthy).not.toContain("Silent drop");
    expect(healthy).toContain("last data 2026-01-15 05:57:00 UTC");
    expect(await page.locator(".legend").textContent()).toContain(silentDropRule);

    expectBarsToMatch(await barsOf(page, "okta-sso"), seeded["okta-sso"]);
    expectBarsToMatch(await barsOf(page, "github-audit"), seeded["github-audit"]);
    const failures = [{ at: jiraFailedAt, accepted: 0, lagMinutes: 355 }];
    expectBarsToMatch(await barsOf(page, "jira-audit"), [...seeded["jira-audit"], ...failures]);

    await page.screenshot({ path: screenshotPath, fullPage: true });
    const png = await readFile(screenshotPath);
    expect(png.subarray(0, 8).toString("hex")).toBe("89504e470d0a1a0a");
    expect(png.length).toBeGreaterThan(5_000);
    await page.close();
    await context.unroute("**/*");

    expect(requested).toContain(`http://127.0.0.1:${port}/api/status`);
    expect(requested.filter((url) => new URL(url).hostname !== "127.0.0.1")).toEqual([]);
  });

  it("draws 200 connectors with full 14-day charts in a page under 2 MB", async () => {
    const at = new Date(now);
    const rows = Array.from({ length: 200 }, (_, n) => {
      let activity: Activity = noActivity;
      for (let hour = activityHours - 1; hour >= 0; hour -= 1)
        activity = recordActivity(
          activity,
          new Date(now - hour * hourMs),
          100_000 + n * 997 + hour * 13,
          hour % 90,
        );
      return {
        ...emptyRow(`connector-${String(n).padStart(3, "0")}`),
        committedThrough: new Date(now - 3 * 60_000),
        lastSuccessAt: at,
        activity,
      };
    });
    const html = renderStatusHtml(
      buildStatusPage({
        rows,
        now: at,
        load: { connectors: [], errors: [], refused: [], warnings: [] },
        stateTable: "T",
      }),
    );
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);

    const page = await (browser as BrowserContext).newPage();
    // Resolves once Chromium's load event fired for the whole document.
    await page.setContent(html, { waitUntil: "load" });
    expect(await page.locator("tr.line").count()).toBe(200);
    expect(await page.evaluate("document.querySelectorAll('svg.chart rect').length")).toBe(200 * 56);
    await page.close();
  });
});
