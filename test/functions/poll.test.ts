/**
 * The timer function as the host calls it, tick after tick: settings from the environment, the shipped Jira
 * connector over HTTPS, real Azurite and the stand-in. The watermark only ever moves over accepted windows, a
 * tick that runs out of budget leaves the rest for the next, and the status endpoint tells the on-call.
 */
import { afterEach, describe, expect, it } from "vitest";
import { pollTimer } from "../../src/functions/poll.ts";
import { statusHttp } from "../../src/functions/status.ts";
import { workerRuntime } from "../../src/functions/support/worker-runtime.ts";
import type { StatusPage } from "../../src/status/page.ts";
import { jiraRecords } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";
import { type AppEnv, JIRA_API_TOKEN, onTimeTick, startAppEnv } from "./app-env.ts";

const azurite = useAzurite();
const timer = onTimeTick;

let app: AppEnv | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

// Two records in each 5-minute window from 00:30 to 01:00; with a 30-minute look-back, six windows are due at 01:00:30.
const backlog = () => jiraRecords(12, "2026-01-01T00:30:30Z", 150);

async function tick(env: AppEnv, at: string): Promise<void> {
  env.clock.set(at);
  await pollTimer(timer, env.context("poll"));
}

async function watermark(): Promise<{ committedThrough: string | undefined; status: string | undefined }> {
  const row = await (await workerRuntime()).store.get("jira-audit");
  return { committedThrough: row?.committedThrough?.toISOString(), status: row?.status };
}

async function status(env: AppEnv): Promise<StatusPage> {
  const response = await statusHttp(env.request({ accept: "application/json" }), env.context("status"));
  return JSON.parse(String(response.body)) as StatusPage;
}

const sourceIds = (rows: Record<string, unknown>[]) =>
  [...new Set(rows.map((row) => Number(row.id)))].sort((a, b) => a - b);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe("poll timer", () => {
  it("catches up over several ticks, stopping each at its time budget and committing every finished window", async () => {
    // Each upstream request takes 40 s; a 100 s budget lets three one-page windows start per tick.
    app = await startAppEnv(azurite(), {
      now: "2026-01-01T01:00:30Z",
      records: backlog(),
      upstreamRequestMs: 40_000,
      settings: { RUN_BUDGET_SECONDS: "100", INITIAL_LOOKBACK_MINUTES: "30", CONNECTOR_CONCURRENCY: "2" },
    });

    await tick(app, "2026-01-01T01:00:30Z");
    expect(await watermark()).toEqual({ committedThrough: "2026-01-01T00:45:00.000Z", status: "Lagging" });
    expect(sourceIds(await app.rows())).toEqual(range(1, 6));
    const midway = await status(app);
    expect(midway.connectors).toEqual([
      expect.objectContaining({
        connectorId: "jira-audit",
        status: "Lagging",
        consecutiveFailures: 0,
        windowInFlight: null,
      }),
    ]);

    // A steady trickle: two new records in each new window.
    app.jira.add(...jiraRecords(2, "2026-01-01T01:00:30Z", 150).map((r) => ({ ...r, id: r.id + 12 })));
    await tick(app, "2026-01-01T01:05:30Z");
    expect(await watermark()).toEqual({ committedThrough: "2026-01-01T01:00:00.000Z", status: "Healthy" });
    expect(sourceIds(await app.rows())).toEqual(range(1, 12));

    app.jira.add(...jiraRecords(2, "2026-01-01T01:05:30Z", 150).map((r) => ({ ...r, id: r.id + 14 })));
    await tick(app, "2026-01-01T01:10:30Z");
    expect(await watermark()).toEqual({ committedThrough: "2026-01-01T01:10:00.000Z", status: "Healthy" });
    const rows = await app.rows();
    expect(sourceIds(rows)).toEqual(range(1, 16));
    // Nothing was retried, so nothing was sent twice.
    expect(rows).toHaveLength(16);

    const windowLines = app.logs.filter((line) => line.includes('"window committed"'));
    expect(windowLines).toHaveLength(8);
    const first = JSON.parse(windowLines[0]?.replace(/^information /, "") ?? "{}");
    expect(first).toMatchObject({
      message: "window committed",
      connectorId: "jira-audit",
      window: expect.stringContaining("2026-01-01T00:30:00"),
      pages: expect.any(Number),
      fetched: 2,
      sent: 2,
      accepted: 2,
      durationMs: expect.any(Number),
    });
    const runs = app.logs.filter((line) => line.includes('"run finished"'));
    expect(runs.map((line) => JSON.parse(line.replace(/^information /, "")).outcomes)).toEqual([
      { "jira-audit": "budget-exhausted" },
      { "jira-audit": "budget-exhausted" },
      { "jira-audit": "caught-up" },
    ]);
    expect(app.logs.join("\n")).not.toContain(JIRA_API_TOKEN);
  });

  it("leaves a connector Failing with its error when the upstream refuses, and the next tick heals it", async () => {
    app = await startAppEnv(azurite(), {
      now: "2026-01-01T01:00:30Z",
      records: backlog(),
      settings: { INITIAL_LOOKBACK_MINUTES: "30" },
    });
    // The first window goes through; the second window's request is refused (a permission taken away).
    app.jira.fail({ kind: "pass" }, { kind: "status", status: 403, body: "test: permission revoked" });
    await tick(app, "2026-01-01T01:00:30Z");

    expect(await watermark()).toEqual({ committedThrough: "2026-01-01T00:35:00.000Z", status: "Failing" });
    const failing = await status(app);
    expect(failing.connectors[0]).toMatchObject({
      connectorId: "jira-audit",
      status: "Failing",
      consecutiveFailures: 1,
      lagMinutes: 25,
      lastError: expect.stringMatching(/403/),
      windowInFlight: expect.stringContaining("2026-01-01T00:35:00"),
    });
    expect(app.logs.some((line) => line.startsWith("warning ") && line.includes('"window failed"'))).toBe(
      true,
    );

    await tick(app, "2026-01-01T01:05:30Z");
    expect(await watermark()).toEqual({ committedThrough: "2026-01-01T01:05:00.000Z", status: "Healthy" });
    expect(sourceIds(await app.rows())).toEqual(range(1, 12));
    expect((await status(app)).connectors[0]).toMatchObject({
      status: "Healthy",
      consecutiveFailures: 0,
      windowInFlight: null,
    });
  });

  it("logs a definition that does not load, every tick, and still polls the others", async () => {
    app = await startAppEnv(azurite(), {
      now: "2026-01-01T01:00:30Z",
      records: backlog(),
      // The stream name is missing: the definition cannot bind.
      settings: { CCP_JIRA_AUDIT_STREAMNAME: "" },
    });
    await tick(app, "2026-01-01T01:00:30Z");
    await tick(app, "2026-01-01T01:05:30Z");
    const problems = app.logs.filter(
      (line) => line.startsWith("error ") && line.includes('"definition not loaded"'),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/streamName/i);
    const page = await status(app);
    expect(page.connectors).toEqual([]);
    expect(page.definitionProblems).toEqual([expect.stringMatching(/connector\.json.*streamName/is)]);
  });
});
