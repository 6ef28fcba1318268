/**
 * Everything a run needs, built from app settings: the connectors, the watermark store, the sink and the engine.
 * The timer function, the HTTP status function and the CLI all start here, so they run the same code.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { Agent } from "undici";
import { AppSettingError, type Env, readSetting } from "../config/app-settings.ts";
import { type LoadResult, loadConnectors } from "../definition/index.ts";
import type { Connector } from "../definition/schema.ts";
import { systemClock } from "../engine/clock.ts";
import { connectorHttpOptions, createEngine } from "../engine/engine.ts";
import { createHttpClient } from "../engine/http.ts";
import type { Clock, EngineDeps, Logger } from "../engine/types.ts";
import { createHealthReporterFromSettings } from "../health/settings.ts";
import { createStandinTokenCredential } from "../local/ingestion-standin.ts";
import { createLogsIngestionSink, type Sink } from "../sink/logs-ingestion-sink.ts";
import {
  createAzureCredential,
  createDeadLetterStoreFromSettings,
  standinClientOptions,
} from "../sink/settings.ts";
import {
  createStateTableClient,
  createWatermarkStore,
  defaultLeaseOwner,
  type WatermarkStore,
} from "../state/index.ts";
import { limitHeapGrowth } from "./heap.ts";
import { createJsonLogger, type LogLevel } from "./logger.ts";
import type { RunAllOptions } from "./run-all.ts";
import type { RunnerDeps } from "./types.ts";

export interface RuntimeOptions {
  env: Env;
  /** Folder relative paths in settings are resolved against (the app root). */
  rootDir: string;
  clock?: Clock;
  /** Where log lines go (default: stdout/stderr). */
  write?: (level: LogLevel, line: string) => void;
  /** Overrides CONNECTORS_DIR: files or folders of definitions. */
  definitionPaths?: string[];
}

export interface Runtime {
  deps: RunnerDeps;
  store: WatermarkStore;
  connectors: Connector[];
  load: LoadResult;
  logger: Logger;
  runOptions: RunAllOptions;
}

export async function createRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { env, rootDir } = options;
  limitHeapGrowth(env);
  const clock = options.clock ?? systemClock;
  let secrets: readonly string[] = [];
  const logger = createJsonLogger(
    options.write ??
      ((level, line) => (level === "info" ? process.stdout : process.stderr).write(`${line}\n`)),
    { secrets: () => secrets, now: () => clock.now() },
  );

  const definitionPaths = options.definitionPaths ?? [
    path.resolve(rootDir, readSetting(env, "CONNECTORS_DIR") ?? "connectors"),
  ];
  const settingsFile = readSetting(env, "CONNECTOR_SETTINGS_FILE");
  const load = await loadConnectors(definitionPaths, {
    env,
    ...(settingsFile !== undefined ? { settingsFile: path.resolve(rootDir, settingsFile) } : {}),
  });
  secrets = load.connectors.flatMap((connector) => connector.secrets);

  const { tableClient } = createStateTableClient(env);
  const store = createWatermarkStore({ tableClient, clock, logger });
  await store.ensureTable();

  const sink = await createSink(env, rootDir, logger);
  const health = createHealthReporterFromSettings(env, { sink, clock, logger });
  const deps: RunnerDeps = {
    engine: createEngine({
      clock,
      http: createHttpClient({ clock, logger }),
      logger,
      ...(await upstreamTrust(env, rootDir, clock, logger)),
    }),
    store,
    sink,
    clock,
    logger,
    owner: defaultLeaseOwner(),
    ...(health ? { health } : {}),
  };
  const initialLookback = readSetting(env, "INITIAL_LOOKBACK_MINUTES");
  const runOptions: RunAllOptions = {
    budgetMs: positiveNumber(env, "RUN_BUDGET_SECONDS") * 1000,
    // A window in flight at the end of the budget gets a fifth of the budget more before it is abandoned.
    graceMs: positiveNumber(env, "RUN_BUDGET_SECONDS") * 200,
    concurrency: positiveNumber(env, "CONNECTOR_CONCURRENCY"),
    leaseTtlMs: positiveNumber(env, "LEASE_TTL_SECONDS") * 1000,
    ...(initialLookback !== undefined
      ? { initialLookbackMin: positiveNumber(env, "INITIAL_LOOKBACK_MINUTES") }
      : {}),
  };
  return { deps, store, connectors: load.connectors, load, logger, runOptions };
}

/** UPSTREAM_CA_FILE (local runs): connectors' clients also trust that CA, e.g. the demo's self-signed upstream. */
async function upstreamTrust(
  env: Env,
  rootDir: string,
  clock: Clock,
  logger: Logger,
): Promise<Pick<EngineDeps, "createHttpClient">> {
  const caFile = readSetting(env, "UPSTREAM_CA_FILE");
  if (caFile === undefined) return {};
  const pem = await readFile(path.resolve(rootDir, caFile), "utf8");
  const dispatcher = new Agent({ connect: { ca: [...rootCertificates, pem] } });
  return {
    createHttpClient: (connector) =>
      createHttpClient({ ...connectorHttpOptions(connector), clock, logger, dispatcher }),
  };
}

async function createSink(env: Env, rootDir: string, logger: Logger): Promise<Sink> {
  const standinCa = readSetting(env, "INGESTION_STANDIN_CA_FILE");
  const credential = standinCa === undefined ? createAzureCredential(env) : createStandinTokenCredential();
  const clientOptions =
    standinCa === undefined
      ? undefined
      : standinClientOptions(await readFile(path.resolve(rootDir, standinCa), "utf8"));
  return createLogsIngestionSink({
    credential,
    ...(clientOptions ? { clientOptions } : {}),
    logger,
    deadLetter: createDeadLetterStoreFromSettings(env, credential),
  });
}

function positiveNumber(
  env: Env,
  name: "RUN_BUDGET_SECONDS" | "CONNECTOR_CONCURRENCY" | "LEASE_TTL_SECONDS" | "INITIAL_LOOKBACK_MINUTES",
): number {
  const text = readSetting(env, name);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) {
    throw new AppSettingError(
      `App setting ${name}: expected a positive number, got ${JSON.stringify(text ?? null)}`,
    );
  }
  return value;
}
