/**
 * The planner's decision per connector (pure: rows in, plan out) and folding on real Azurite: what is queued is
 * never queued twice, cursor paging is never split, a dead range is queued again, and the watermark moves only
 * through contiguous, fully accepted ranges.
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConnectors } from "../../src/definition/load.ts";
import type { Connector } from "../../src/definition/schema.ts";
import { createFakeClock } from "../../src/engine/clock.ts";
import type { Logger } from "../../src/engine/types.ts";
import { planWindows } from "../../src/engine/windows.ts";
import { foldRanges } from "../../src/fanout/fold.ts";
import { planConnector } from "../../src/fanout/planner.ts";
import { createRangeStore, freshRange, type RangeRow, rangeKeyOf } from "../../src/fanout/ranges.ts";
import { createWatermarkStore, type WatermarkRow, WindowNotContiguousError } from "../../src/state/index.ts";
import { emptyRow } from "../../src/state/row.ts";
import { freshTableClient, useAzurite } from "../support/azurite.ts";

const azurite = useAzurite();
const repoRoot = path.resolve(import.meta.dirname, "../..");
const NOW = new Date("2026-01-01T01:00:30Z");
const at = (hhmm: string) => new Date(`2026-01-01T${hhmm}:00Z`);
const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

async function jira(): Promise<Connector> {
  const result = await loadConnectors([path.join(repoRoot, "connectors/jira-audit/connector.json")], {
    env: {
      CCP_JIRA_AUDIT_DOMAIN: "jira.example.test",
      CCP_JIRA_AUDIT_USERNAME: "test-user@example.com",
      CCP_JIRA_AUDIT_APITOKEN: "test-api-token-jira-plan-0000",
      CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: "https://test-dce-0000.eastus-1.ingest.monitor.azure.com",
      CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: "dcr-00000000000000000000000000000000",
      CCP_JIRA_AUDIT_STREAMNAME: "Custom-JiraAudit_CL",
    },
  });
  const [connector] = result.connectors;
  if (connector === undefined) throw new Error(result.errors.map((e) => e.message).join("; "));
  return connector;
}

function withPersistentCursor(connector: Connector): Connector {
  const paging = {
    ...connector.properties.paging,
    pagingType: "PersistentToken",
  } as Connector["properties"]["paging"];
  return { ...connector, properties: { ...connector.properties, paging } };
}

function watermark(change: Partial<WatermarkRow> = {}): WatermarkRow {
  return { ...emptyRow("jira-audit"), windowMinutes: 5, ...change };
}

function range(start: string, end: string, change: Partial<RangeRow> = {}): RangeRow {
  const fresh = freshRange({
    connectorId: "jira-audit",
    mode: "parallel",
    start: at(start),
    end: at(end),
    queuedUntil: at("02:00"),
  });
  return { ...fresh, ...change };
}

const options = { engine: { planWindows }, rangeWindows: 3, messageTtlSeconds: 900, initialLookbackMin: 60 };
const spans = (plan: { create: { mode: string; start: Date; end: Date }[] }) =>
  plan.create.map(
    (r) => `${r.mode} ${r.start.toISOString().slice(11, 16)}-${r.end.toISOString().slice(11, 16)}`,
  );

describe("planConnector", () => {
  it("splits a long backlog into ranges of FANOUT_RANGE_WINDOWS windows, and sends a short one as one serial message", async () => {
    const connector = await jira();
    expect(spans(planConnector(connector, watermark(), [], NOW, options))).toEqual([
      "parallel 00:00-00:15",
      "parallel 00:15-00:30",
      "parallel 00:30-00:45",
      "parallel 00:45-01:00",
    ]);
    expect(spans(planConnector(connector, watermark(), [], NOW, { ...options, rangeWindows: 12 }))).toEqual([
      "serial 00:00-01:00",
    ]);
    const caughtUp = planConnector(connector, watermark({ committedThrough: at("01:00") }), [], NOW, options);
    expect(caughtUp.create).toEqual([]);
  });

  it("never splits a connector whose paging keeps a cursor: one serial message at a time", async () => {
    const connector = withPersistentCursor(await jira());
    expect(spans(planConnector(connector, watermark(), [], NOW, options))).toEqual(["serial 00:00-01:00"]);
    const queued = [range("00:00", "01:00", { mode: "serial" })];
    expect(planConnector(connector, watermark(), queued, NOW, options)).toMatchObject({
      skip: "queued",
      create: [],
    });
  });

  it("leaves queued and leased ranges alone, re-queues a dead one, folds accepted ones, plans only what no range covers", async () => {
    const connector = await jira();
    const ranges = [
      range("00:00", "00:15", { acceptedThrough: at("00:15") }), // accepted, waiting to be folded
      range("00:15", "00:30"), // queued
      range("00:30", "00:45", { queuedUntil: at("00:59"), leaseOwner: "w1", leaseUntil: at("01:11") }), // leased
      range("00:45", "01:00", { queuedUntil: at("00:59"), acceptedThrough: at("00:50") }), // message gone, worker gone
    ];
    const later = new Date("2026-01-01T01:10:30Z");
    const plan = planConnector(connector, watermark(), ranges, later, options);
    expect(plan.fold).toBe(true);
    expect(plan.requeue.map((r) => r.rangeKey)).toEqual([ranges[3]?.rangeKey]);
    expect(plan.remove).toEqual([]);
    // Planned from the earliest range, not from a look-back that moves with the clock: no overlap.
    expect(spans(plan)).toEqual(["parallel 01:00-01:10"]);
  });

  it("plans the hole an operator reset opens before existing ranges, and drops ranges the watermark covers", async () => {
    const connector = await jira();
    const ranges = [range("00:00", "00:15", { acceptedThrough: at("00:15") }), range("00:30", "00:45")];
    const plan = planConnector(connector, watermark({ committedThrough: at("00:15") }), ranges, NOW, options);
    expect(plan.remove.map((r) => r.rangeKey)).toEqual([ranges[0]?.rangeKey]);
    expect(spans(plan)).toEqual(["parallel 00:15-00:30", "parallel 00:45-01:00"]);
  });

  it("skips a disabled connector and one whose own lease is live (a serial run or a fold)", async () => {
    const connector = await jira();
    expect(planConnector(connector, watermark({ disabledReason: "off" }), [], NOW, options).skip).toBe(
      "disabled",
    );
    const leased = watermark({ leaseOwner: "w1", leaseUntil: new Date(NOW.getTime() + 1000) });
    expect(planConnector(connector, leased, [], NOW, options).skip).toBe("leased");
    const expired = watermark({ leaseOwner: "w1", leaseUntil: new Date(NOW.getTime() - 1000) });
    expect(planConnector(connector, expired, [], NOW, options).skip).toBeUndefined();
  });
});

describe("range leases and folding", () => {
  async function setup() {
    const clock = createFakeClock(NOW);
    const tableClient = await freshTableClient(azurite(), "Fold");
    const store = createWatermarkStore({ tableClient, clock });
    const ranges = createRangeStore(tableClient, clock);
    const connector = await jira();
    await store.register(connector);
    const base = (await store.get(connector.id)) as WatermarkRow;
    const counts = { fetched: 2, extracted: 2, sent: 2, accepted: 2, pages: 1, durationMs: 1 };
    /** A worker accepting every window of a range, one at a time, under the range's lease. */
    const accept = async (start: string) => {
      const lease = await ranges.acquire(rangeKeyOf(connector.id, at(start)), "worker", 60_000, base, []);
      if (lease === undefined) throw new Error("range not acquired");
      for (let t = at(start).getTime(); t < lease.range.end.getTime(); t += 5 * 60_000) {
        const window = { start: new Date(t), end: new Date(t + 5 * 60_000) };
        await lease.beginWindow(window);
        await lease.commitWindow(window, counts);
      }
      await lease.release();
    };
    const fold = () => foldRanges({ store, ranges, clock, logger: quiet }, connector, "planner", 60_000);
    await ranges.createAll(
      ["00:00", "00:15", "00:30"].map((start) => ({
        connectorId: connector.id,
        mode: "parallel" as const,
        start: at(start),
        end: new Date(at(start).getTime() + 15 * 60_000),
        queuedUntil: at("01:15"),
      })),
    );
    return { store, ranges, connector, base, accept, fold };
  }

  it("holds the watermark at a range that is not fully accepted, and folds everything contiguous once it is", async () => {
    const { store, ranges, connector, accept, fold } = await setup();
    await accept("00:15");
    await accept("00:30");
    expect(await fold()).toEqual({ committedThrough: at("00:00"), folded: 0 });
    expect((await store.get(connector.id))?.committedThrough).toBeUndefined();

    await accept("00:00");
    expect(await fold()).toEqual({ committedThrough: at("00:45"), folded: 3 });
    const row = await store.get(connector.id);
    expect(row?.committedThrough).toEqual(at("00:45"));
    expect(row?.totals.accepted).toBe(18);
    expect(await ranges.listAll()).toEqual([]);
  });

  it("gives a range to one worker at a time and refuses a window that is not the range's next", async () => {
    const { ranges, connector, base } = await setup();
    const key = rangeKeyOf(connector.id, at("00:00"));
    const first = await ranges.acquire(key, "worker-1", 60_000, base, []);
    expect(first).toBeDefined();
    expect(await ranges.acquire(key, "worker-2", 60_000, base, [])).toBeUndefined();
    await expect(first?.beginWindow({ start: at("00:05"), end: at("00:10") })).rejects.toThrow(
      WindowNotContiguousError,
    );
    await first?.release();
    expect(await ranges.acquire(key, "worker-2", 60_000, base, [])).toBeDefined();
  });

  it("does not fold while another holder has the connector's lease", async () => {
    const { store, connector, accept, fold } = await setup();
    await accept("00:00");
    const held = await store.acquireLease(connector.id, "someone-else", 60_000);
    expect(await fold()).toEqual({ committedThrough: undefined, folded: 0 });
    await held?.release();
    expect((await fold()).folded).toBe(1);
  });
});
