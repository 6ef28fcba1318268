/**
 * The watermark store against a real Azurite (started once for this file, in memory, on free ports). Each test
 * gets its own table so tests do not see each other's rows.
 */
import type { TableClient } from "@azure/data-tables";
import { describe, expect, it } from "vitest";
import { createFakeClock, type FakeClock } from "../../src/engine/clock.ts";
import { HttpStatusError } from "../../src/engine/errors.ts";
import type { Window } from "../../src/engine/types.ts";
import {
  createWatermarkStore,
  defaultLeaseOwner,
  LeaseLostError,
  limits,
  type RegisteredConnector,
  StateValueTooLargeError,
  type WatermarkRow,
  type WatermarkStore,
  type WatermarkStoreOptions,
  type WindowCounts,
  WindowNotContiguousError,
} from "../../src/state/index.ts";
import { rowToEntity } from "../../src/state/row.ts";
import { preloadMaxAgeMs } from "../../src/state/watermark-store.ts";
import { freshTableClient, useAzurite } from "../support/azurite.ts";

const azurite = useAzurite();

const start = "2026-03-01T00:00:00.000Z";
const minutes = (n: number) => n * 60_000;

function windowAt(startIso: string, lengthMinutes = 5): Window {
  const from = new Date(startIso);
  return { start: from, end: new Date(from.getTime() + minutes(lengthMinutes)) };
}

/** Consecutive 5-minute windows from `start`. */
function nthWindow(n: number): Window {
  return windowAt(new Date(new Date(start).getTime() + minutes(5 * n)).toISOString());
}

function counts(accepted: number, extra: Partial<WindowCounts> = {}): WindowCounts {
  return {
    fetched: accepted,
    extracted: accepted,
    sent: accepted,
    accepted,
    pages: 1,
    durationMs: 120,
    ...extra,
  };
}

function connector(id: string, overrides: Partial<RegisteredConnector> = {}): RegisteredConnector {
  return {
    id,
    definitionHash: "0123456789abcdef",
    source: { file: "connectors/demo-audit.json" },
    properties: { isActive: true, request: { queryWindowInMin: 5, queryWindowDelayInMin: 0 } },
    ...overrides,
  };
}

interface Fixture {
  tableClient: TableClient;
  clock: FakeClock;
  store(options?: Partial<WatermarkStoreOptions>): WatermarkStore;
}

async function freshTable(): Promise<Fixture> {
  const tableClient = await freshTableClient(azurite(), "Watermarks");
  const clock = createFakeClock(start);
  const store = (options: Partial<WatermarkStoreOptions> = {}) =>
    createWatermarkStore({ tableClient, clock, ...options });
  return { tableClient, clock, store };
}

describe("watermark row", () => {
  it("is created by register with plain, self-explaining columns and reads back as a typed row", async () => {
    const { tableClient, clock, store } = await freshTable();
    clock.set("2026-03-01T00:11:00.000Z");
    const state = store();
    await state.register(connector("demo-audit"));
    const lease = await state.acquireLease("demo-audit", "runner-1", minutes(10));
    if (!lease) throw new Error("expected the lease");
    await lease.beginWindow(nthWindow(0));
    clock.advance(2_000);
    await lease.commitWindow(
      nthWindow(0),
      counts(40, { fetched: 42, extracted: 41, pages: 3 }),
      "cursor-page-3",
    );
    await lease.beginWindow(nthWindow(1));
    clock.advance(1_000);
    await lease.failWindow(
      nthWindow(1),
      new HttpStatusError(503, "GET", "https://api.example.test/audit", "upstream busy", true),
      counts(0, { fetched: 10, extracted: 10, sent: 0 }),
    );
    await lease.recordDeadLetter(1, "blob: ccp-poller-dead-letter/demo-audit/2026-03-01T00-05.ndjson");

    const {
      etag: _etag,
      timestamp: _timestamp,
      "odata.metadata": _metadata, // names this run's random port and table
      ...stored
    } = await tableClient.getEntity("connector", "demo-audit");
    expect(stored).toMatchInlineSnapshot(`
      {
        "ActivityHours": "ajvc:14.6",
        "CommittedThrough": "2026-03-01T00:05:00.000Z",
        "ConnectorId": "demo-audit",
        "ConsecutiveFailures": 1,
        "DeadLetterCount": 1,
        "DeadLetterLocation": "blob: ccp-poller-dead-letter/demo-audit/2026-03-01T00-05.ndjson",
        "DefinitionChangedAt": "",
        "DefinitionFile": "connectors/demo-audit.json",
        "DefinitionHash": "0123456789abcdef",
        "DelayMinutes": 0,
        "DisabledReason": "",
        "HealthLastError": "",
        "HealthLastSentAt": "",
        "HealthLastStatus": "",
        "HistoryRowsSincePrune": 2,
        "LagMinutes": 6,
        "LastDataAt": "2026-03-01T00:11:02.000Z",
        "LastError": "GET https://api.example.test/audit returned HTTP 503: upstream busy",
        "LastErrorAt": "2026-03-01T00:11:03.000Z",
        "LastErrorKind": "HttpStatusError (http-status)",
        "LastSuccessAt": "2026-03-01T00:11:02.000Z",
        "LastWindowAccepted": 0,
        "LastWindowDurationMs": 120,
        "LastWindowExtracted": 10,
        "LastWindowFetched": 10,
        "LastWindowPages": 1,
        "LastWindowSent": 0,
        "LeaseOwner": "runner-1",
        "LeaseUntil": "2026-03-01T00:21:03.000Z",
        "NotBefore": "",
        "PersistentCursor": "cursor-page-3",
        "Status": "Failing",
        "StatusReason": "1 consecutive failed attempt(s), last HttpStatusError (http-status) on window 2026-03-01T00:05:00.000Z → 2026-03-01T00:10:00.000Z (attempt 1); 6 min behind",
        "TotalAccepted": 40,
        "TotalFetched": 52,
        "TotalSent": 40,
        "UpdatedAt": "2026-03-01T00:11:03.000Z",
        "WindowAttempts": 1,
        "WindowInFlight": "2026-03-01T00:05:00.000Z → 2026-03-01T00:10:00.000Z",
        "WindowMinutes": 5,
        "partitionKey": "connector",
        "rowKey": "demo-audit",
      }
    `);

    const row = await state.get("demo-audit");
    expect(row).toMatchObject({
      status: "Failing",
      committedThrough: nthWindow(1).start,
      cursor: "cursor-page-3",
      windowInFlight: nthWindow(1),
      windowAttempts: 1,
      consecutiveFailures: 1,
      lastErrorKind: "HttpStatusError (http-status)",
      totals: { fetched: 52, sent: 40, accepted: 40 },
      deadLetterCount: 1,
      leaseOwner: "runner-1",
    });
    // Every value is JSON-safe: no BigInt anywhere.
    expect(JSON.parse(JSON.stringify(row))).toMatchObject({ committedThrough: "2026-03-01T00:05:00.000Z" });
  });

  it("keeps each hour's accepted events and largest lag in the row, written by commit and fail", async () => {
    const { tableClient, clock, store } = await freshTable();
    const state = store();
    await state.register(connector("demo"));
    const lease = await state.acquireLease("demo", "runner-1", minutes(90));
    if (!lease) throw new Error("expected the lease");
    clock.set("2026-03-01T00:07:00.000Z");
    await lease.commitWindow(nthWindow(0), counts(40)); // 2 min behind
    clock.set("2026-03-01T00:14:00.000Z");
    await lease.commitWindow(nthWindow(1), counts(2)); // 4 min behind
    clock.set("2026-03-01T01:30:00.000Z");
    await lease.failWindow(nthWindow(2), new Error("HTTP 503"), counts(0)); // 80 min behind

    const row = await state.get("demo");
    expect(row?.activity).toEqual({
      lastDataAt: new Date("2026-03-01T00:14:00.000Z"),
      hours: [
        { hour: Date.parse("2026-03-01T00:00:00Z"), accepted: 42, maxLagMinutes: 4 },
        { hour: Date.parse("2026-03-01T01:00:00Z"), accepted: 0, maxLagMinutes: 80 },
      ],
    });
    const entity = await tableClient.getEntity("connector", "demo");
    expect([entity.LastDataAt, entity.ActivityHours]).toEqual(["2026-03-01T00:14:00.000Z", "ajvc:16.4,0.28"]);

    // A row written before these columns existed reads as no activity.
    await tableClient.upsertEntity(
      Object.fromEntries(
        Object.entries(await tableClient.getEntity("connector", "demo")).filter(
          ([column]) =>
            !["LastDataAt", "ActivityHours", "etag", "timestamp", "odata.metadata"].includes(column),
        ),
      ) as { partitionKey: string; rowKey: string },
      "Replace",
    );
    expect(Object.keys(await tableClient.getEntity("connector", "demo"))).not.toContain("ActivityHours");
    expect((await state.get("demo"))?.activity).toEqual({ lastDataAt: undefined, hours: [] });
  });

  it("recomputes status and lag when read, so a row nobody wrote for hours still shows its true lag", async () => {
    const { clock, store } = await freshTable();
    const state = store();
    await state.register(connector("stale"));
    const lease = await state.acquireLease("stale", "runner-1", minutes(5));
    await lease?.commitWindow(nthWindow(0), counts(1));
    expect((await state.get("stale"))?.status).toBe("Healthy");

    clock.advance(minutes(5 + 15)); // delay 0 + 2 windows of 5 + poll 5 = 15 min allowed
    expect((await state.list()).map((r) => [r.connectorId, r.status, r.lagMinutes])).toEqual([
      ["stale", "Healthy", 15],
    ]);
    clock.advance(minutes(1));
    const [row] = await state.list();
    expect(row).toMatchObject({ status: "Lagging", lagMinutes: 16 });
    expect(row?.statusReason).toContain("more than 15 min");
  });

  it("records a changed definition hash, and re-registering an unchanged definition writes nothing", async () => {
    const { tableClient, clock, store } = await freshTable();
    const state = store();
    await state.register(connector("demo"));
    const before = await tableClient.getEntity("connector", "demo");
    await state.register(connector("demo"));
    expect((await tableClient.getEntity("connector", "demo")).etag).toBe(before.etag);

    clock.advance(minutes(1));
    const changed = await state.register(connector("demo", { definitionHash: "fedcba9876543210" }));
    expect(changed).toMatchObject({ definitionHash: "fedcba9876543210", definitionChangedAt: clock.now() });
  });

  it("is Disabled when the definition says isActive: false or an operator disables it", async () => {
    const { store } = await freshTable();
    const state = store();
    const inactive = await state.register(
      connector("off", {
        properties: { isActive: false, request: { queryWindowInMin: 5, queryWindowDelayInMin: 0 } },
      }),
    );
    expect(inactive).toMatchObject({
      status: "Disabled",
      statusReason: "isActive is false in the definition",
    });
    expect((await state.register(connector("off"))).status).toBe("Healthy");

    await state.setDisabled("off", "vendor API retired, ticket OPS-42");
    expect(await state.get("off")).toMatchObject({
      status: "Disabled",
      statusReason: "vendor API retired, ticket OPS-42",
    });
    // An operator's reason survives re-registration; only setEnabled clears it.
    expect((await state.register(connector("off"))).status).toBe("Disabled");
    expect((await state.setEnabled("off")).status).toBe("Healthy");
  });
});

describe("lease", () => {
  it("keeps a second owner out while the first holds it, and lets it in after release", async () => {
    const { store } = await freshTable();
    const first = store();
    const second = store();
    await first.register(connector("shared"));
    const held = await first.acquireLease("shared", "runner-a", minutes(5));
    expect(held).toBeDefined();
    expect(await second.acquireLease("shared", "runner-b", minutes(5))).toBeUndefined();

    await held?.release();
    await expect(held?.commitWindow(nthWindow(0), counts(1))).rejects.toThrow(
      /was released; acquire a new one/,
    );
    const taken = await second.acquireLease("shared", "runner-b", minutes(5));
    expect(taken?.owner).toBe("runner-b");
    expect((await second.get("shared"))?.leaseOwner).toBe("runner-b");
  });

  it("is given up by the run's last commit in the same write; a health note may follow while no one took the row", async () => {
    const { store } = await freshTable();
    const state = store({ historyRetention: 20 });
    const other = store();
    await state.register(connector("last"));
    const lease = await state.acquireLease("last", "runner-a", minutes(5));
    if (!lease?.commitLastWindow) throw new Error("expected a connector lease");
    await lease.commitWindow(nthWindow(0), counts(1), undefined, nthWindow(1));
    const committed = await lease.commitLastWindow(nthWindow(1), counts(2));
    expect(committed).toMatchObject({
      leaseOwner: undefined,
      leaseUntil: undefined,
      windowInFlight: undefined,
    });
    expect(await state.get("last")).toMatchObject({
      leaseOwner: undefined,
      committedThrough: nthWindow(1).end,
      historyRowsSincePrune: 0, // two rows reached a tenth of the retention: this write reset the count
    });

    await lease.recordHealth({ lastStatus: "Healthy", lastSentAt: new Date(start), error: "" });
    expect(await state.get("last")).toMatchObject({ leaseOwner: undefined, healthLastStatus: "Healthy" });
    expect(await lease.release()).toBe(true);
    expect(await state.history("last", 100)).toHaveLength(2);
    await expect(lease.commitWindow(nthWindow(2), counts(1))).rejects.toThrow(
      /was released; acquire a new one/,
    );

    // Free at once for the next runner; a late note of the old one is refused and leaves its lease alone.
    expect((await other.acquireLease("last", "runner-b", minutes(5)))?.owner).toBe("runner-b");
    await expect(lease.recordHealth({ error: "late" })).rejects.toBeInstanceOf(LeaseLostError);
    expect(await state.get("last")).toMatchObject({ leaseOwner: "runner-b", healthLastError: "" });
  });

  it("is taken from the row register read, and still right when that row changed since", async () => {
    const { store } = await freshTable();
    const mine = store();
    const other = store();
    await other.register(connector("stale"));

    // Registered, then another runner takes and gives back the lease: the row register read is out of date.
    await mine.register(connector("stale"));
    await (await other.acquireLease("stale", "runner-b", minutes(5)))?.release();
    const taken = await mine.acquireLease("stale", "runner-a", minutes(5));
    expect(taken?.owner).toBe("runner-a");
    expect((await mine.get("stale"))?.leaseOwner).toBe("runner-a");
    await taken?.release();

    // Registered, then another runner takes the lease and holds it: not ours, however old the row read.
    await mine.register(connector("stale"));
    const held = await other.acquireLease("stale", "runner-b", minutes(5));
    expect(held?.owner).toBe("runner-b");
    expect(await mine.acquireLease("stale", "runner-a", minutes(5))).toBeUndefined();
    expect((await mine.get("stale"))?.leaseOwner).toBe("runner-b");
  });

  it("is registered from one query for many connectors, each row used once and only while recent", async () => {
    const { tableClient, clock, store } = await freshTable();
    const reads: string[] = [];
    tableClient.pipeline.addPolicy({
      name: "record-reads",
      sendRequest(request, next) {
        if (request.method === "GET") reads.push(new URL(request.url).search === "" ? "row" : "query");
        return next(request);
      },
    });
    const other = store();
    await other.register(connector("known"));
    const mine = store();

    reads.length = 0;
    await mine.preload(["known", "new", "raced", "late"]);
    expect(reads).toEqual(["query"]);
    await other.register(connector("raced")); // created after the query: the query said it had no row
    reads.length = 0;
    await mine.register(connector("known"));
    await mine.register(connector("new"));
    await mine.register(connector("raced"));
    expect(reads).toEqual(["row"]); // the one read: "raced", after its insert was refused (409)
    const lease = await mine.acquireLease("known", "runner-a", minutes(5));
    expect(lease?.owner).toBe("runner-a");
    expect(reads).toHaveLength(1);

    clock.advance(preloadMaxAgeMs + 1);
    await mine.register(connector("late"));
    await mine.register(connector("known")); // used once: read again
    expect(reads).toEqual(["row", "row", "row"]);
    expect((await other.get("late"))?.connectorId).toBe("late");
  });

  it("marks the first window in flight with its own write, counting attempts as beginWindow does", async () => {
    const { store } = await freshTable();
    const state = store();
    await state.register(connector("begun"));
    const first = await state.acquireLease("begun", "runner-a", minutes(5), { begin: () => nthWindow(0) });
    expect(first?.current).toMatchObject({ windowInFlight: nthWindow(0), windowAttempts: 1 });
    await first?.release();
    // A runner that stopped there: the next lease's attempt at the same window is the second.
    const again = await state.acquireLease("begun", "runner-a", minutes(5), { begin: () => nthWindow(0) });
    expect((await state.get("begun"))?.windowAttempts).toBe(2);
    await again?.commitWindow(nthWindow(0), counts(1));
    await again?.release();
    await expect(
      state.acquireLease("begun", "runner-a", minutes(5), { begin: () => nthWindow(2) }),
    ).rejects.toBeInstanceOf(WindowNotContiguousError);
  });

  it("lets only one of several owners racing for a free lease win", async () => {
    const { store } = await freshTable();
    await store().register(connector("race"));
    const owners = [defaultLeaseOwner(), defaultLeaseOwner(), defaultLeaseOwner()];
    expect(new Set(owners).size).toBe(3);
    const results = await Promise.all(owners.map((owner) => store().acquireLease("race", owner, minutes(5))));
    expect(results.filter((lease) => lease !== undefined)).toHaveLength(1);
  });

  it("is taken over once expired, and the old holder gets LeaseLostError instead of overwriting", async () => {
    const { clock, store } = await freshTable();
    const state = store();
    await state.register(connector("expiring"));
    const old = await state.acquireLease("expiring", "runner-a", minutes(1));
    await old?.beginWindow(nthWindow(0));

    clock.advance(minutes(1) + 1);
    const fresh = await state.acquireLease("expiring", "runner-b", minutes(1));
    expect(fresh?.owner).toBe("runner-b");

    await expect(old?.commitWindow(nthWindow(0), counts(5))).rejects.toBeInstanceOf(LeaseLostError);
    await expect(old?.read()).rejects.toBeInstanceOf(LeaseLostError);
    const row = await state.get("expiring");
    expect(row).toMatchObject({ committedThrough: undefined, leaseOwner: "runner-b" });
    expect((await state.history("expiring")).map((h) => [h.outcome, h.owner])).toEqual([
      ["LeaseLost", "runner-a"],
    ]);
  });

  it("is renewed by every write, so a runner committing windows keeps it", async () => {
    const { clock, store } = await freshTable();
    const state = store();
    await state.register(connector("busy"));
    const lease = await state.acquireLease("busy", "runner-a", minutes(2));
    for (let n = 0; n < 3; n += 1) {
      clock.advance(minutes(1.5));
      await lease?.commitWindow(nthWindow(n), counts(1));
    }
    expect(await state.acquireLease("busy", "runner-b", minutes(2))).toBeUndefined();
    expect(lease?.until).toEqual(new Date(clock.now().getTime() + minutes(2)));
  });

  it("sends only the columns that changed since register read or wrote the row, leaving the row every column would", async () => {
    const { tableClient, clock, store } = await freshTable();
    // The columns of each Merge, as the table client sends it.
    const merges: string[][] = [];
    tableClient.pipeline.addPolicy(
      {
        name: "record-merges",
        sendRequest(request, next) {
          if (request.method === "PATCH") merges.push(Object.keys(JSON.parse(String(request.body))));
          return next(request);
        },
      },
      { afterPhase: "Sign" },
    );
    const unchanged = ["DefinitionFile", "DefinitionHash", "WindowMinutes", "DelayMinutes", "ConnectorId"];
    const expectStoredAsFull = async () => {
      const stored = await tableClient.getEntity<Record<string, unknown>>("connector", "thrifty");
      const row = (await store().get("thrifty")) as WatermarkRow;
      for (const [column, value] of Object.entries(rowToEntity(row, clock.now()))) {
        expect(stored[column], column).toEqual(value);
      }
      return row;
    };

    // A first run: register creates the row, the lease's writes follow it.
    const first = store();
    await first.register(connector("thrifty"));
    const lease = await first.acquireLease("thrifty", "runner-a", minutes(10));
    clock.advance(minutes(1));
    await lease?.commitWindow(nthWindow(0), counts(3), undefined, nthWindow(1));
    clock.advance(minutes(1));
    await lease?.commitWindow(nthWindow(1), counts(4));
    await lease?.release();
    expect(await expectStoredAsFull()).toMatchObject({
      committedThrough: nthWindow(1).end,
      leaseOwner: undefined,
    });

    // The next run, in another process: register reads the row, and the lease's first write follows that.
    clock.advance(minutes(5));
    const second = store();
    await second.register(connector("thrifty"));
    const again = await second.acquireLease("thrifty", "runner-b", minutes(10));
    await again?.commitLastWindow?.(nthWindow(2), counts(5));
    expect(await expectStoredAsFull()).toMatchObject({
      committedThrough: nthWindow(2).end,
      leaseOwner: undefined,
    });

    expect(merges).toHaveLength(6);
    for (const columns of merges) {
      expect(columns.slice(0, 2)).toEqual(["PartitionKey", "RowKey"]);
      for (const column of unchanged) expect(columns).not.toContain(column);
    }
    // Each lease's first write: the lease's columns, not the whole row.
    expect(merges[0]).toEqual(expect.arrayContaining(["LeaseOwner", "LeaseUntil"]));
    expect(merges[4]).toEqual(expect.arrayContaining(["LeaseOwner", "LeaseUntil", "UpdatedAt"]));
    expect(merges[1]).toEqual(
      expect.arrayContaining(["CommittedThrough", "WindowInFlight", "TotalAccepted"]),
    );
    // The first run's release: the lease's two columns (nothing else changed since its last commit).
    expect(merges[3]).toEqual(["PartitionKey", "RowKey", "LeaseOwner", "LeaseUntil"]);
  });

  it("turns a 412 into LeaseLostError when someone else wrote the row in between", async () => {
    const { store } = await freshTable();
    const runner = store();
    const operator = store();
    await runner.register(connector("contested"));
    const lease = await runner.acquireLease("contested", "runner-a", minutes(10));
    await lease?.commitWindow(nthWindow(0), counts(3));

    const resetTo = new Date("2026-02-28T00:00:00.000Z");
    await operator.reset("contested", resetTo);
    await expect(lease?.commitWindow(nthWindow(1), counts(3))).rejects.toBeInstanceOf(LeaseLostError);
    expect((await operator.get("contested"))?.committedThrough).toEqual(resetTo);
  });
});

describe("commit rule", () => {
  it("commits only contiguous windows: no holes, never backwards", async () => {
    const { store } = await freshTable();
    const state = store();
    await state.register(connector("contiguous"));
    const lease = await state.acquireLease("contiguous", "runner-a", minutes(10));
    if (!lease) throw new Error("expected the lease");
    await lease.commitWindow(nthWindow(0), counts(1));

    await expect(lease.commitWindow(nthWindow(2), counts(1))).rejects.toBeInstanceOf(
      WindowNotContiguousError,
    );
    await expect(lease.commitWindow(nthWindow(0), counts(1))).rejects.toThrow(
      /CommittedThrough is 2026-03-01T00:05/,
    );
    await expect(lease.beginWindow(nthWindow(2))).rejects.toBeInstanceOf(WindowNotContiguousError);
    expect((await lease.read()).committedThrough).toEqual(nthWindow(0).end);

    await lease.commitWindow(nthWindow(1), counts(1));
    expect((await lease.read()).committedThrough).toEqual(nthWindow(1).end);
  });

  it("a failed window keeps CommittedThrough and the cursor, counts attempts and shows a secret-free error", async () => {
    const { store } = await freshTable();
    const state = store();
    await state.register(connector("flaky"));
    const secret = "test-api-key-7f3a9c";
    const lease = await state.acquireLease("flaky", "runner-a", minutes(10), { secrets: [secret] });
    if (!lease) throw new Error("expected the lease");
    await lease.commitWindow(nthWindow(0), counts(2), "cursor-1");

    for (let attempt = 1; attempt <= 3; attempt += 1) {
      await lease.beginWindow(nthWindow(1));
      await lease.failWindow(
        nthWindow(1),
        new Error(`GET https://api.example.test/x?key=${encodeURIComponent(secret)} failed; token ${secret}`),
        counts(0, { fetched: 7 }),
      );
    }
    const failing = await lease.read();
    expect(failing).toMatchObject({
      status: "Failing",
      committedThrough: nthWindow(0).end,
      cursor: "cursor-1",
      windowInFlight: nthWindow(1),
      windowAttempts: 3,
      consecutiveFailures: 3,
      lastErrorKind: "Error",
    });
    expect(failing.lastError).not.toContain(secret);
    expect(failing.lastError).toContain("***");
    expect(JSON.stringify(await state.history("flaky"))).not.toContain(secret);

    await lease.beginWindow(nthWindow(1));
    const recovered = await lease.commitWindow(nthWindow(1), counts(4));
    expect(recovered).toMatchObject({
      status: "Healthy",
      committedThrough: nthWindow(1).end,
      windowInFlight: undefined,
      consecutiveFailures: 0,
      cursor: "cursor-1",
    });
    expect((await state.history("flaky", 1))[0]).toMatchObject({ outcome: "Succeeded", attempt: 4 });
  });

  it("moves the cursor only together with a commit", async () => {
    const { store } = await freshTable();
    const state = store();
    await state.register(connector("persistent"));
    const lease = await state.acquireLease("persistent", "runner-a", minutes(10));
    if (!lease) throw new Error("expected the lease");
    await lease.commitWindow(nthWindow(0), counts(1), "c1");
    await lease.failWindow(nthWindow(1), new Error("boom"), counts(0));
    expect((await lease.read()).cursor).toBe("c1");
    await lease.commitWindow(nthWindow(1), counts(0));
    expect((await lease.read()).cursor).toBe("c1");
    await lease.commitWindow(nthWindow(2), counts(1), "c3");
    expect((await lease.read()).cursor).toBe("c3");
  });

  it("an operator reset clears cursor, failures and the window in flight", async () => {
    const { store } = await freshTable();
    const state = store();
    await state.register(connector("reset-me"));
    const lease = await state.acquireLease("reset-me", "runner-a", minutes(10));
    await lease?.commitWindow(nthWindow(0), counts(1), "c1");
    await lease?.failWindow(nthWindow(1), new Error("boom"), counts(0));
    await lease?.release();

    const row = await state.reset("reset-me", undefined);
    expect(row).toMatchObject({
      committedThrough: undefined,
      cursor: undefined,
      windowInFlight: undefined,
      consecutiveFailures: 0,
      status: "Healthy",
    });
  });
});

describe("run history", () => {
  it("lists attempts newest first and keeps only the newest N per connector", async () => {
    const { clock, store } = await freshTable();
    const state = store({ historyRetention: 5 });
    await state.register(connector("history"));
    await state.register(connector("neighbour"));
    const lease = await state.acquireLease("history", "runner-a", minutes(10));
    if (!lease) throw new Error("expected the lease");
    for (let n = 0; n < 12; n += 1) {
      await lease.failWindow(nthWindow(n), new Error(`attempt ${n} failed`), counts(0));
      await lease.commitWindow(nthWindow(n), counts(n));
      if (n % 2 === 0) clock.advance(1_000); // half the rows share a millisecond with the next one
    }
    const neighbour = await state.acquireLease("neighbour", "runner-a", minutes(10));
    await neighbour?.commitWindow(nthWindow(0), counts(1));

    const all = await state.history("history", 100);
    expect(all).toHaveLength(24);
    expect(all.slice(0, 3).map((h) => [h.outcome, h.window.start.toISOString()])).toEqual([
      ["Succeeded", nthWindow(11).start.toISOString()],
      ["Failed", nthWindow(11).start.toISOString()],
      ["Succeeded", nthWindow(10).start.toISOString()],
    ]);
    expect(all[1]).toMatchObject({
      attempt: 1,
      error: "attempt 11 failed",
      errorKind: "Error",
      owner: "runner-a",
    });

    await lease.release();
    const kept = await state.history("history", 100);
    expect(kept).toEqual(all.slice(0, 5));
    expect(await state.history("neighbour", 100)).toHaveLength(1);
  });
});

describe("history pruning", () => {
  it("lists the partition only once a tenth of the retention was added since the last prune", async () => {
    const { store } = await freshTable();
    const state = store({ historyRetention: 20 });
    await state.register(connector("pruned"));
    const runOf = async (windows: number, from: number) => {
      const lease = await state.acquireLease("pruned", "runner-a", minutes(10));
      if (!lease) throw new Error("expected the lease");
      for (let n = from; n < from + windows; n += 1) await lease.commitWindow(nthWindow(n), counts(1));
      await lease.release();
      return (await state.get("pruned"))?.historyRowsSincePrune;
    };
    expect(await runOf(25, 0)).toBe(0);
    expect(await state.history("pruned", 100)).toHaveLength(20);
    // One row added: fewer than 20 / 10, so no prune and the row counts it.
    expect(await runOf(1, 25)).toBe(1);
    expect(await state.history("pruned", 100)).toHaveLength(21);
    expect(await runOf(1, 26)).toBe(0);
    const kept = await state.history("pruned", 100);
    expect(kept).toHaveLength(20);
    expect(kept[0]?.window.start).toEqual(nthWindow(26).start);
  });
});

describe("value guards", () => {
  it("refuses a connector id that cannot be a table key, naming it", async () => {
    const { store } = await freshTable();
    await expect(store().register(connector("tenant/audit"))).rejects.toThrow(
      /Connector id "tenant\/audit" cannot be a table key: expected 1–512 characters without/,
    );
  });

  it("refuses a cursor over 32 KiB instead of truncating it, and commits nothing", async () => {
    const { store } = await freshTable();
    const state = store();
    await state.register(connector("big-cursor"));
    const lease = await state.acquireLease("big-cursor", "runner-a", minutes(10));
    if (!lease) throw new Error("expected the lease");
    const largest = "x".repeat(limits.cursorBytes / 2);
    await lease.commitWindow(nthWindow(0), counts(1), largest);
    expect((await lease.read()).cursor).toBe(largest);

    await expect(lease.commitWindow(nthWindow(1), counts(1), `${largest}y`)).rejects.toBeInstanceOf(
      StateValueTooLargeError,
    );
    const row = await lease.read();
    expect(row.committedThrough).toEqual(nthWindow(0).end);
    expect(row.cursor).toBe(largest);
  });

  it("truncates a huge error message well under the table's 64 KiB value limit", async () => {
    const { store } = await freshTable();
    const state = store();
    await state.register(connector("long-error"));
    const lease = await state.acquireLease("long-error", "runner-a", minutes(10));
    await lease?.failWindow(nthWindow(0), new Error("e".repeat(100_000)), counts(0));
    const row = await state.get("long-error");
    expect(row?.lastError.length).toBeLessThanOrEqual(limits.errorChars);
    expect(row?.lastError).toMatch(/truncated from 100000 characters\)$/);
  });

  it("reads Int64 and large counts back as plain numbers, never BigInt", async () => {
    const { tableClient, store } = await freshTable();
    const state = store();
    await state.register(connector("counts"));
    // As if edited in Storage Explorer: Int64 comes back from the SDK as BigInt.
    await tableClient.updateEntity(
      { partitionKey: "connector", rowKey: "counts", TotalAccepted: { value: "3000000000", type: "Int64" } },
      "Merge",
    );
    expect((await state.get("counts"))?.totals.accepted).toBe(3_000_000_000);

    const lease = await state.acquireLease("counts", "runner-a", minutes(10));
    await lease?.commitWindow(nthWindow(0), counts(5));
    const stored = await tableClient.getEntity("connector", "counts");
    expect(stored.TotalAccepted).toBe(3_000_000_005);
    const rows = await state.list();
    expect(() => JSON.stringify(rows)).not.toThrow();
    expect(rows[0]?.totals.accepted).toBe(3_000_000_005);
  });
});
