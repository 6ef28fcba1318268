/**
 * Health records end to end: real Azurite, the real Logs Ingestion client against the stand-in (data and health
 * each to their own stream), the Jira fake, and a fixed clock moved by hand. What is checked is what an on-call
 * reads: the records stored in the health stream, and the watermark row.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createHealthReporter } from "../../src/health/reporter.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { runAll } from "../../src/runner/run-all.ts";
import type { RunnerDeps } from "../../src/runner/types.ts";
import { createFolderDeadLetterStore } from "../../src/sink/dead-letter.ts";
import { createLogsIngestionSink } from "../../src/sink/logs-ingestion-sink.ts";
import { standinClientOptions } from "../../src/sink/settings.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { JIRA_PASSWORD, type Pipeline, startPipeline } from "../runner/harness.ts";
import { useAzurite } from "../support/azurite.ts";

const azurite = useAzurite();
// Three 5-minute windows are due at 01:00:30 with a 15-minute look-back: 00:45-00:50, 00:50-00:55, 00:55-01:00.
const NOW = "2026-01-01T01:00:30Z";
const RUN = { budgetMs: 60_000, concurrency: 1, initialLookbackMin: 15 };
const HEALTH = {
  dataCollectionRuleImmutableId: "dcr-00000000000000000000000000000099",
  streamName: "Custom-CcpPollerHealth",
};

let jira: JiraFake | undefined;
let pipeline: Pipeline | undefined;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await pipeline?.close();
  await jira?.close();
  pipeline = undefined;
  jira = undefined;
});

async function start(): Promise<Pipeline> {
  jira = await startJiraFake({ records: jiraRecords(12, "2026-01-01T00:45:30Z", 75) });
  pipeline = await startPipeline(azurite(), jira, { now: NOW });
  return pipeline;
}

/** A separate stand-in for health records, so a fault there cannot touch the data path. */
async function separateHealthStandin(): Promise<IngestionStandin> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "ccp-health-"));
  const standin = await startIngestionStandin({ dataDir });
  cleanups.push(async () => {
    await standin.stop();
    await rm(dataDir, { recursive: true, force: true });
  });
  return standin;
}

/** Runner deps with a health reporter sending to `standin`: a new reporter each call, as after a restart. */
function withHealth(p: Pipeline, standin: IngestionStandin = p.standin, heartbeatMinutes = 60): RunnerDeps {
  const deps = p.deps();
  const sink = createLogsIngestionSink({
    credential: standin.tokenCredential,
    clientOptions: standinClientOptions(standin.caCertPem, {
      retryOptions: { maxRetries: 1, retryDelayInMs: 5, maxRetryDelayInMs: 10 },
    }),
    logger: deps.logger,
    deadLetter: createFolderDeadLetterStore(path.join(standin.store.dataDir, "dead-letter")),
  });
  const destination = { ...HEALTH, dataCollectionEndpoint: standin.endpoint };
  return {
    ...deps,
    health: createHealthReporter({
      sink,
      destination,
      clock: p.clock,
      logger: deps.logger,
      heartbeatMinutes,
    }),
  };
}

const healthRows = (standin: IngestionStandin) =>
  standin.readRows(HEALTH.dataCollectionRuleImmutableId, HEALTH.streamName);

const brief = (rows: Record<string, unknown>[]) =>
  rows.map((row) => `${row.Status} ${row.OperationName} ${row.WindowStart} #${row.Attempt}`);

describe("health records", () => {
  it("a failing window produces a Failure record with the secret-free reason; recovery a Success status change", async () => {
    const p = await start();
    // The first window's three pages pass; the second window's first request is refused, echoing the token.
    jira?.fail(
      { kind: "pass" },
      { kind: "pass" },
      { kind: "pass" },
      { kind: "status", status: 400, body: `invalid token ${JIRA_PASSWORD}` },
    );
    const failed = await runAll(withHealth(p), [p.connector], RUN);
    expect(failed.reports[0]).toMatchObject({ outcome: "failed", windowsCommitted: 1 });

    const afterFailure = await healthRows(p.standin);
    expect(brief(afterFailure)).toEqual([
      "Success Data fetch status change 2026-01-01T00:45:00.000Z #1",
      "Failure Data fetch status change 2026-01-01T00:50:00.000Z #1",
    ]);
    const failure = afterFailure[1] ?? {};
    expect(failure).toMatchObject({
      SentinelResourceName: "jira-audit",
      SentinelResourceKind: "RestApiPoller",
      SentinelResourceType: "Data connector",
      WindowEnd: "2026-01-01T00:55:00.000Z",
      Fetched: 0,
      Accepted: 0,
      ExtendedProperties: expect.objectContaining({
        PreviousStatus: "Success",
        WatermarkStatus: "Failing",
        ConsecutiveFailures: 1,
        CommittedThrough: "2026-01-01T00:50:00.000Z",
      }),
    });
    expect(failure.Reason).toMatch(/HTTP 400: invalid token/);
    expect(JSON.stringify(afterFailure)).not.toContain(JIRA_PASSWORD);
    expect((await p.store.get("jira-audit"))?.healthLastStatus).toBe("Failure");

    // The same window fails again on the next run: every failed attempt is reported, with its number.
    jira?.fail({ kind: "status", status: 400, body: "still refused" });
    p.clock.advance(60_000);
    await runAll(withHealth(p), [p.connector], RUN);
    // Then it recovers: one status change back to Success, and the windows after it stay quiet.
    p.clock.advance(60_000);
    const healed = await runAll(withHealth(p), [p.connector], RUN);
    expect(healed.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 2 });

    const all = await healthRows(p.standin);
    expect(brief(all.slice(2))).toEqual([
      "Failure Data fetch failure 2026-01-01T00:50:00.000Z #2",
      "Success Data fetch status change 2026-01-01T00:50:00.000Z #3",
    ]);
    expect(all[3]).toMatchObject({ Fetched: 4, Extracted: 4, Sent: 4, Accepted: 4, Pages: 3, Reason: "" });
    expect(all[3]?.ExtendedProperties).toMatchObject({
      PreviousStatus: "Failure",
      WatermarkStatus: "Healthy",
    });
    // Twelve records fetched over every attempt, all accepted: the totals the silent-drop query compares.
    expect(all[3]?.ExtendedProperties).toMatchObject({ TotalFetched: 8, TotalAccepted: 8 });
    expect((await p.store.get("jira-audit"))?.totals).toMatchObject({ fetched: 12, accepted: 12 });
  });

  it("sends nothing while the status is stable until the heartbeat is due, across restarts", async () => {
    const p = await start();
    await runAll(withHealth(p), [p.connector], RUN);
    expect(brief(await healthRows(p.standin))).toEqual([
      "Success Data fetch status change 2026-01-01T00:45:00.000Z #1",
    ]);
    const firstSentAt = (await p.store.get("jira-audit"))?.healthLastSentAt;
    expect(firstSentAt?.toISOString()).toBe("2026-01-01T01:00:30.000Z");

    // One window every five minutes, each run with a new reporter (as a restarted app would have).
    for (let run = 1; run <= 11; run += 1) {
      p.clock.advance(5 * 60_000);
      await runAll(withHealth(p), [p.connector], RUN);
    }
    // 55 minutes after the last record: still only the first one.
    expect(await healthRows(p.standin)).toHaveLength(1);
    expect((await p.store.get("jira-audit"))?.committedThrough?.toISOString()).toBe(
      "2026-01-01T01:55:00.000Z",
    );

    p.clock.advance(5 * 60_000);
    await runAll(withHealth(p), [p.connector], RUN);
    const rows = await healthRows(p.standin);
    expect(brief(rows)).toEqual([
      "Success Data fetch status change 2026-01-01T00:45:00.000Z #1",
      "Success Data fetch heartbeat 2026-01-01T01:55:00.000Z #1",
    ]);
    expect(rows[1]?.TimeGenerated).toBe("2026-01-01T02:00:30.000Z");
    expect(rows[1]?.LagMinutes).toBe(0);
  });

  it("a health stream that refuses records never stops the data, shows on the row, and is resent next attempt", async () => {
    const p = await start();
    const healthStandin = await separateHealthStandin();
    healthStandin.setFault({ kind: "serverError", status: 503 });

    const summary = await runAll(withHealth(p, healthStandin), [p.connector], RUN);
    expect(summary.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3, accepted: 12 });
    expect(await p.rows()).toHaveLength(12);
    expect(await healthRows(healthStandin)).toEqual([]);
    const row = await p.store.get("jira-audit");
    expect(row).toMatchObject({ status: "Healthy", healthLastStatus: "", healthLastSentAt: undefined });
    expect(row?.healthLastError).toMatch(
      /^Data fetch status change \(Success\) not sent to dcr-0+99\/Custom-CcpPollerHealth: .*503/,
    );
    expect(p.logLines.filter((line) => line.includes("health record not sent"))).toHaveLength(3);

    healthStandin.setFault(undefined);
    p.clock.advance(5 * 60_000);
    await runAll(withHealth(p, healthStandin), [p.connector], RUN);
    // The status change that was lost is sent with the next attempt, and the row is clear again.
    expect(brief(await healthRows(healthStandin))).toEqual([
      "Success Data fetch status change 2026-01-01T01:00:00.000Z #1",
    ]);
    expect(await p.store.get("jira-audit")).toMatchObject({
      healthLastStatus: "Success",
      healthLastError: "",
    });
  });
});
