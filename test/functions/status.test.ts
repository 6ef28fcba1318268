/**
 * GET /api/status called as the host calls it: JSON for scripts, an escaped self-contained page for a browser,
 * the same lines as the CLI's `status`, an empty state that says what to check, and a 503 that says why.
 */
import { afterEach, describe, expect, it } from "vitest";
import { statusHttp } from "../../src/functions/status.ts";
import { workerRuntime } from "../../src/functions/support/worker-runtime.ts";
import type { StatusPage } from "../../src/status/page.ts";
import { statusView } from "../../src/status/view.ts";
import { useAzurite } from "../support/azurite.ts";
import { type AppEnv, startAppEnv } from "./app-env.ts";
import { seedConnector } from "./seed.ts";

const azurite = useAzurite();
const NOW = "2026-01-01T06:00:00Z";
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

let app: AppEnv | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function seeded(): Promise<AppEnv> {
  const env = await startAppEnv(azurite(), { now: NOW });
  const { store } = await workerRuntime();
  await seedConnector(store, env.clock, { id: "okta-sso", committedThrough: "2026-01-01T05:55:00Z" });
  await seedConnector(store, env.clock, { id: "github-audit", committedThrough: "2026-01-01T05:00:00Z" });
  await seedConnector(store, env.clock, {
    id: "jira-stuck",
    committedThrough: "2026-01-01T00:00:00Z",
    failures: {
      times: 3,
      at: "2026-01-01T05:50:00Z",
      error: new Error("HTTP 403 <script>alert(1)</script>"),
    },
  });
  await seedConnector(store, env.clock, {
    id: "lastpass",
    committedThrough: "2026-01-01T05:55:00Z",
    disabledReason: "paused by on-call",
  });
  env.clock.set(NOW);
  return env;
}

async function call(env: AppEnv, init: Parameters<AppEnv["request"]>[0]) {
  const response = await statusHttp(env.request(init), env.context("status"));
  return { status: response.status, headers: new Headers(response.headers), body: String(response.body) };
}

describe("GET /api/status", () => {
  it("answers JSON by default with the CLI's lines, worst first", async () => {
    app = await seeded();
    for (const accept of [undefined, "application/json", "*/*"]) {
      const response = await call(app, accept === undefined ? {} : { accept });
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^application\/json/);
      const page = JSON.parse(response.body) as StatusPage;
      expect(page.connectors.map((line) => [line.connectorId, line.status])).toEqual([
        ["jira-stuck", "Failing"],
        ["github-audit", "Lagging"],
        ["okta-sso", "Healthy"],
        ["lastpass", "Disabled"],
      ]);
      const { store } = await workerRuntime();
      expect(page.connectors).toEqual(
        JSON.parse(JSON.stringify(statusView(await store.list(), new Date(NOW)))),
      );
      expect(page.connectors[0]).toMatchObject({
        lagMinutes: 360,
        consecutiveFailures: 3,
        windowAttempts: 3,
      });
    }
  });

  it("serves a self-contained page to a browser, with every value escaped", async () => {
    app = await seeded();
    const response = await call(app, { accept: browserAccept });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/html/);
    expect(response.headers.get("content-security-policy")).toMatch(/default-src 'none'/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.body).toContain("HTTP 403 &lt;script&gt;alert(1)&lt;/script&gt;");
    expect(response.body).not.toContain("<script");
    expect(response.body).not.toMatch(/(src|href)=/);
    const order = ["jira-stuck", "github-audit", "okta-sso", "lastpass"].map((id) =>
      response.body.indexOf(`data-connector="${id}"`),
    );
    expect(order.every((at, i) => at > 0 && (i === 0 || at > (order[i - 1] ?? 0)))).toBe(true);
  });

  it("lets ?format choose over the Accept header", async () => {
    app = await seeded();
    expect(
      (await call(app, { accept: browserAccept, query: { format: "json" } })).headers.get("content-type"),
    ).toMatch(/json/);
    expect((await call(app, { query: { format: "html" } })).headers.get("content-type")).toMatch(/html/);
  });

  it("says what to check when no connector has a row yet", async () => {
    app = await startAppEnv(azurite(), { now: NOW });
    const json = JSON.parse((await call(app, {})).body) as StatusPage;
    expect(json).toMatchObject({ connectors: [], notPolledYet: ["jira-audit"], definitionProblems: [] });
    const html = (await call(app, { accept: browserAccept })).body;
    expect(html).toContain("No connector has a watermark row yet");
    expect(html).toContain(String(process.env.STATE_TABLE_NAME));
    expect(html).toContain("POLL_SCHEDULE");
    expect(html).toContain("Loaded but not polled yet (1)");
  });

  it("answers 503 with the reason when the app cannot read its state", async () => {
    app = await startAppEnv(azurite(), { now: NOW, settings: { RUN_BUDGET_SECONDS: "soon" } });
    const json = await call(app, {});
    expect(json.status).toBe(503);
    expect(JSON.parse(json.body).error).toMatch(/RUN_BUDGET_SECONDS.*positive number/);
    const html = await call(app, { accept: browserAccept });
    expect(html.status).toBe(503);
    expect(html.body).toContain("RUN_BUDGET_SECONDS");
    expect(app.logs.some((line) => line.startsWith("error ") && line.includes("status unavailable"))).toBe(
      true,
    );
  });
});
