/**
 * Crash tests: a runner process (the production runtime on real Azurite, the real Logs Ingestion client, the
 * stand-in and the Jira fake in this process) is SIGKILLed at chosen points — mid-page, between an upload the
 * stand-in stored and the commit, during a 413 split, and at seeded points. Each kill happens on an observable
 * event (the fake or the stand-in receiving request N), never after a sleep. After every kill the watermark
 * must cover only stored data; fresh runners then catch up, every upstream record must be stored at least
 * once, and the duplicates are counted and printed per crash point.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createFakeClock } from "../../src/engine/clock.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { bodyBytes } from "../../src/sink/batches.ts";
import { serializeRow, toRow } from "../../src/sink/rows.ts";
import type { WatermarkStore } from "../../src/state/index.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";
import {
  CAUGHT_UP_THROUGH,
  CONNECTOR_ID,
  DCR_ID,
  deliveryCounts,
  NOW,
  observerStore,
  type RunnerConfig,
  runnerEnv,
  STREAM,
  uncoveredRecords,
  writeJiraDefinition,
} from "./pipeline.ts";
import { type RunnerProcess, spawnRunner, stopAllRunners, whenObserved } from "./runner-process.ts";
import { leakedSecrets, pipelineSecrets } from "./secrets.ts";

const azurite = useAzurite();

/** 12 records, 4 per window, so pages of 2 make two uploads per window. */
const RECORDS = jiraRecords(12, "2026-01-01T00:45:30Z", 75);
/** At-least-once bounds the duplicates of one kill by the records of the window it interrupted. */
const RECORDS_PER_WINDOW = 4;
/** A restarted runner's clock is this much later per restart, past the 1-second lease of the one killed. */
const RESTART_STEP_MS = 2_000;
const SEED = 20_260_101;

interface Scenario {
  jira: JiraFake;
  standin: IngestionStandin;
  store: WatermarkStore;
  /** Runner config for the n-th process of this scenario. */
  config(processIndex: number): RunnerConfig;
  /** Upstream requests plus stand-in calls so far: the events kills are timed on. */
  events(): number;
  stored(): Promise<Record<string, unknown>[]>;
  /** Every byte of every runner's output, for the secret check. */
  outputs: string[];
}

interface CrashOutcome {
  point: string;
  kills: number;
  committedAtKills: string[];
  stored: number;
  duplicates: number;
}

const outcomes: CrashOutcome[] = [];
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await stopAllRunners();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

afterAll(() => {
  if (outcomes.length === 0) return;
  const lines = outcomes.map(
    (o) =>
      `${o.point.padEnd(58)} ${String(o.kills).padStart(5)}  ${o.committedAtKills.join(", ").padEnd(34)} ${String(o.stored).padStart(6)} ${String(o.duplicates).padStart(10)}`,
  );
  console.log(
    [
      `Duplicates per crash point (${RECORDS.length} upstream records, 3 windows of 4):`,
      `${"crash point".padEnd(58)} ${"kills".padStart(5)}  ${"CommittedThrough after each kill".padEnd(34)} ${"stored".padStart(6)} ${"duplicates".padStart(10)}`,
      ...lines,
    ].join("\n"),
  );
});

async function startScenario(options: { pageSize: number; maxRequestBytes?: number }): Promise<Scenario> {
  const folder = await mkdtemp(path.join(tmpdir(), "ccp-crash-"));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  const jira = await startJiraFake({ records: RECORDS });
  cleanups.push(() => jira.close());
  const standin = await startIngestionStandin({
    dataDir: path.join(folder, "standin"),
    ...(options.maxRequestBytes !== undefined ? { maxRequestBytes: options.maxRequestBytes } : {}),
  });
  cleanups.push(() => standin.stop());
  const env = runnerEnv({
    storageConnectionString: azurite().connectionString,
    tableName: `Crash${randomBytes(4).toString("hex")}`,
    standinEndpoint: standin.endpoint,
    standinCaFile: standin.caCertPath,
  });
  const definitionPath = await writeJiraDefinition(folder, options.pageSize);
  return {
    jira,
    standin,
    store: observerStore(env, createFakeClock(NOW)),
    config: (processIndex) => ({
      env,
      definitionPath,
      upstreamOrigin: jira.origin,
      now: new Date(Date.parse(NOW) + processIndex * RESTART_STEP_MS).toISOString(),
    }),
    events: () => jira.requests.length + standin.calls().length,
    stored: () => standin.readRows(DCR_ID, STREAM),
    outputs: [],
  };
}

/** The commit rule after a kill: everything the watermark claims delivered is in the stand-in. */
async function committedAfterKill(scenario: Scenario): Promise<string> {
  const row = await scenario.store.get(CONNECTOR_ID);
  expect(uncoveredRecords(row?.committedThrough, RECORDS, await scenario.stored())).toEqual([]);
  return row?.committedThrough?.toISOString().slice(11, 16) ?? "none";
}

async function kill(scenario: Scenario, runner: RunnerProcess): Promise<void> {
  const exit = await runner.kill();
  scenario.outputs.push(exit.stdout, exit.stderr);
  scenario.standin.setFault(undefined);
}

/** Fresh runners, no faults, until the connector is committed through the last due window. */
async function recover(scenario: Scenario, firstProcessIndex: number): Promise<void> {
  for (let index = firstProcessIndex; index < firstProcessIndex + 3; index += 1) {
    const exit = await spawnRunner(scenario.config(index)).exited;
    scenario.outputs.push(exit.stdout, exit.stderr);
    expect(exit.code, exit.stderr).toBe(0);
    const row = await scenario.store.get(CONNECTOR_ID);
    if (row?.committedThrough?.toISOString() === CAUGHT_UP_THROUGH) return;
  }
  throw new Error("three fresh runners did not catch up");
}

/** Every record stored at least once, nothing leaked, and the duplicates recorded for the table. */
async function finish(scenario: Scenario, point: string, committedAtKills: string[]): Promise<CrashOutcome> {
  const stored = await scenario.stored();
  const { missing, duplicates } = deliveryCounts(RECORDS, stored);
  expect(missing).toEqual([]);
  const row = await scenario.store.get(CONNECTOR_ID);
  expect(row).toMatchObject({ status: "Healthy", consecutiveFailures: 0, windowInFlight: undefined });
  expect(leakedSecrets(scenario.outputs.join("\n"), pipelineSecrets)).toEqual([]);
  const outcome = {
    point,
    kills: committedAtKills.length,
    committedAtKills,
    stored: stored.length,
    duplicates,
  };
  outcomes.push(outcome);
  return outcome;
}

/** One kill at a deterministic point, then recovery. */
async function crashOnce(
  point: string,
  options: { pageSize: number; maxRequestBytes?: number },
  arm: (scenario: Scenario) => () => boolean,
): Promise<CrashOutcome> {
  const scenario = await startScenario(options);
  const killWhen = arm(scenario);
  const runner = spawnRunner(scenario.config(0));
  expect(await whenObserved(runner, killWhen)).toBe("observed");
  await kill(scenario, runner);
  const committed = await committedAfterKill(scenario);
  await recover(scenario, 1);
  return finish(scenario, point, [committed]);
}

/** Deterministic numbers from a seed (mulberry32), so the "random" kill points are the same every run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe("a runner process SIGKILLed mid-delivery", () => {
  it("mid-page: window 2's second page stalls half-way through its body", async () => {
    const outcome = await crashOnce("mid-page (window 2, page 2 body half sent)", { pageSize: 2 }, (s) => {
      // Window 1 takes requests 1-3; request 5 is window 2's second page.
      s.jira.fail(...Array.from({ length: 4 }, () => ({ kind: "pass" as const })), {
        kind: "slowBody",
        delayMs: 60_000,
      });
      return () => s.jira.requests.length >= 5;
    });
    expect(outcome.committedAtKills).toEqual(["00:50"]);
    // Window 2 is sent again whole. Its first page may or may not have been stored before the kill: the runner
    // fetches page 2 while page 1 is still being uploaded.
    expect(outcome.duplicates).toBeLessThanOrEqual(RECORDS_PER_WINDOW);
  });

  it("between upload and commit: the stand-in stores window 2's last page but the answer never arrives", async () => {
    const outcome = await crashOnce(
      "after upload, before commit (window 2, stored, 204 lost)",
      { pageSize: 2 },
      (s) => {
        // Uploads 1-2 are window 1, 3-4 window 2: the 4th and every later call are stored, then dropped.
        s.standin.setFault({ kind: "dropConnection", afterStore: true, skip: 3 });
        return () => s.standin.calls().some((call) => call.status === "dropped");
      },
    );
    expect(outcome.committedAtKills).toEqual(["00:50"]);
    expect(outcome.duplicates).toBeLessThanOrEqual(RECORDS_PER_WINDOW);
  });

  it("during a 413 split: the first half of window 2's page is stored, the second half never is", async () => {
    // A call holds 2 rows but not 4: each 4-record page is refused with 413 and sent again in halves.
    const twoRows = bodyBytes(
      RECORDS.slice(0, 2).map((record) => serializeRow(toRow(CONNECTOR_ID, record, {}))),
    );
    const outcome = await crashOnce(
      "during a 413 split (window 2, one half stored)",
      { pageSize: 4, maxRequestBytes: twoRows + 16 },
      (s) => {
        // Window 1: 413, half, half. Window 2: 413, half, then the 6th call is dropped unstored.
        s.standin.setFault({ kind: "dropConnection", skip: 5 });
        return () => s.standin.calls().some((call) => call.status === "dropped");
      },
    );
    expect(outcome.committedAtKills).toEqual(["00:50"]);
    // The half that was stored is sent again with the whole window.
    expect(outcome.duplicates).toBeLessThanOrEqual(RECORDS_PER_WINDOW);
  });

  it("at seeded points, several kills in a row, each before the previous crash was recovered", async () => {
    const scenario = await startScenario({ pageSize: 2 });
    const random = seededRandom(SEED);
    const committedAtKills: string[] = [];
    let processIndex = 0;
    for (let kills = 0; kills < 4; kills += 1) {
      // A clean run of 3 windows makes 15 events (9 upstream requests, 6 uploads); a restart has fewer left.
      const killAfter = 1 + Math.floor(random() * 8);
      const runner = spawnRunner(scenario.config(processIndex++));
      const baseline = scenario.events();
      if ((await whenObserved(runner, () => scenario.events() >= baseline + killAfter)) === "exited") {
        scenario.outputs.push(runner.output());
        break;
      }
      await kill(scenario, runner);
      committedAtKills.push(await committedAfterKill(scenario));
    }
    await recover(scenario, processIndex);
    const outcome = await finish(scenario, `seeded points (seed ${SEED})`, committedAtKills);
    expect(outcome.kills).toBeGreaterThan(0);
    // At-least-once, bounded: each kill re-sends at most the window it interrupted.
    expect(outcome.duplicates).toBeLessThanOrEqual(RECORDS_PER_WINDOW * outcome.kills);
  }, 90_000);
});
