/**
 * `simulate`: every definition against an upstream built from that definition alone, through the real
 * pipeline (Azurite watermarks, the Logs Ingestion stand-in, `runAll` as `run` uses it), for N windows. The
 * result per connector counts what the upstream holds for those windows against what reached the stand-in.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Env } from "../config/app-settings.ts";
import { loadConnectors } from "../definition/load.ts";
import type { Connector } from "../definition/schema.ts";
import { systemClock } from "../engine/clock.ts";
import type { Clock } from "../engine/types.ts";
import { startAzurite } from "../local/azurite.ts";
import { startIngestionStandin } from "../local/ingestion-standin.ts";
import { runAll } from "../runner/run-all.ts";
import { createRuntime } from "../runner/runtime.ts";
import type { Rejection } from "./call.ts";
import { SERVER_PAGE_CAP } from "./paging.ts";
import { cannotSimulate, prepare } from "./prepare.ts";
import { type FaultKind, type SimEvent, startUpstream } from "./upstream.ts";

export interface SimulateOptions {
  files: readonly string[];
  windows: number;
  faults: readonly FaultKind[];
  /** Settings for values a definition cannot go without (e.g. an unbound grant type). */
  env: Env;
  rootDir: string;
  /** Connectors simulated at once. */
  concurrency?: number;
  /** Warnings and errors of the runtime's log. */
  onLog?(line: string): void;
}

export interface ConnectorSimulation {
  id: string;
  file: string;
  /** Why the definition was not simulated (refused by the loader, or outside what the simulator builds). */
  refused?: string;
  expected: number;
  delivered: number;
  missing: number;
  duplicates: number;
  requests: number;
  rejected: number;
  /** Each refused request, with the definition field it contradicts. */
  rejections: Rejection[];
  /** The run's error for this connector, when a window failed. */
  error?: string;
}

const MINUTE = 60_000;

export async function simulate(options: SimulateOptions): Promise<ConnectorSimulation[]> {
  const load = await loadConnectors(options.files, { env: options.env, unbound: "keep" });
  const results: ConnectorSimulation[] = [];
  const empty = {
    expected: 0,
    delivered: 0,
    missing: 0,
    duplicates: 0,
    requests: 0,
    rejected: 0,
    rejections: [],
  };
  for (const refusal of load.refused)
    results.push({
      id: refusal.jsonPath,
      file: refusal.file,
      refused: `${refusal.code}: ${refusal.reason}`,
      ...empty,
    });
  for (const error of load.errors) {
    // Two files may name the same connector; the simulation keeps both under distinct ids.
    if (!error.expected.startsWith("a connector id not already used"))
      results.push({ id: error.jsonPath, file: error.file, refused: error.message, ...empty });
  }
  const runnable: Connector[] = [];
  const ids = new Set<string>();
  for (const connector of load.connectors) {
    let id = connector.id;
    for (let n = 2; ids.has(id); n++) id = `${connector.id}~${n}`;
    ids.add(id);
    const reason = cannotSimulate(connector);
    if (reason === undefined) runnable.push({ ...connector, id });
    else results.push({ id, file: connector.source.file, refused: reason, ...empty });
  }
  if (runnable.length === 0) return results;

  const stops: (() => Promise<void>)[] = [];
  const dataDir = await mkdtemp(path.join(tmpdir(), "ccp-simulate-"));
  stops.push(() => rm(dataDir, { recursive: true, force: true }));
  try {
    const upstream = await startUpstream({ faults: options.faults });
    stops.push(() => upstream.close());
    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    const standin = await startIngestionStandin({ dataDir });
    stops.push(() => standin.stop());
    const runtime = await createRuntime({
      env: {
        AzureWebJobsStorage: azurite.connectionString,
        INGESTION_STANDIN_CA_FILE: standin.caCertPath,
        RUN_BUDGET_SECONDS: "3600",
      },
      rootDir: options.rootDir,
      definitionPaths: [],
      write: (level, line) => {
        if (level !== "info") options.onLog?.(line);
      },
    });

    const now = new Date();
    const jobs = runnable.map((connector, index) => {
      const prepared = prepare(connector, index, {
        upstreamOrigin: upstream.origin,
        ingestionEndpoint: standin.endpoint,
      });
      const events = eventsFor(prepared.connector, options.windows, now, index);
      const api = upstream.add(prepared.connector, events);
      return { prepared, events, api };
    });
    // The runner plans windows at one instant, the one the events were made for, however long the simulation
    // takes; the engine keeps the real clock, so rate limits and Retry-After waits are real.
    const deps = { ...runtime.deps, clock: { now: () => now, sleep: systemClock.sleep } satisfies Clock };
    let next = 0;
    const runs: { error?: string }[] = [];
    const worker = async () => {
      for (let index = next++; index < jobs.length; index = next++) {
        const { prepared } = jobs[index] as (typeof jobs)[number];
        const { queryWindowInMin } = prepared.connector.properties.request;
        const summary = await runAll(deps, [prepared.connector], {
          ...runtime.runOptions,
          concurrency: 1,
          initialLookbackMin: options.windows * queryWindowInMin,
          maxWindows: options.windows,
        });
        const error = summary.reports[0]?.error;
        runs[index] = error === undefined ? {} : { error };
      }
    };
    await Promise.all(Array.from({ length: options.concurrency ?? 8 }, worker));

    for (const [index, job] of jobs.entries()) {
      const rows = await standin.readRows(job.prepared.dcrId, job.prepared.stream);
      const seen = new Map<string, number>();
      for (const row of rows) seen.set(String(row.sim_id), (seen.get(String(row.sim_id)) ?? 0) + 1);
      const expected = new Set(job.events.map((event) => event.sim_id));
      const delivered = [...expected].filter((id) => seen.has(id)).length;
      results.push({
        id: job.prepared.connector.id,
        file: job.prepared.connector.source.file,
        expected: expected.size,
        delivered,
        missing: expected.size - delivered,
        duplicates: rows.length - seen.size,
        requests: job.api.stats.requests,
        rejected: job.api.stats.rejected.length,
        rejections: job.api.stats.rejected,
        ...runs[index],
      });
    }
    return results;
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}

/**
 * The upstream's events: inside the N windows the runner will ask for (reference §3.2: contiguous windows
 * ending at the latest complete minute minus queryWindowDelayInMin), enough per window for several pages.
 */
function eventsFor(connector: Connector, windows: number, now: Date, index: number): SimEvent[] {
  const { queryWindowInMin, queryWindowDelayInMin } = connector.properties.request;
  const paging = connector.properties.paging;
  const perPage =
    paging.pagingType === "Offset" || paging.pagingType === "CountBasedPaging"
      ? (paging.pageSize ?? SERVER_PAGE_CAP)
      : SERVER_PAGE_CAP;
  const perWindow = paging.pagingType === "None" ? 3 : perPage * (paging.pagingType === "Offset" ? 1 : 2) + 1;
  const end = Math.floor(now.getTime() / MINUTE) * MINUTE - queryWindowDelayInMin * MINUTE;
  const size = queryWindowInMin * MINUTE;
  const events: SimEvent[] = [];
  for (let w = 0; w < windows; w++) {
    const start = end - (windows - w) * size;
    for (let i = 0; i < perWindow; i++) {
      events.push({
        sim_id: `c${index}-w${w}-e${i}`,
        sim_time: new Date(start + Math.floor(((i + 0.5) * size) / perWindow)).toISOString(),
        message: `simulated event ${i + 1} of window ${w + 1}`,
      });
    }
  }
  return events;
}
