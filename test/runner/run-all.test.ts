/**
 * The commit rule end to end: real Azurite, the real Logs Ingestion client against the stand-in, the Jira fake.
 * The watermark moves only over windows whose every page the sink accepted; a failed window is retried from
 * its start; one failing connector never stops another.
 */
import diagnostics_channel from "node:diagnostics_channel";
import { readFile } from "node:fs/promises";
import type { ClientRequest } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runAll } from "../../src/runner/run-all.ts";
import { createFolderDeadLetterStore } from "../../src/sink/dead-letter.ts";
import { createLogsIngestionSink, type Sink } from "../../src/sink/logs-ingestion-sink.ts";
import { standinClientOptions } from "../../src/sink/settings.ts";
import type { Lease, WatermarkRow, WatermarkStore } from "../../src/state/index.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";
import { JIRA_PASSWORD, type Pipeline, startPipeline } from "./harness.ts";

const azurite = useAzurite();
// Three 5-minute windows are due at 01:00:30 with a 15-minute look-back: 00:45-00:50, 00:50-00:55, 00:55-01:00.
const NOW = "2026-01-01T01:00:30Z";
const LOOKBACK = { initialLookbackMin: 15 };

let jira: JiraFake | undefined;
let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  await jira?.close();
  pipeline = undefined;
  jira = undefined;
});

async function start(records = jiraRecords(12, "2026-01-01T00:45:30Z", 75)): Promise<Pipeline> {
  jira = await startJiraFake({ records });
  pipeline = await startPipeline(azurite(), jira, { now: NOW });
  return pipeline;
}

const sourceIds = (rows: Record<string, unknown>[]) =>
  [...new Set(rows.map((row) => Number(row.id)))].sort((a, b) => a - b);

describe("runAll", () => {
  it("polls every due window, sends every page, and commits through the last window", async () => {
    const p = await start();
    const summary = await runAll(p.deps(), [p.connector], { budgetMs: 60_000, concurrency: 2, ...LOOKBACK });

    expect(summary.reports).toEqual([
      expect.objectContaining({
        connectorId: "jira-audit",
        outcome: "caught-up",
        windowsCommitted: 3,
        accepted: 12,
      }),
    ]);
    const rows = await p.rows();
    expect(rows).toHaveLength(12);
    expect(sourceIds(rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(new Set(rows.map((row) => row.CcpEventId)).size).toBe(12);

    const row = await p.store.get("jira-audit");
    expect(row?.committedThrough?.toISOString()).toBe("2026-01-01T01:00:00.000Z");
    expect(row).toMatchObject({ status: "Healthy", consecutiveFailures: 0, windowInFlight: undefined });
    expect(row?.totals.accepted).toBe(12);
    const history = await p.store.history("jira-audit");
    expect(history.map((h) => h.outcome)).toEqual(["Succeeded", "Succeeded", "Succeeded"]);
    // Pages of 2: each 4-record window takes two full pages and an empty one that ends it.
    expect(jira?.requests.map((r) => `${r.query.from} ${r.query.offset}`)).toEqual([
      "2026-01-01T00:45:00Z 0",
      "2026-01-01T00:45:00Z 2",
      "2026-01-01T00:45:00Z 4",
      "2026-01-01T00:50:00Z 0",
      "2026-01-01T00:50:00Z 2",
      "2026-01-01T00:50:00Z 4",
      "2026-01-01T00:55:00Z 0",
      "2026-01-01T00:55:00Z 2",
      "2026-01-01T00:55:00Z 4",
    ]);
  });

  it("logs each connector's row after its run with every field infra/queries/health.kql reads", async () => {
    const p = await start();
    await runAll(p.deps(), [p.connector], { budgetMs: 60_000, concurrency: 1, ...LOOKBACK });
    const kql = await readFile(path.resolve(import.meta.dirname, "../../infra/queries/health.kql"), "utf8");
    const fieldsRead = [...new Set([...kql.matchAll(/\bP\.(\w+)/g)].map((match) => match[1]))];
    const statusLine = p.logLines
      .map((line) => JSON.parse(line))
      .find((e) => e.message === "connector status");

    expect(fieldsRead.length).toBeGreaterThan(3);
    expect(Object.keys(statusLine ?? {})).toEqual(expect.arrayContaining(fieldsRead));
    expect(statusLine).toMatchObject({
      connectorId: "jira-audit",
      status: "Healthy",
      consecutiveFailures: 0,
    });
  });

  it("stops at a window the sink refused, keeps the watermark before it, and retries it from its start", async () => {
    const p = await start();
    const deps = p.deps();
    // The first window's two pages go through; every later upload fails with 500 (after the client's retries).
    p.standin.setFault({ kind: "serverError", skip: 2 });
    const first = await runAll(deps, [p.connector], { budgetMs: 60_000, concurrency: 1, ...LOOKBACK });

    expect(first.reports[0]).toMatchObject({ outcome: "failed", windowsCommitted: 1, windowsPending: 2 });
    const failed = await p.store.get("jira-audit");
    expect(failed?.committedThrough?.toISOString()).toBe("2026-01-01T00:50:00.000Z");
    expect(failed).toMatchObject({ status: "Failing", consecutiveFailures: 1, windowAttempts: 1 });
    expect(failed?.windowInFlight?.start.toISOString()).toBe("2026-01-01T00:50:00.000Z");
    expect(failed?.lastError).toMatch(/500/);

    p.standin.setFault(undefined);
    const second = await runAll(deps, [p.connector], { budgetMs: 60_000, concurrency: 1, ...LOOKBACK });
    expect(second.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 2 });
    const healed = await p.store.get("jira-audit");
    expect(healed?.committedThrough?.toISOString()).toBe("2026-01-01T01:00:00.000Z");
    expect(healed).toMatchObject({ status: "Healthy", consecutiveFailures: 0 });
    // At least once: every upstream record is stored; duplicates only from the retried window.
    const rows = await p.rows();
    expect(sourceIds(rows)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(rows.length).toBeLessThanOrEqual(12 + 4);
  });

  it("requests the next window's first page while the window before is still finishing its uploads", async () => {
    const p = await start();
    const base = p.deps();
    const secondWindowAsked = () =>
      jira?.requests.some((request) => request.query.from === "2026-01-01T00:50:00Z");
    let askedDuringLastUpload: boolean | undefined;
    let sends = 0;
    // Window 1's last page (its second) is answered only once window 2 has been asked for, or after 10 s.
    const holdFirstWindowsLastPage: Sink = {
      async send(connector, events, options) {
        sends += 1;
        if (sends === 2) {
          askedDuringLastUpload = await vi
            .waitFor(() => expect(secondWindowAsked()).toBe(true), { timeout: 10_000, interval: 5 })
            .then(() => true)
            .catch(() => false);
        }
        return base.sink.send(connector, events, options);
      },
    };
    const summary = await runAll({ ...base, sink: holdFirstWindowsLastPage }, [p.connector], {
      budgetMs: 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });

    expect(askedDuringLastUpload).toBe(true);
    expect(summary.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3, accepted: 12 });
    expect(sourceIds(await p.rows())).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });

  it("builds the next window's first upload during the commit before it, and sends it only once that commit landed", async () => {
    const p = await start();
    const base = p.deps();
    // Window 1 (00:45-00:50) is two calls of two records; the third call is window 2's first.
    let built = 0;
    let sent = 0;
    let firstCommitLanded = false;
    const sentBeforeFirstCommit: number[] = [];
    // Before the client's gzip: the call is being built. After its retry policy: it goes on the wire.
    const sink = observedSink(p, {
      perCall: () => {
        built += 1;
      },
      perRetry: () => {
        sent += 1;
        if (!firstCommitLanded) sentBeforeFirstCommit.push(sent);
      },
    });
    let builtDuringFirstCommit: boolean | undefined;
    const store = aroundCommit(base.store, "jira-audit", "2026-01-01T00:50:00.000Z", async (commit) => {
      builtDuringFirstCommit = await vi
        .waitFor(() => expect(built).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 5 })
        .then(() => true)
        .catch(() => false);
      // Long enough for a call that did not wait to get on the wire.
      await vi
        .waitFor(() => expect(sent).toBeGreaterThanOrEqual(3), { timeout: 300, interval: 5 })
        .catch(() => undefined);
      const row = await commit();
      firstCommitLanded = true;
      return row;
    });
    const summary = await runAll({ ...base, store, sink }, [p.connector], {
      budgetMs: 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });

    expect(builtDuringFirstCommit).toBe(true);
    expect(sentBeforeFirstCommit).toEqual([1, 2]);
    expect(summary.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3, accepted: 12 });
    expect(sourceIds(await p.rows())).toHaveLength(12);
  });

  it("puts a window's commit on the wire before it builds the next window's first upload", async () => {
    const p = await start();
    const base = p.deps();
    // In order: each upload call as it is built, and each watermark write as its request starts.
    const events: string[] = [];
    const sink = observedSink(p, { perCall: () => events.push("upload built") });
    const tableWrites = ({ request }: { request: ClientRequest }) => {
      if (request.method === "PATCH") events.push("watermark written");
    };
    diagnostics_channel.subscribe("http.client.request.start", tableWrites as (message: unknown) => void);
    try {
      const summary = await runAll({ ...base, sink }, [p.connector], {
        budgetMs: 60_000,
        concurrency: 1,
        ...LOOKBACK,
      });
      expect(summary.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3 });
    } finally {
      diagnostics_channel.unsubscribe("http.client.request.start", tableWrites as (message: unknown) => void);
    }
    // The lease; window 1's two calls; its commit, before window 2's first call is built (its rows wait for it).
    expect(events.slice(0, 5)).toEqual([
      "watermark written",
      "upload built",
      "upload built",
      "watermark written",
      "upload built",
    ]);
  });

  it("sends nothing of the window started during a commit that fails, and leaves it for the next run", async () => {
    const p = await start();
    const base = p.deps();
    const sentWindows = new Set<string>();
    const recordingSink: Sink = {
      send(connector, events, options) {
        for (const event of events as { created: string }[]) sentWindows.add(event.created.slice(11, 15));
        return base.sink.send(connector, events, options);
      },
    };
    let intruder: Promise<boolean> | undefined;
    // Another runner takes the row over while window 1's commit waits for window 2's first send to be built.
    const store = aroundCommit(base.store, "jira-audit", "2026-01-01T00:50:00.000Z", async (commit) => {
      intruder ??= vi
        .waitFor(() => expect(sentWindows.has("00:5")).toBe(true), { timeout: 10_000, interval: 5 })
        .then(async () => {
          p.clock.advance(6 * 60_000);
          return (await p.store.acquireLease("jira-audit", "runner-b", 60_000)) !== undefined;
        });
      await intruder;
      return commit();
    });
    const summary = await runAll({ ...base, store, sink: recordingSink }, [p.connector], {
      budgetMs: 60 * 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });

    expect(await intruder).toBe(true);
    expect(summary.reports[0]).toMatchObject({ outcome: "lease-lost", windowsCommitted: 0 });
    // Window 2's first page was handed to the sink, but none of it reached the service.
    expect(sentWindows.has("00:5")).toBe(true);
    const rows = await p.rows();
    expect(rows).toHaveLength(4);
    expect(rows.every((row) => String(row.created) < "2026-01-01T00:50:00Z")).toBe(true);
    expect(await p.store.get("jira-audit")).toMatchObject({
      leaseOwner: "runner-b",
      committedThrough: undefined,
    });
  });

  it("drops the next window it opened when the window before fails: nothing of it is sent or committed", async () => {
    const p = await start();
    const base = p.deps();
    let sends = 0;
    const failFirstWindowsLastPage: Sink = {
      async send(connector, events, options) {
        sends += 1;
        if (sends !== 2) return base.sink.send(connector, events, options);
        await vi.waitFor(
          () => expect(jira?.requests.some((r) => r.query.from === "2026-01-01T00:50:00Z")).toBe(true),
          { timeout: 10_000, interval: 5 },
        );
        throw new Error("HTTP 500: the service failed");
      },
    };
    const summary = await runAll({ ...base, sink: failFirstWindowsLastPage }, [p.connector], {
      budgetMs: 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });

    expect(summary.reports[0]).toMatchObject({ outcome: "failed", windowsCommitted: 0, windowsPending: 3 });
    expect(sends).toBe(2);
    // Window 2 was opened ahead (its first page requested), then dropped.
    expect(jira?.requests.some((request) => request.query.from === "2026-01-01T00:50:00Z")).toBe(true);
    // Only window 1's first page (Jira pages newest first): nothing of window 2 (records 5 to 8).
    expect(sourceIds(await p.rows())).toEqual([3, 4]);
    const row = await p.store.get("jira-audit");
    expect(row).toMatchObject({ committedThrough: undefined, consecutiveFailures: 1 });
    expect(row?.windowInFlight?.start.toISOString()).toBe("2026-01-01T00:45:00.000Z");
  });

  it("abandons the page it fetched ahead when a send fails, instead of waiting for it", async () => {
    const p = await start();
    // Page 2 is fetched while page 1 is sent, and its body stalls for a minute: the window must not wait for it.
    jira?.fail({ kind: "pass" }, { kind: "slowBody", delayMs: 60_000 });
    p.standin.setFault({ kind: "serverError" });
    const summary = await runAll(p.deps(), [p.connector], { budgetMs: 60_000, concurrency: 1, ...LOOKBACK });

    expect(summary.reports[0]).toMatchObject({ outcome: "failed", windowsCommitted: 0 });
    expect(summary.reports[0]?.error).toMatch(/500/);
    expect(jira?.requests).toHaveLength(2);
    const row = await p.store.get("jira-audit");
    expect(row).toMatchObject({ committedThrough: undefined, consecutiveFailures: 1 });
    expect(row?.lastWindow).toMatchObject({ pages: 1, fetched: 2, accepted: 0 });
  });

  it("never commits a window whose upstream failed, and records a secret-free error", async () => {
    const p = await start();
    // The first window's three pages pass; the second window's first page fails on every attempt.
    jira?.fail(
      { kind: "pass" },
      { kind: "pass" },
      { kind: "pass" },
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
      { kind: "status", status: 503 },
    );
    const summary = await runAll(p.deps(), [p.connector], { budgetMs: 60_000, concurrency: 1, ...LOOKBACK });

    expect(summary.reports[0]).toMatchObject({ outcome: "failed", windowsCommitted: 1 });
    const row = await p.store.get("jira-audit");
    expect(row?.committedThrough?.toISOString()).toBe("2026-01-01T00:50:00.000Z");
    expect(row?.lastErrorKind).toMatch(/HttpStatusError/);
    expect(JSON.stringify(row)).not.toContain(JIRA_PASSWORD);
    expect(p.logLines.join("\n")).not.toContain(JIRA_PASSWORD);
  });

  it("starts no window after the run's budget, leaving the rest for the next run", async () => {
    const p = await start();
    const summary = await runAll(p.deps(), [p.connector], {
      budgetMs: 60_000,
      concurrency: 1,
      ...LOOKBACK,
      // The budget runs out as window 1 is committed. Window 2's first page was requested before that, while
      // window 1's last uploads were answered, so window 2 is delivered; window 3 is never started.
      onWindow: () => p.clock.advance(61_000),
    });
    expect(summary.reports[0]).toMatchObject({
      outcome: "budget-exhausted",
      windowsCommitted: 2,
      windowsPending: 1,
    });
    expect((await p.store.get("jira-audit"))?.committedThrough?.toISOString()).toBe(
      "2026-01-01T00:55:00.000Z",
    );
    // Window 3 (00:55-01:00) was never asked for.
    expect(new Set(jira?.requests.map((request) => request.query.from))).toEqual(
      new Set(["2026-01-01T00:45:00Z", "2026-01-01T00:50:00Z"]),
    );
  });

  it("lets only one of two racing runners poll a connector", async () => {
    const p = await start();
    const [a, b] = await Promise.all([
      runAll(p.deps("runner-a"), [p.connector], { budgetMs: 60_000, concurrency: 1, ...LOOKBACK }),
      runAll(p.deps("runner-b"), [p.connector], { budgetMs: 60_000, concurrency: 1, ...LOOKBACK }),
    ]);
    const outcomes = [a.reports[0]?.outcome, b.reports[0]?.outcome].sort();
    expect(outcomes).toEqual(["caught-up", "leased-elsewhere"]);
    expect(await p.rows()).toHaveLength(12);
  });

  it("renews the lease while a window outlasts it, so another runner cannot take the connector half-way", async () => {
    const p = await start();
    // Page 2 stalls for 1.5 s of real time while the fake clock runs four times faster than real time: the
    // window lasts six (fake) seconds, three times the lease's two.
    jira?.fail({ kind: "pass" }, { kind: "slowBody", delayMs: 1_500 });
    const ticking = setInterval(() => p.clock.advance(100), 25);
    try {
      const first = runAll(p.deps("runner-a"), [p.connector], {
        budgetMs: 600_000,
        concurrency: 1,
        leaseTtlMs: 2_000,
        ...LOOKBACK,
      });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const intruder = await p.store.acquireLease("jira-audit", "runner-b", 2_000);
      expect(intruder).toBeUndefined();
      expect((await first).reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3 });
    } finally {
      clearInterval(ticking);
    }
  });

  it("takes the next connector's lease and requests its first page while the one before delivers its last window", async () => {
    const p = await start();
    const base = p.deps();
    const second = { ...p.connector, id: "jira-second" };
    const windowRequests = (from: string) =>
      jira?.requests.filter((request) => request.query.from === from).length ?? 0;
    const ofLastWindow = (events: readonly unknown[]) =>
      (events as { created: string }[]).some((event) => event.created >= "2026-01-01T00:55:00Z");
    let preparedDuringLastWindow: boolean | undefined;
    // The first connector's sends for its last window (00:55-01:00) wait until the second connector has asked
    // for its first window (the fourth request for 00:45: the first connector made three) under a lease it
    // holds, or 10 s.
    const holdLastWindow: Sink = {
      async send(connector, events, options) {
        if (connector.id === "jira-audit" && ofLastWindow(events)) {
          preparedDuringLastWindow ??= await vi
            .waitFor(
              async () => {
                expect(windowRequests("2026-01-01T00:45:00Z")).toBe(4);
                expect(await p.store.get("jira-second")).toMatchObject({ leaseOwner: "runner-a" });
              },
              { timeout: 10_000, interval: 5 },
            )
            .then(() => true)
            .catch(() => false);
        }
        return base.sink.send(connector, events, options);
      },
    };
    const summary = await runAll({ ...base, sink: holdLastWindow }, [p.connector, second], {
      budgetMs: 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });

    expect(preparedDuringLastWindow).toBe(true);
    expect(summary.reports.map((r) => [r.connectorId, r.outcome, r.windowsCommitted])).toEqual([
      ["jira-audit", "caught-up", 3],
      ["jira-second", "caught-up", 3],
    ]);
    expect(await p.rows()).toHaveLength(24);
  });

  it("sends the next connector's first window while the one before writes its last commit", async () => {
    const p = await start();
    const base = p.deps();
    const second = { ...p.connector, id: "jira-second" };
    const sentFor = new Set<string>();
    const recordingSink: Sink = {
      send(connector, events, options) {
        sentFor.add(connector.id);
        return base.sink.send(connector, events, options);
      },
    };
    let sentDuringLastCommit: boolean | undefined;
    // The first connector's last commit (00:55-01:00) waits until the second connector has sent, or 10 s.
    const store = aroundCommit(base.store, "jira-audit", "2026-01-01T01:00:00.000Z", async (commit) => {
      sentDuringLastCommit ??= await vi
        .waitFor(() => expect(sentFor.has("jira-second")).toBe(true), { timeout: 10_000, interval: 5 })
        .then(() => true)
        .catch(() => false);
      return commit();
    });
    const summary = await runAll({ ...base, store, sink: recordingSink }, [p.connector, second], {
      budgetMs: 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });

    expect(sentDuringLastCommit).toBe(true);
    expect(summary.reports.map((r) => [r.connectorId, r.outcome, r.windowsCommitted])).toEqual([
      ["jira-audit", "caught-up", 3],
      ["jira-second", "caught-up", 3],
    ]);
    for (const id of ["jira-audit", "jira-second"]) {
      expect(await p.store.get(id)).toMatchObject({ leaseOwner: undefined, windowInFlight: undefined });
      expect((await p.store.get(id))?.committedThrough?.toISOString()).toBe("2026-01-01T01:00:00.000Z");
    }
    expect(await p.rows()).toHaveLength(24);
  });

  it("sends nothing for a connector prepared ahead whose lease expired while the one before finished", async () => {
    const p = await start();
    const base = p.deps();
    const second = { ...p.connector, id: "jira-second" };
    let intruder: Promise<boolean> | undefined;
    const sentFor = new Set<string>();
    // The first connector's last window outlasts the second's lease (5 min), and another runner takes it over.
    const takeOverSecond = async () => {
      await vi.waitFor(
        async () => expect(await p.store.get("jira-second")).toMatchObject({ leaseOwner: "runner-a" }),
        { timeout: 10_000, interval: 5 },
      );
      p.clock.advance(6 * 60_000);
      return (await p.store.acquireLease("jira-second", "runner-b", 60_000)) !== undefined;
    };
    const slowLastWindow: Sink = {
      async send(connector, events, options) {
        sentFor.add(connector.id);
        const lastWindow = (events as { created: string }[]).some((e) => e.created >= "2026-01-01T00:55:00Z");
        // Both of the window's sends wait for the one take-over.
        if (connector.id === "jira-audit" && lastWindow) {
          intruder ??= takeOverSecond();
          await intruder;
        }
        return base.sink.send(connector, events, options);
      },
    };
    const summary = await runAll({ ...base, sink: slowLastWindow }, [p.connector, second], {
      budgetMs: 60 * 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });

    expect(await intruder).toBe(true);
    expect(summary.reports.map((r) => [r.connectorId, r.outcome])).toEqual([
      ["jira-audit", "caught-up"],
      ["jira-second", "lease-lost"],
    ]);
    expect(sentFor).toEqual(new Set(["jira-audit"]));
    expect(await p.store.get("jira-second")).toMatchObject({ leaseOwner: "runner-b" });
  });

  it("keeps polling the other connectors when one fails", async () => {
    const p = await start();
    const broken = {
      ...p.connector,
      id: "jira-broken",
      properties: { ...p.connector.properties, dcrConfig: undefined },
    };
    const summary = await runAll(p.deps(), [broken, p.connector], {
      budgetMs: 60_000,
      concurrency: 1,
      ...LOOKBACK,
    });
    expect(summary.reports.map((r) => [r.connectorId, r.outcome])).toEqual([
      ["jira-broken", "failed"],
      ["jira-audit", "caught-up"],
    ]);
    expect((await p.store.get("jira-broken"))?.lastError).toMatch(/dcrConfig/);
  });
});

/**
 * The store, with every lease of `connectorId` it hands out changed so that the commit of the window ending at
 * `windowEnd` (either kind) goes through `around`, which writes it by calling `commit`.
 */
/** The real sink against the stand-in, calling back as each upload call passes that point of its pipeline. */
function observedSink(p: Pipeline, on: Partial<Record<"perCall" | "perRetry", () => void>>): Sink {
  return createLogsIngestionSink({
    credential: p.standin.tokenCredential,
    clientOptions: standinClientOptions(p.standin.caCertPem, {
      additionalPolicies: Object.entries(on).map(([position, callback]) => ({
        position: position as "perCall" | "perRetry",
        policy: {
          name: `observe-${position}`,
          sendRequest: (request, next) => {
            callback();
            return next(request);
          },
        },
      })),
    }),
    logger: p.deps().logger,
    deadLetter: createFolderDeadLetterStore(path.join(tmpdir(), "ccp-unused-dead-letter")),
  });
}

function aroundCommit(
  store: WatermarkStore,
  connectorId: string,
  windowEnd: string,
  around: (commit: () => Promise<WatermarkRow>) => Promise<WatermarkRow>,
): WatermarkStore {
  const wrap = (lease: Lease): Lease =>
    new Proxy(lease, {
      get(target, property) {
        const member: unknown = Reflect.get(target, property, target);
        if ((property !== "commitWindow" && property !== "commitLastWindow") || member === undefined)
          return member;
        const commit = member as Lease["commitWindow"];
        return (...args: Parameters<Lease["commitWindow"]>) =>
          args[0].end.toISOString() === windowEnd
            ? around(() => commit.apply(target, args))
            : commit.apply(target, args);
      },
    });
  return new Proxy(store, {
    get(target, property) {
      if (property !== "acquireLease") return Reflect.get(target, property, target);
      return async (...args: Parameters<WatermarkStore["acquireLease"]>) => {
        const lease = await target.acquireLease(...args);
        return lease?.connectorId === connectorId ? wrap(lease) : lease;
      };
    },
  });
}
