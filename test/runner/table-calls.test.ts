/**
 * Table round trips per run, counted on the wire against real Azurite: the run's watermark rows are read in one
 * query, each row written to take the lease (which also marks the first window in flight) and once per commit
 * (which also marks the window that starts next in flight; the last one also releases the lease). History rows are
 * appended behind those writes, a run's rows in one call, and listed for pruning only once enough were added.
 */
import type { PipelinePolicy } from "@azure/core-rest-pipeline";
import { afterEach, describe, expect, it } from "vitest";
import { runAll } from "../../src/runner/run-all.ts";
import type { RunnerDeps } from "../../src/runner/types.ts";
import type { WatermarkStore } from "../../src/state/index.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";
import { type Pipeline, startPipeline } from "./harness.ts";

const azurite = useAzurite();
// Three 5-minute windows are due at 01:00:30 with a 15-minute look-back.
const NOW = "2026-01-01T01:00:30Z";

let jira: JiraFake | undefined;
let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  await jira?.close();
  pipeline = undefined;
  jira = undefined;
});

/** Each table request as "<method> <what>": a watermark row, watermark rows, a history row, or a listing. */
function countingPolicy(calls: string[]): PipelinePolicy {
  return {
    name: "countTableCalls",
    sendRequest(request, next) {
      const url = decodeURIComponent(new URL(request.url).pathname + new URL(request.url).search);
      const body = typeof request.body === "string" ? request.body : "";
      const what = url.includes("PartitionKey='connector'")
        ? "row"
        : url.includes("PartitionKey eq 'connector'")
          ? "rows"
          : url.includes("$filter")
            ? "list"
            : body.includes('"PartitionKey":"run-')
              ? "history"
              : body.includes('"PartitionKey":"connector"')
                ? "row"
                : "other";
      calls.push(`${request.method} ${what}`);
      return next(request);
    },
  };
}

const tally = (calls: readonly string[]) =>
  Object.fromEntries(
    [...new Set(calls)].sort().map((call) => [call, calls.filter((other) => other === call).length]),
  );

/** The runner's pipeline against the Jira fake, every table request it makes from now on counted in `calls`. */
async function countedPipeline(): Promise<{ p: Pipeline; calls: string[] }> {
  const calls: string[] = [];
  jira = await startJiraFake({ records: jiraRecords(12, "2026-01-01T00:45:30Z", 75) });
  pipeline = await startPipeline(azurite(), jira, {
    now: NOW,
    tableClientOptions: { additionalPolicies: [{ policy: countingPolicy(calls), position: "perCall" }] },
  });
  calls.length = 0; // the table's creation
  return { p: pipeline, calls };
}

describe("table calls per run", () => {
  it("are one read and one write per window plus one, with history written behind and no history listing", async () => {
    const { p, calls } = await countedPipeline();

    const first = await runAll(p.deps(), [p.connector], {
      budgetMs: 60_000,
      concurrency: 1,
      initialLookbackMin: 15,
    });
    expect(first.reports[0]).toMatchObject({ outcome: "caught-up", windowsCommitted: 3, accepted: 12 });
    // First run: the row, found missing by the run's one query, is created. The lease (which also begins window
    // 1), three commits (the last releases).
    expect(tally(calls)).toEqual({
      "GET rows": 1,
      "POST row": 1,
      "PATCH row": 4,
      "POST history": 1,
    });
    const row = await p.store.get("jira-audit");
    expect(row).toMatchObject({ windowInFlight: undefined, windowAttempts: 0, historyRowsSincePrune: 3 });
    const history = await p.store.history("jira-audit");
    expect(history.map((h) => [h.outcome, h.attempt])).toEqual([
      ["Succeeded", 1],
      ["Succeeded", 1],
      ["Succeeded", 1],
    ]);

    calls.length = 0;
    p.clock.advance(5 * 60_000);
    const second = await runAll(p.deps(), [p.connector], { budgetMs: 60_000, concurrency: 1 });
    expect(second.reports[0]).toMatchObject({ windowsCommitted: 1 });
    expect(tally(calls)).toEqual({ "GET rows": 1, "PATCH row": 2, "POST history": 1 });
  });

  it("read every connector's row of a run in one query; a row changed since costs that connector one read", async () => {
    const { p, calls } = await countedPipeline();
    const connectors = ["jira-a", "jira-b", "jira-c"].map((id) => ({ ...p.connector, id }));
    const options = { budgetMs: 60_000, concurrency: 1, initialLookbackMin: 15 };
    await runAll(p.deps(), connectors, options);

    p.clock.advance(5 * 60_000);
    // Written after the run's query and before jira-b's lease: that lease's write, guarded by the etag the query
    // read, is refused, and jira-b is read again and leased from its row as it now is.
    const deps = afterTheQuery(p.deps(), () => p.store.reset("jira-b", new Date("2026-01-01T00:55:00Z")));
    calls.length = 0;
    const second = await runAll(deps, connectors, options);

    expect(second.reports.map((report) => [report.outcome, report.windowsCommitted])).toEqual([
      ["caught-up", 1],
      ["caught-up", 2],
      ["caught-up", 1],
    ]);
    // The query; the reset's read and write; jira-a's lease and commit; jira-b's refused lease write, its read
    // again, its lease and two commits (two windows behind now); jira-c's lease and commit; a history call each.
    expect(tally(calls)).toEqual({
      "GET rows": 1,
      "GET row": 2,
      "PATCH row": 1 + 2 + (1 + 1 + 2) + 2,
      "POST history": 3,
    });
  });

  it("still see a connector disabled after the run's query: it is not polled, and no window is marked", async () => {
    jira = await startJiraFake({ records: jiraRecords(12, "2026-01-01T00:45:30Z", 75) });
    pipeline = await startPipeline(azurite(), jira, { now: NOW });
    const p = pipeline;
    await p.store.register(p.connector);
    const deps = afterTheQuery(p.deps(), () => p.store.setDisabled("jira-audit", "paused by the on-call"));

    const run = await runAll(deps, [p.connector], {
      budgetMs: 60_000,
      concurrency: 1,
      initialLookbackMin: 15,
    });

    expect(run.reports[0]).toMatchObject({ outcome: "disabled", windowsCommitted: 0 });
    expect(jira.requests).toHaveLength(0);
    expect(await p.store.get("jira-audit")).toMatchObject({
      disabledReason: "paused by the on-call",
      leaseOwner: undefined,
      windowInFlight: undefined,
      windowAttempts: 0,
    });
  });

  it("mark the next window in flight with the commit before it, so a run cut short shows where it stood", async () => {
    jira = await startJiraFake({ records: jiraRecords(12, "2026-01-01T00:45:30Z", 75) });
    pipeline = await startPipeline(azurite(), jira, { now: NOW });
    const p = pipeline;
    await p.store.register(p.connector);
    const lease = await p.store.acquireLease("jira-audit", "runner-a", 60_000);
    if (lease === undefined) throw new Error("expected the lease");
    const window = (minute: number) => ({
      start: new Date(`2026-01-01T00:${minute}:00Z`),
      end: new Date(`2026-01-01T00:${minute + 5}:00Z`),
    });
    await lease.beginWindow(window(45));
    const committed = await lease.commitWindow(window(45), { ...zero, accepted: 4 }, undefined, window(50));
    expect(committed).toMatchObject({ windowInFlight: window(50), windowAttempts: 1 });
    // A runner that dies here leaves window 2 in flight: the next one's first attempt of it is its second.
    expect((await lease.beginWindow(window(50))).windowAttempts).toBe(2);
    await lease.release();
  });
});

/** The runner's deps, with `meanwhile` written after the run's query read the rows, before any lease is taken. */
function afterTheQuery(deps: RunnerDeps, meanwhile: () => Promise<unknown>): RunnerDeps {
  const preload = deps.store.preload.bind(deps.store);
  const store: WatermarkStore = Object.create(deps.store);
  store.preload = async (ids) => {
    await preload(ids);
    await meanwhile();
  };
  return { ...deps, store };
}

const zero = { fetched: 0, extracted: 0, sent: 0, accepted: 0, pages: 0, durationMs: 0 };
