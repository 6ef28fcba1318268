import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CompareResult,
  createLocalSource,
  DEFAULT_COLUMNS,
  LOCAL_NATIVE_DCR_ID,
  runCompare,
  type Side,
  type StoredStream,
} from "../../src/compare/index.ts";
import { createRowStore } from "../../src/local/standin/row-store.ts";
import { FROM, type Seed, seededRows, TO, WINDOW_STARTS } from "./scenario.ts";

const STREAM = "Custom-JiraAuditRecords";

let dataDir: string;
let streams: Record<Side, StoredStream>;

beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "ccp-compare-"));
  streams = {
    func: { dataDir, dcrId: "dcr-func", stream: STREAM },
    ccp: { dataDir, dcrId: LOCAL_NATIVE_DCR_ID, stream: STREAM },
  };
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** Stores the seeded rows the way the stand-in does, then compares the two streams. */
async function compareSeeded(...seeds: Seed[]): Promise<CompareResult> {
  const rows = seededRows(...seeds);
  const store = createRowStore(dataDir);
  await store.append(streams.func.dcrId, STREAM, rows.func);
  await store.append(streams.ccp.dcrId, STREAM, rows.ccp);
  return runCompare({
    connectorId: "jira-audit",
    from: new Date(FROM),
    to: new Date(TO),
    windowMinutes: 5,
    source: createLocalSource(streams, DEFAULT_COLUMNS),
    columns: DEFAULT_COLUMNS,
  });
}

const differing = (result: CompareResult) => result.windows.filter((w) => !w.equal).map((w) => w.start);

describe("compare over the stand-in's stored streams", () => {
  it("finds two identical sides equal, window by window, with counts and first/last event times", async () => {
    const result = await compareSeeded();

    expect(result.totals.equal).toBe(true);
    expect(result.verdict).toBe("EQUAL: 3 window(s), 12 rows in func, 12 in ccp");
    expect(result.windows.map((w) => [w.start, w.end])).toEqual([
      [WINDOW_STARTS[0], WINDOW_STARTS[1]],
      [WINDOW_STARTS[1], WINDOW_STARTS[2]],
      [WINDOW_STARTS[2], TO],
    ]);
    expect(result.windows[0]?.func).toEqual({
      rows: 4,
      distinctKeys: 4,
      firstEvent: "2026-01-01T10:00:30.000Z",
      lastEvent: "2026-01-01T10:04:15.000Z",
      onlyHere: [],
      duplicates: [],
    });
    expect(result.windows[0]?.ccp).toEqual(result.windows[0]?.func);
  });

  it("reports a page missing on the native side as exactly its records, in their window", async () => {
    const result = await compareSeeded("missingPage");

    expect(differing(result)).toEqual([WINDOW_STARTS[0]]);
    const [first] = result.windows;
    expect(first?.func.onlyHere).toEqual([
      { key: "3", eventTime: "2026-01-01T10:03:00.000Z" },
      { key: "4", eventTime: "2026-01-01T10:04:15.000Z" },
    ]);
    expect(first?.ccp).toMatchObject({ rows: 2, onlyHere: [], lastEvent: "2026-01-01T10:01:45.000Z" });
    expect(result.verdict).toBe(
      "DIFFERENT: 1 of 3 window(s) differ (12 rows in func, 10 in ccp): 2 only in func",
    );
  });

  it("reports a page sent twice as duplicates within that side, not as missing records", async () => {
    const result = await compareSeeded("duplicatedPage");

    expect(differing(result)).toEqual([WINDOW_STARTS[1]]);
    const second = result.windows[1];
    expect(second?.func).toMatchObject({
      rows: 6,
      distinctKeys: 4,
      onlyHere: [],
      duplicates: [
        { key: "5", copies: 2 },
        { key: "6", copies: 2 },
      ],
    });
    expect(second?.ccp.duplicates).toEqual([]);
    expect(second?.changed).toEqual([]);
    expect(result.totals.duplicated).toEqual({ func: 2, ccp: 0 });
  });

  it("reports a field transformed differently with both values, ignoring CcpEventId and key order", async () => {
    const result = await compareSeeded("transformedField");

    expect(differing(result)).toEqual([WINDOW_STARTS[2]]);
    expect(result.windows[2]?.changed).toEqual([
      {
        key: "9",
        eventTime: "2026-01-01T10:10:30.000Z",
        differences: [{ column: "summary", func: "User created 9", ccp: "USER CREATED 9" }],
      },
    ]);
  });

  it("reports a record whose event time crossed a window boundary once, as moved, in both windows", async () => {
    const result = await compareSeeded("shiftedBoundary");

    const moved = {
      key: "13",
      func: { eventTime: "2026-01-01T10:09:59.600Z", windowStart: WINDOW_STARTS[1] },
      ccp: { eventTime: "2026-01-01T10:10:00.000Z", windowStart: WINDOW_STARTS[2] },
      differences: [{ column: "created", func: "2026-01-01T10:09:59.600Z", ccp: "2026-01-01T10:10:00.000Z" }],
    };
    expect(differing(result)).toEqual([WINDOW_STARTS[1], WINDOW_STARTS[2]]);
    expect(result.windows[1]?.moved).toEqual([moved]);
    expect(result.windows[2]?.moved).toEqual([moved]);
    expect(result.windows.flatMap((w) => [...w.func.onlyHere, ...w.ccp.onlyHere])).toEqual([]);
    expect(result.windows[1]?.func.lastEvent).toBe("2026-01-01T10:09:59.600Z");
    expect(result.windows[2]?.ccp.firstEvent).toBe("2026-01-01T10:10:00.000Z");
    expect(result.totals.moved).toBe(1);
  });

  it("reports every seeded difference at once, each counted once in the verdict", async () => {
    const result = await compareSeeded(
      "missingPage",
      "duplicatedPage",
      "transformedField",
      "shiftedBoundary",
    );

    expect(result.totals).toMatchObject({
      windows: 3,
      differingWindows: 3,
      rows: { func: 15, ccp: 11 },
      onlyIn: { func: 2, ccp: 0 },
      duplicated: { func: 2, ccp: 0 },
      changed: 1,
      moved: 1,
      equal: false,
    });
    expect(result.verdict).toBe(
      "DIFFERENT: 3 of 3 window(s) differ (15 rows in func, 11 in ccp): 2 only in func, 2 duplicated in func, 1 changed, 1 moved across a window boundary",
    );
  });

  it("compares a column it ignores by default when told to, and ignores one it is told to", async () => {
    const rows = seededRows("transformedField");
    const store = createRowStore(dataDir);
    await store.append(streams.func.dcrId, STREAM, rows.func);
    await store.append(streams.ccp.dcrId, STREAM, rows.ccp);
    const compareWith = (ignore: string[]) => {
      const columns = { ...DEFAULT_COLUMNS, ignore };
      const source = createLocalSource(streams, columns);
      return runCompare({
        connectorId: "jira-audit",
        from: new Date(FROM),
        to: new Date(TO),
        windowMinutes: 5,
        source,
        columns,
      });
    };

    const strict = await compareWith([]);
    const lenient = await compareWith([...DEFAULT_COLUMNS.ignore, "summary"]);

    expect(strict.totals.changed).toBe(12);
    expect(strict.windows[0]?.changed[0]?.differences.map((d) => d.column)).toEqual(["CcpEventId"]);
    expect(lenient.totals.equal).toBe(true);
  });

  it("ends the last window at --to, shorter, and leaves later records out", async () => {
    const rows = seededRows();
    const store = createRowStore(dataDir);
    await store.append(streams.func.dcrId, STREAM, rows.func);
    await store.append(streams.ccp.dcrId, STREAM, rows.ccp);

    const result = await runCompare({
      connectorId: "jira-audit",
      from: new Date(FROM),
      to: new Date("2026-01-01T10:12:00.000Z"),
      windowMinutes: 5,
      source: createLocalSource(streams, DEFAULT_COLUMNS),
      columns: DEFAULT_COLUMNS,
    });

    expect(result.windows.at(-1)).toMatchObject({
      start: WINDOW_STARTS[2],
      end: "2026-01-01T10:12:00.000Z",
      func: { rows: 2, lastEvent: "2026-01-01T10:11:45.000Z" },
    });
    expect(result.totals.rows).toEqual({ func: 10, ccp: 10 });
  });

  it("says so when neither side has a row, rather than calling that parity", async () => {
    const source = createLocalSource(streams, DEFAULT_COLUMNS);

    const result = await runCompare({
      connectorId: "jira-audit",
      from: new Date(FROM),
      to: new Date(TO),
      windowMinutes: 5,
      source,
      columns: DEFAULT_COLUMNS,
    });

    expect(result.verdict).toBe(
      "EQUAL, BOTH EMPTY: no rows on either side in 3 window(s); check the tables or streams and the range",
    );
  });

  it("reports every record as one-sided when the native stream is absent", async () => {
    const store = createRowStore(dataDir);
    await store.append(streams.func.dcrId, STREAM, seededRows().func);
    const source = createLocalSource(streams, DEFAULT_COLUMNS);

    const result = await runCompare({
      connectorId: "jira-audit",
      from: new Date(FROM),
      to: new Date(TO),
      windowMinutes: 5,
      source,
      columns: DEFAULT_COLUMNS,
    });

    expect(result.totals.onlyIn).toEqual({ func: 12, ccp: 0 });
    expect(result.totals.rows.ccp).toBe(0);
  });
});
