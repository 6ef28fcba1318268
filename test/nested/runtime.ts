/**
 * The production runtime (`createRuntime`: watermark store on Azurite, the real Logs Ingestion client against
 * the stand-in, the JSON logger) polling one nested corpus connector, its every request (token calls too) sent
 * to a loopback fake. Shared by the in-process runner tests and the runner process the crash test kills.
 */
import path from "node:path";
import { connectorHttpOptions, createEngine } from "../../src/engine/engine.ts";
import { createHttpClient } from "../../src/engine/http.ts";
import type { Clock } from "../../src/engine/types.ts";
import { createRuntime, type Runtime } from "../../src/runner/runtime.ts";
import { towards } from "./corpus-connectors.ts";

export const repoRoot = path.resolve(import.meta.dirname, "../..");

/** Everything a runner process needs, as plain JSON (it crosses a process boundary). */
export interface NestedRunnerConfig {
  env: Record<string, string>;
  definitionPath: string;
  /** The one poller of the file to run. */
  connectorId: string;
  upstreamOrigin: string;
  now: string;
}

export function nestedRunnerEnv(options: {
  storageConnectionString: string;
  tableName: string;
  standinCaFile: string;
  connectorEnv: Record<string, string>;
}): Record<string, string> {
  return {
    AzureWebJobsStorage: options.storageConnectionString,
    STATE_TABLE_NAME: options.tableName,
    INGESTION_STANDIN_CA_FILE: options.standinCaFile,
    INITIAL_LOOKBACK_MINUTES: "180",
    RUN_BUDGET_SECONDS: "300",
    CONNECTOR_CONCURRENCY: "1",
    LEASE_TTL_SECONDS: "1",
    ...options.connectorEnv,
  };
}

export async function createNestedRuntime(config: NestedRunnerConfig, clock: Clock): Promise<Runtime> {
  const runtime = await createRuntime({
    env: config.env,
    rootDir: repoRoot,
    clock,
    definitionPaths: [config.definitionPath],
  });
  const dispatcher = towards(config.upstreamOrigin);
  const { logger } = runtime.deps;
  const engine = createEngine({
    clock,
    logger,
    http: createHttpClient({ clock, logger, dispatcher }),
    createHttpClient: (connector) =>
      createHttpClient({ ...connectorHttpOptions(connector), clock, logger, dispatcher }),
  });
  return {
    ...runtime,
    connectors: runtime.connectors.filter((c) => c.id === config.connectorId),
    deps: { ...runtime.deps, engine },
  };
}
