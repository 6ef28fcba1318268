/**
 * The planner and several worker processes at once (src/fanout/worker-process.ts, the local stand-in for the
 * queue trigger) against Azurite's queue and tables, the stand-in and the HTTPS Jira fake behind a timing hop:
 * every window ingested once, at least once when a worker is SIGKILLed mid-range, the watermark contiguous,
 * and no window polled by two workers at the same time.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createRangeStore } from "../../src/fanout/ranges.ts";
import { pollTimer } from "../../src/functions/poll.ts";
import { workerRuntime } from "../../src/functions/support/worker-runtime.ts";
import { loadOrCreateCertificate } from "../../src/local/standin/credentials.ts";
import { createStateTableClient, type RunRecord } from "../../src/state/index.ts";
import { jiraRecords } from "../fakes/jira.ts";
import { type AppEnv, JIRA_API_TOKEN, onTimeTick, startAppEnv } from "../functions/app-env.ts";
import { useAzurite } from "../support/azurite.ts";
import {
  overlappingWindows,
  queuesOf,
  sourceIds,
  spawnWorker,
  startTimingProxy,
  stopAllWorkers,
  type TimingProxy,
  waitFor,
} from "./support.ts";

const azurite = useAzurite();
const timer = onTimeTick;
const NOW = "2026-01-01T02:00:30Z";
const END = "2026-01-01T02:00:00.000Z";
// Two records in each 5-minute window of the two hours before NOW: 24 windows, 8 ranges of 3.
const RECORDS = 48;

let app: AppEnv | undefined;
let proxy: TimingProxy | undefined;
afterEach(async () => {
  await stopAllWorkers();
  await proxy?.close();
  await app?.close();
  app = undefined;
  proxy = undefined;
});

async function start(delayMs: number): Promise<AppEnv> {
  app = await startAppEnv(azurite(), {
    now: NOW,
    records: jiraRecords(RECORDS, "2026-01-01T00:00:30Z", 150),
    settings: {
      POLL_MODE: "fanout",
      FANOUT_QUEUE_NAME: `work-${randomBytes(4).toString("hex")}`,
      FANOUT_RANGE_WINDOWS: "3",
      INITIAL_LOOKBACK_MINUTES: "120",
      // A dead worker's range lease runs out quickly, so its message's next delivery takes the range over.
      LEASE_TTL_SECONDS: "2",
    },
  });
  const caFile = process.env.UPSTREAM_CA_FILE ?? "";
  const tls = await loadOrCreateCertificate(path.dirname(path.dirname(caFile)));
  proxy = await startTimingProxy(app.jira.origin, tls, delayMs);
  // The workers (started after this) reach Jira through the timing hop; app-env restores the setting.
  process.env.CCP_JIRA_AUDIT_DOMAIN = proxy.host;
  return app;
}

async function plan(env: AppEnv): Promise<number> {
  await pollTimer(timer, env.context("poll"));
  const line = env.logs.filter((l) => l.includes('"fan-out planned"')).at(-1) ?? "{}";
  return JSON.parse(line.replace(/^\w+ /, "")).enqueued as number;
}

const committedThrough = async () =>
  (await (await workerRuntime()).store.get("jira-audit"))?.committedThrough?.toISOString();

/**
 * Waits for the watermark to reach END while the timer ticks the planner every 2 s, as it does in Azure: a
 * worker's own fold can lose the connector's lease to another worker's fold, and then the planner's fold
 * moves the watermark.
 */
async function caughtUp(env: AppEnv, what: string): Promise<void> {
  let lastTick = Date.now();
  await waitFor(what, async () => {
    if ((await committedThrough()) === END) return true;
    if (Date.now() - lastTick > 2_000) {
      lastTick = Date.now();
      await plan(env);
    }
    return false;
  });
}

/** The watermark's history moved from the first window's start to END without a gap or an overlap. */
function expectContiguous(history: readonly RunRecord[]): void {
  // By window, not by time: each worker's clock started with its process, so their history times interleave.
  const commits = history
    .filter((r) => r.outcome === "Succeeded")
    .sort((a, b) => a.window.start.getTime() - b.window.start.getTime());
  expect(commits[0]?.window.start.toISOString()).toBe("2026-01-01T00:00:00.000Z");
  expect(commits.at(-1)?.window.end.toISOString()).toBe(END);
  for (const [index, commit] of commits.entries()) {
    if (index > 0) expect(commit.window.start).toEqual(commits[index - 1]?.window.end);
  }
}

/** Every worker's clock reads NOW when the test starts them: one shared offset, so their leases compare fairly. */
// `=` form: a negative offset would otherwise read as an option.
const workerArgs = () => [`--clock-offset-ms=${Date.parse(NOW) - Date.now()}`, "--visibility-timeout=3"];

describe("fan-out with worker processes", () => {
  it("three workers share the backlog: every window ingested once, no window polled twice at a time, the watermark contiguous", async () => {
    const env = await start(30);
    expect(await plan(env)).toBe(8);
    expect(await plan(env)).toBe(0); // idempotent: all eight are queued
    const args = workerArgs();
    const workers = [spawnWorker(args), spawnWorker(args), spawnWorker(args)];
    await caughtUp(env, "the watermark to reach the end of the backlog");

    const rows = await env.rows();
    expect(sourceIds(rows)).toEqual(Array.from({ length: RECORDS }, (_, i) => i + 1));
    expect(rows).toHaveLength(RECORDS);
    const firstPages = proxy?.requests.filter((r) => r.offset === "0") ?? [];
    expect(firstPages).toHaveLength(24);
    expect(new Set(firstPages.map((r) => r.window)).size).toBe(24);
    expect(overlappingWindows(proxy?.requests ?? [])).toEqual([]);
    const { store } = await workerRuntime();
    expectContiguous(await store.history("jira-audit", 100));
    expect((await store.get("jira-audit"))?.totals.accepted).toBe(RECORDS);
    // More than one worker took part (eight ranges of slow requests are not done by one before the others start).
    const busy = workers.filter((w) => w.output().includes('"work message done"'));
    expect(busy.length).toBeGreaterThan(1);
    expect(workers.map((w) => w.output()).join("\n")).not.toContain(JIRA_API_TOKEN);
  }, 120_000);

  it("a range failing on every attempt ends in the poison queue after maxDequeueCount, and the watermark row says so", async () => {
    const env = await start(0);
    env.jira.fail(
      ...Array.from({ length: 200 }, () => ({
        kind: "status" as const,
        status: 403,
        body: "test: no permission",
      })),
    );
    expect(await plan(env)).toBe(8);
    spawnWorker(["--visibility-timeout=1"]);
    const poison = queuesOf(process.env).poison;
    await waitFor(
      "all eight messages in the poison queue",
      async () => (await poison.getProperties()).approximateMessagesCount === 8,
    );
    const row = await (await workerRuntime()).store.get("jira-audit");
    expect(row).toMatchObject({
      status: "Failing",
      lastErrorKind: "FanoutPoisonedError",
      committedThrough: undefined,
    });
    expect(row?.lastError).toMatch(/failed 5 times and moves to the poison queue work-\w+-poison: .*403/);
    expect((await queuesOf(process.env).work.getProperties()).approximateMessagesCount).toBe(0);
  }, 120_000);

  it("a worker SIGKILLed mid-range: its range is taken over from where it stopped, every record arrives, the watermark never skips the hole", async () => {
    const env = await start(150);
    expect(await plan(env)).toBe(8);
    const args = workerArgs();
    const workers = [spawnWorker(args), spawnWorker(args), spawnWorker(args)];
    const ranges = createRangeStore(createStateTableClient(process.env).tableClient, env.clock);

    // Mid-range: a worker holds a range and has accepted some but not all of its windows.
    let victim: { pid: number; rangeKey: string } | undefined;
    await waitFor("a worker part-way through a range", async () => {
      const midway = (await ranges.listAll()).find(
        (r) => r.leaseOwner !== undefined && r.acceptedThrough > r.start && r.acceptedThrough < r.end,
      );
      const pid = Number(midway?.leaseOwner?.split(":")[1]);
      if (midway !== undefined) victim = { pid, rangeKey: midway.rangeKey };
      return midway !== undefined;
    });
    const killed = workers.find((w) => w.pid === victim?.pid);
    expect(killed).toBeDefined();
    await killed?.kill("SIGKILL");
    const held = await ranges.get(victim?.rangeKey ?? "");
    // The range is still there, part accepted; the watermark cannot pass it.
    expect(held?.acceptedThrough.getTime()).toBeLessThan(held?.end.getTime() ?? 0);
    const through = await committedThrough();
    expect(through === undefined || new Date(through) <= (held?.acceptedThrough ?? new Date(0))).toBe(true);

    await caughtUp(env, "the survivors to finish the backlog");
    const rows = await env.rows();
    expect(sourceIds(rows)).toEqual(Array.from({ length: RECORDS }, (_, i) => i + 1));
    // At least once: a window the dead worker had sent but not yet recorded may arrive twice, nothing else.
    expect(rows.length).toBeGreaterThanOrEqual(RECORDS);
    expect(rows.length).toBeLessThanOrEqual(RECORDS + 2);
    expect(overlappingWindows(proxy?.requests ?? [])).toEqual([]);
    const { store } = await workerRuntime();
    expectContiguous(await store.history("jira-audit", 100));
    // The fold deletes range rows right after its commit.
    await waitFor("the folded range rows to be deleted", async () => (await ranges.listAll()).length === 0);
  }, 120_000);
});
