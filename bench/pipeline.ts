/**
 * The ccp-poller side: the real pipeline for the same events — definition file → windows → paging →
 * extraction → LogsIngestionClient → watermark commit in Azurite — through `runAll`, as the timer runs it.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadConnectors } from "../src/definition/load.ts";
import type { Connector } from "../src/definition/schema.ts";
import { createFakeClock } from "../src/engine/clock.ts";
import { createEngine } from "../src/engine/engine.ts";
import { createHttpClient } from "../src/engine/http.ts";
import type { Engine } from "../src/engine/types.ts";
import { createStandinTokenCredential } from "../src/local/ingestion-standin.ts";
import { limitHeapGrowth } from "../src/runner/heap.ts";
import { createJsonLogger } from "../src/runner/logger.ts";
import { runAll } from "../src/runner/run-all.ts";
import { createFolderDeadLetterStore } from "../src/sink/dead-letter.ts";
import { createLogsIngestionSink } from "../src/sink/logs-ingestion-sink.ts";
import { standinClientOptions } from "../src/sink/settings.ts";
import { createStateTableClient, createWatermarkStore } from "../src/state/index.ts";
import type { WorkerSpec } from "./types.ts";
import { BENCH_API_KEY, DATASET_START, MINUTE } from "./workloads.ts";

export interface Pipeline {
  run(): Promise<{ events: number; bytes: number; stateMs: number }>;
  close(): Promise<void>;
}

/** Everything wired before the clock starts: loading definitions and creating the table is not polling. */
export async function preparePipeline(spec: WorkerSpec): Promise<Pipeline> {
  const { workload } = spec;
  // As createRuntime does at the start of every run (HEAP_GROWING_PERCENT's default).
  limitHeapGrowth({});
  const name = `bench-${workload.paging}`;
  const prefix = `CCP_${name.toUpperCase().replace(/-/g, "_")}_`;
  const file = path.join(spec.connectorsDir, `${name}.json`);
  const loaded = await loadConnectors([file], {
    env: {
      [`${prefix}UPSTREAM`]: spec.upstreamOrigin,
      [`${prefix}APIKEY`]: BENCH_API_KEY,
      [`${prefix}WINDOWMIN`]: String(workload.windowMin),
      [`${prefix}TOTAL`]: String(workload.eventsPerConnector),
      [`${prefix}SPANMIN`]: String(workload.spanMin),
      [`${prefix}DATACOLLECTIONENDPOINT`]: spec.standinEndpoint,
      [`${prefix}DATACOLLECTIONRULEIMMUTABLEID`]: spec.dcrId,
      [`${prefix}STREAMNAME`]: spec.stream,
    },
  });
  const [definition] = loaded.connectors;
  if (!definition) throw new Error(`${file} did not load: ${loaded.errors.map((e) => e.message).join("; ")}`);
  const connectors: Connector[] = Array.from({ length: workload.connectors }, (_, index) =>
    workload.connectors === 1 ? definition : { ...definition, id: `${definition.id}-${index}` },
  );

  const clock = createFakeClock(new Date(DATASET_START + workload.spanMin * MINUTE));
  // Production writes these lines to stdout; here they would only interleave with the result line.
  const logger = createJsonLogger(() => {}, { secrets: () => definition.secrets });
  const { tableClient } = createStateTableClient({
    AzureWebJobsStorage: spec.storageConnectionString,
    STATE_TABLE_NAME: `Bench${randomBytes(6).toString("hex")}`,
  });
  await tableClient.createTable();
  const deadLetterDir = await mkdtemp(path.join(tmpdir(), "ccp-bench-dead-letter-"));
  const sink = createLogsIngestionSink({
    credential: createStandinTokenCredential(),
    clientOptions: standinClientOptions(await readFile(spec.standinCaCertPath, "utf8")),
    logger,
    deadLetter: createFolderDeadLetterStore(deadLetterDir),
  });
  let bytes = 0;
  const engine = createEngine({ clock, logger, http: createHttpClient({ clock }) });
  // Counts the upstream bytes each page carried; pages pass through untouched.
  const counting: Engine = {
    planWindows: engine.planWindows,
    async *pollWindow(connector, window, options) {
      for await (const page of engine.pollWindow(connector, window, options)) {
        bytes += page.bytes;
        yield page;
      }
    },
  };
  let stateMs = 0;
  /** Adds the time every call takes to `stateMs`: what Table Storage round trips cost per window. */
  const timed = <T extends object>(target: T): T =>
    new Proxy(target, {
      get(object, property) {
        const member: unknown = Reflect.get(object, property);
        if (typeof member !== "function") return member;
        return async (...args: unknown[]) => {
          const started = performance.now();
          try {
            const result: unknown = await member.apply(object, args);
            // acquireLease's lease does the per-window writes.
            return property === "acquireLease" && result ? timed(result) : result;
          } finally {
            stateMs += performance.now() - started;
          }
        };
      },
    });
  const deps = {
    engine: counting,
    store: timed(createWatermarkStore({ tableClient, clock })),
    sink,
    clock,
    logger,
    owner: "bench",
  };
  return {
    async run() {
      const summary = await runAll(deps, connectors, {
        budgetMs: 24 * 60 * MINUTE,
        concurrency: 1,
        initialLookbackMin: workload.spanMin,
        maxWindows: workload.spanMin / workload.windowMin,
      });
      const failed = summary.reports.filter((report) => report.outcome !== "caught-up");
      if (failed.length > 0) {
        throw new Error(`connector runs did not catch up: ${JSON.stringify(failed.slice(0, 3))}`);
      }
      return { events: summary.reports.reduce((sum, report) => sum + report.accepted, 0), bytes, stateMs };
    },
    async close() {
      await tableClient.deleteTable();
      await rm(deadLetterDir, { recursive: true, force: true });
    },
  };
}
