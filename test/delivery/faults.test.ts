/**
 * Delivery under faults the runner tests do not cover: the sink throttled (Retry-After honoured), refusing
 * calls as too large (split, still commits), failing for good (nothing committed, run after run); the
 * watermark table going away mid-run and coming back; two runner processes racing for one connector.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFakeClock } from "../../src/engine/clock.ts";
import { type AzuriteInstance, startAzurite } from "../../src/local/azurite.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { runAll } from "../../src/runner/run-all.ts";
import type { RunnerDeps } from "../../src/runner/types.ts";
import { bodyBytes } from "../../src/sink/batches.ts";
import { createFolderDeadLetterStore } from "../../src/sink/dead-letter.ts";
import { createLogsIngestionSink, type Sink } from "../../src/sink/logs-ingestion-sink.ts";
import { serializeRow, toRow } from "../../src/sink/rows.ts";
import { standinClientOptions } from "../../src/sink/settings.ts";
import { createStateTableClient, createWatermarkStore } from "../../src/state/index.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";
import {
  DCR_ID as HARNESS_DCR_ID,
  STREAM as HARNESS_STREAM,
  type Pipeline,
  startPipeline,
} from "../runner/harness.ts";
import { useAzurite } from "../support/azurite.ts";
import {
  CAUGHT_UP_THROUGH,
  CONNECTOR_ID,
  DCR_ID,
  deliveryCounts,
  NOW,
  observerStore,
  runnerEnv,
  STREAM,
  uncoveredRecords,
  writeJiraDefinition,
} from "./pipeline.ts";
import { spawnRunner, stopAllRunners } from "./runner-process.ts";

const azurite = useAzurite();
const RECORDS = jiraRecords(12, "2026-01-01T00:45:30Z", 75);
const LOOKBACK = { initialLookbackMin: 15 };
const RUN = { budgetMs: 60_000, concurrency: 1, ...LOOKBACK };

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await stopAllRunners();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(storage: AzuriteInstance = azurite()): Promise<{ jira: JiraFake; p: Pipeline }> {
  const jira = await startJiraFake({ records: RECORDS });
  cleanups.push(() => jira.close());
  const p = await startPipeline(storage, jira, { now: NOW });
  cleanups.push(() => p.close());
  return { jira, p };
}

async function tempFolder(): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), "ccp-faults-"));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

describe("the sink under faults", () => {
  it("waits as long as a 429's Retry-After asks, then delivers and commits the window", async () => {
    const { p } = await start();
    // The client's own backoff is 5-20 ms (harness): a wait of 400 ms can only come from the header.
    p.standin.setFault({ kind: "throttle", retryAfterSeconds: 1, retryAfterMs: 400, times: 1 });
    const started = performance.now();
    const summary = await runAll(p.deps(), [p.connector], RUN);
    const elapsed = performance.now() - started;

    expect(summary.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3, accepted: 12 });
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(p.standin.calls().map((call) => call.status)).toEqual([429, 204, 204, 204, 204, 204, 204]);
    expect(deliveryCounts(RECORDS, await p.rows())).toEqual({ missing: [], duplicates: 0 });
    expect((await p.store.get("jira-audit"))?.committedThrough?.toISOString()).toBe(CAUGHT_UP_THROUGH);
  });

  it("splits every batch the service refuses as too large, and commits once all of it was accepted", async () => {
    const { p } = await start();
    const folder = await tempFolder();
    // A call holds one row but not two: every 2-row page is refused with 413, then sent as two halves.
    const oneRow = bodyBytes([serializeRow(toRow(p.connector.id, RECORDS[0], {}))]);
    const strict = await startIngestionStandin({ dataDir: folder, maxRequestBytes: oneRow + 16 });
    cleanups.push(() => strict.stop());
    const sink = createLogsIngestionSink({
      credential: strict.tokenCredential,
      clientOptions: standinClientOptions(strict.caCertPem),
      logger: p.deps().logger,
      deadLetter: createFolderDeadLetterStore(path.join(folder, "dead-letter")),
      destinationOverride: { dataCollectionEndpoint: strict.endpoint },
    });

    const summary = await runAll({ ...p.deps(), sink }, [p.connector], RUN);

    expect(summary.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3, accepted: 12 });
    // Six pages, each refused once and then taken as two halves (two pages' calls may interleave).
    const statuses = strict.calls().map((call) => call.status);
    expect(statuses.filter((status) => status === 413)).toHaveLength(6);
    expect(statuses.filter((status) => status === 204)).toHaveLength(12);
    expect(statuses).toHaveLength(18);
    expect(deliveryCounts(RECORDS, await strict.readRows(HARNESS_DCR_ID, HARNESS_STREAM))).toEqual({
      missing: [],
      duplicates: 0,
    });
    const row = await p.store.get("jira-audit");
    expect(row).toMatchObject({ status: "Healthy", deadLetterCount: 0 });
    expect(row?.committedThrough?.toISOString()).toBe(CAUGHT_UP_THROUGH);
  });

  it("commits nothing while the sink answers 500 run after run, and shows it in the row and the history", async () => {
    const { p } = await start();
    const deps = p.deps();
    p.standin.setFault({ kind: "serverError" });
    for (let run = 1; run <= 3; run += 1) {
      const summary = await runAll(deps, [p.connector], RUN);
      expect(summary.reports[0]).toMatchObject({ outcome: "failed", windowsCommitted: 0, windowsPending: 3 });
    }
    const failing = await p.store.get("jira-audit");
    expect(failing).toMatchObject({
      status: "Failing",
      committedThrough: undefined,
      consecutiveFailures: 3,
      windowAttempts: 3,
      deadLetterCount: 0,
    });
    expect(failing?.windowInFlight?.start.toISOString()).toBe("2026-01-01T00:45:00.000Z");
    expect(failing?.lastError).toMatch(/500/);
    const history = await p.store.history("jira-audit");
    expect(history.map((h) => [h.outcome, h.attempt])).toEqual([
      ["Failed", 3],
      ["Failed", 2],
      ["Failed", 1],
    ]);
    expect(await p.rows()).toEqual([]);

    p.standin.setFault(undefined);
    const healed = await runAll(deps, [p.connector], RUN);
    expect(healed.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3 });
    expect(deliveryCounts(RECORDS, await p.rows())).toEqual({ missing: [], duplicates: 0 });
  });
});

describe("the watermark table unavailable", () => {
  it("fails the connector with StateUnavailable when storage stops mid-run, and catches up once it is back", async () => {
    const location = await tempFolder();
    let storage = await startAzurite({ location });
    cleanups.push(() => storage.stop());
    const ports = {
      blob: Number(new URL(storage.blobEndpoint).port),
      queue: Number(new URL(storage.queueEndpoint).port),
      table: Number(new URL(storage.tableEndpoint).port),
    };
    const { p } = await start(storage);
    // Few, quick retries: an outage should fail the run in milliseconds, not after the SDK's default backoff.
    const store = createWatermarkStore({
      tableClient: createStateTableClient(
        {
          AzureWebJobsStorage: storage.connectionString,
          STATE_TABLE_NAME: `Outage${randomBytes(4).toString("hex")}`,
        },
        { retryOptions: { maxRetries: 1, retryDelayInMs: 10, maxRetryDelayInMs: 20 } },
      ).tableClient,
      clock: p.clock,
    });
    await store.ensureTable();
    const base = p.deps();
    let pagesSent = 0;
    // Storage goes away right after window 2's first page was accepted: the next table write is its commit.
    const stopStorageAfterThirdPage: Sink = {
      async send(connector, events, options) {
        const result = await base.sink.send(connector, events, options);
        pagesSent += 1;
        if (pagesSent === 3) await storage.stop();
        return result;
      },
    };
    const deps: RunnerDeps = { ...base, store, sink: stopStorageAfterThirdPage };

    const outage = await runAll(deps, [p.connector], RUN);
    expect(outage.reports[0]).toMatchObject({ outcome: "failed" });
    expect(outage.reports[0]?.error).toMatch(
      /^StateUnavailableError: Table Storage at http:\/\/127\.0\.0\.1:\d+/,
    );
    expect(p.logLines.join("\n")).toMatch(/could not read the connector's row after its run/);

    storage = await startAzurite({ location, ports });
    const after = await store.get("jira-audit");
    expect(after?.committedThrough?.toISOString()).toBe("2026-01-01T00:50:00.000Z");
    expect(uncoveredRecords(after?.committedThrough, RECORDS, await p.rows())).toEqual([]);

    const back = await runAll(deps, [p.connector], RUN);
    expect(back.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 2 });
    expect((await store.get("jira-audit"))?.committedThrough?.toISOString()).toBe(CAUGHT_UP_THROUGH);
    const { missing, duplicates } = deliveryCounts(RECORDS, await p.rows());
    expect(missing).toEqual([]);
    // Window 2 is sent again whole: its two pages went out before the commit failed.
    expect(duplicates).toBe(4);
  });
});

describe("two runner processes", () => {
  it("never poll one connector at the same time: one delivers everything once, the other stands aside", async () => {
    const folder = await tempFolder();
    const jira = await startJiraFake({ records: RECORDS });
    cleanups.push(() => jira.close());
    const standin: IngestionStandin = await startIngestionStandin({ dataDir: path.join(folder, "standin") });
    cleanups.push(() => standin.stop());
    const env = runnerEnv({
      storageConnectionString: azurite().connectionString,
      tableName: `Race${randomBytes(4).toString("hex")}`,
      standinEndpoint: standin.endpoint,
      standinCaFile: standin.caCertPath,
    });
    const config = {
      env,
      definitionPath: await writeJiraDefinition(folder, 2),
      upstreamOrigin: jira.origin,
      now: NOW,
    };
    const runners = [spawnRunner(config, { waitForGo: true }), spawnRunner(config, { waitForGo: true })];
    // Both are built (the slow part) before either starts, so they reach the lease at the same moment.
    await Promise.all(
      runners.map((runner) => new Promise((resolve) => runner.process.once("message", resolve))),
    );
    for (const runner of runners) runner.process.send("go");
    const exits = await Promise.all(runners.map((runner) => runner.exited));

    const reports = exits.map((exit) => exit.reports?.[0]);
    const winner = reports.filter((report) => report?.outcome === "caught-up");
    expect(winner).toEqual([expect.objectContaining({ windowsCommitted: 3, accepted: 12 })]);
    const loser = reports.find((report) => report?.outcome !== "caught-up");
    // Usually the lease is held when the loser looks; if the winner already finished, nothing is left to do.
    expect(["leased-elsewhere", "up-to-date"]).toContain(loser?.outcome);
    expect(loser?.windowsCommitted).toBe(0);
    // Every window was polled by one process only: nine requests, every record stored exactly once.
    expect(jira.requests).toHaveLength(9);
    expect(deliveryCounts(RECORDS, await standin.readRows(DCR_ID, STREAM))).toEqual({
      missing: [],
      duplicates: 0,
    });
    const row = await observerStore(env, createFakeClock(NOW)).get(CONNECTOR_ID);
    expect(row?.committedThrough?.toISOString()).toBe(CAUGHT_UP_THROUGH);
    expect(row?.leaseOwner).toBeUndefined();
  });
});
