/**
 * Nested polling end to end through the real runner: the corpus's CyberArk EPM raw-events poller against its
 * fake, Azurite for the watermark, the Logs Ingestion stand-in for the rows. The watermark moves past a window
 * only when the parent call and every child call of it were accepted: a failing child fails the window, a
 * child 429 is waited out, and a runner SIGKILLed while children are in flight leaves nothing committed that
 * was not stored.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createFakeClock } from "../../src/engine/clock.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { runAll } from "../../src/runner/run-all.ts";
import { createStateTableClient, createWatermarkStore } from "../../src/state/index.ts";
import { type EpmFake, epmSets, startCyberArkEpmFake } from "../fakes/cyberark-epm.ts";
import { useAzurite } from "../support/azurite.ts";
import { corpusPresent, DCR_ID, EPM_FILE, EPM_ID, epmEnv } from "./corpus-connectors.ts";
import { createNestedRuntime, type NestedRunnerConfig, nestedRunnerEnv } from "./runtime.ts";

const azurite = useAzurite();
const STREAM = "Custom-CyberArkEPM";
/** Three 60-minute windows are due with the 180-minute look-back: 00:00-01:00, 01:00-02:00, 02:00-03:00. */
const NOW = "2026-01-01T03:00:30Z";
/** 3 sets of 9 events, one every 20 minutes: 3 per set per window, 9 per window. */
const SETS = epmSets(3, 9, 20);
const ALL_IDS = SETS.flatMap((s) => s.events.map((e) => e.eventId)).sort();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Scenario {
  epm: EpmFake;
  standin: IngestionStandin;
  config(now: string): NestedRunnerConfig;
  ids(): Promise<string[]>;
  committedThrough(): Promise<string | undefined>;
}

async function startScenario(searchDelayMs = 0): Promise<Scenario> {
  const folder = await mkdtemp(path.join(tmpdir(), "ccp-nested-"));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const epm = await startCyberArkEpmFake({ sets: SETS, searchDelayMs });
  cleanups.push(() => epm.close());
  const standin = await startIngestionStandin({ dataDir: path.join(folder, "standin") });
  cleanups.push(() => standin.stop());
  const env = nestedRunnerEnv({
    storageConnectionString: azurite().connectionString,
    tableName: `Nested${randomBytes(4).toString("hex")}`,
    standinCaFile: standin.caCertPath,
    connectorEnv: epmEnv(standin.endpoint),
  });
  const store = createWatermarkStore({
    tableClient: createStateTableClient(env).tableClient,
    clock: createFakeClock(NOW),
  });
  return {
    epm,
    standin,
    config: (now) => ({
      env,
      definitionPath: EPM_FILE,
      connectorId: EPM_ID,
      upstreamOrigin: epm.origin,
      now,
    }),
    ids: async () => (await standin.readRows(DCR_ID, STREAM)).map((row) => String(row.eventId)).sort(),
    committedThrough: async () => (await store.get(EPM_ID))?.committedThrough?.toISOString(),
  };
}

async function runOnce(scenario: Scenario, now = NOW) {
  const runtime = await createNestedRuntime(scenario.config(now), createFakeClock(now));
  expect(runtime.connectors.map((c) => c.id)).toEqual([EPM_ID]);
  const summary = await runAll(runtime.deps, runtime.connectors, runtime.runOptions);
  return summary.reports[0];
}

/** Events the watermark claims delivered (arrived before CommittedThrough) that the stand-in never stored. */
function uncovered(committedThrough: string | undefined, stored: string[]): string[] {
  if (committedThrough === undefined) return [];
  const at = Date.parse(committedThrough);
  return SETS.flatMap((s) => s.events)
    .filter((e) => Date.parse(e.arrivalTime) < at && !stored.includes(e.eventId))
    .map((e) => e.eventId);
}

describe.skipIf(!corpusPresent)("nested polling through the runner", () => {
  it("delivers every child event of every window once and commits through the last window", async () => {
    const scenario = await startScenario();

    const report = await runOnce(scenario);

    expect(report).toMatchObject({ outcome: "caught-up", windowsCommitted: 3, accepted: 27 });
    expect(await scenario.ids()).toEqual(ALL_IDS);
    expect(await scenario.committedThrough()).toBe("2026-01-01T03:00:00.000Z");
    // Per window: the sets, then one search per set.
    expect(scenario.epm.requests.filter((r) => r.path === "/EPM/API/Sets")).toHaveLength(3);
    expect(scenario.epm.requests.filter((r) => r.path.endsWith("/Events/Search"))).toHaveLength(9);
  });

  it("fails the window whose child calls keep failing, keeps the watermark before it, and recovers after a child 429", async () => {
    const scenario = await startScenario();
    // token, window 1 (sets + 3 searches), window 2's sets; then every attempt of window 2's 3 child calls fails.
    scenario.epm.fail(...Array(6).fill({ kind: "pass" }), ...Array(12).fill({ kind: "status", status: 503 }));

    const failed = await runOnce(scenario);

    expect(failed).toMatchObject({ outcome: "failed", windowsCommitted: 1 });
    expect(failed?.error).toMatch(/503/);
    expect(await scenario.committedThrough()).toBe("2026-01-01T01:00:00.000Z");
    expect(await scenario.ids()).toEqual(ALL_IDS.filter((id) => Number(id.split("-").at(-1)) <= 3));

    // The next run: token, window 2's sets, then a child is told to slow down once and is retried.
    scenario.epm.fail({ kind: "pass" }, { kind: "pass" }, { kind: "status", status: 429, retryAfter: "2" });
    const recovered = await runOnce(scenario, "2026-01-01T03:01:30Z");

    expect(recovered).toMatchObject({ outcome: "caught-up", windowsCommitted: 2 });
    expect(await scenario.ids()).toEqual(ALL_IDS);
    expect(await scenario.committedThrough()).toBe("2026-01-01T03:00:00.000Z");
  });

  it("a runner SIGKILLed while window 2's child calls are in flight commits nothing unstored; the next run completes", async () => {
    const scenario = await startScenario(300);
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        path.join(import.meta.dirname, "runner-child.ts"),
        JSON.stringify(scenario.config(NOW)),
      ],
      { stdio: ["ignore", "pipe", "pipe"], env: { PATH: process.env.PATH ?? "" } },
    );
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    cleanups.push(async () => {
      child.kill("SIGKILL");
      await exited;
    });
    // Kill once window 1 is committed and window 2's first child call has arrived (it is answered 300 ms later).
    const searches = () => scenario.epm.requests.filter((r) => r.path.endsWith("/Events/Search")).length;
    const deadline = Date.now() + 30_000;
    let committedBefore: string | undefined;
    while (Date.now() < deadline) {
      committedBefore = await scenario.committedThrough();
      if (committedBefore !== undefined && searches() >= 4) break;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(committedBefore).toBe("2026-01-01T01:00:00.000Z");
    child.kill("SIGKILL");
    await exited;

    const committed = await scenario.committedThrough();
    expect(committed).toBe("2026-01-01T01:00:00.000Z");
    expect(uncovered(committed, await scenario.ids())).toEqual([]);

    // A restarted runner (its clock past the killed one's 1-second lease) delivers the rest.
    const report = await runOnce(scenario, "2026-01-01T03:00:33Z");
    expect(report).toMatchObject({ outcome: "caught-up", windowsCommitted: 2 });
    const stored = await scenario.ids();
    expect([...new Set(stored)]).toEqual(ALL_IDS);
    // At least once: only the interrupted window's events may come twice.
    expect(stored.length - ALL_IDS.length).toBeLessThanOrEqual(9);
  }, 60_000);
});
