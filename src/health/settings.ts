/** The health reporter from app settings: its own DCR stream, through the data sink's Logs Ingestion client. */
import { type Env, readSetting } from "../config/app-settings.ts";
import type { DcrConfig } from "../definition/schema.ts";
import type { WindowObserver } from "../runner/types.ts";
import { createHealthReporter, type HealthReporterOptions } from "./reporter.ts";

export interface HealthSettings {
  destination: DcrConfig;
  heartbeatMinutes: number;
}

/**
 * Undefined when neither HEALTH_DATA_COLLECTION_ENDPOINT nor HEALTH_DCR_IMMUTABLE_ID is set (health records
 * off); an error when only one is, or when a value is malformed: a half-configured destination is a mistake.
 */
export function readHealthSettings(env: Env): HealthSettings | undefined {
  const endpoint = readSetting(env, "HEALTH_DATA_COLLECTION_ENDPOINT");
  const dcrId = readSetting(env, "HEALTH_DCR_IMMUTABLE_ID");
  if (endpoint === undefined && dcrId === undefined) return undefined;
  if (endpoint === undefined || dcrId === undefined) {
    const missing = endpoint === undefined ? "HEALTH_DATA_COLLECTION_ENDPOINT" : "HEALTH_DCR_IMMUTABLE_ID";
    throw new Error(
      `App setting ${missing}: expected a value, because the other health destination setting is set (set both to send health records, or neither)`,
    );
  }
  const streamName = String(readSetting(env, "HEALTH_STREAM_NAME"));
  if (!streamName.startsWith("Custom-")) {
    throw new Error(
      `App setting HEALTH_STREAM_NAME: expected a DCR stream name starting with "Custom-", got ${JSON.stringify(streamName)}`,
    );
  }
  const heartbeatText = readSetting(env, "HEALTH_HEARTBEAT_MINUTES");
  const heartbeatMinutes = Number(heartbeatText);
  if (!Number.isFinite(heartbeatMinutes) || heartbeatMinutes <= 0) {
    throw new Error(
      `App setting HEALTH_HEARTBEAT_MINUTES: expected a positive number of minutes, got ${JSON.stringify(heartbeatText ?? null)}`,
    );
  }
  return {
    destination: { dataCollectionEndpoint: endpoint, dataCollectionRuleImmutableId: dcrId, streamName },
    heartbeatMinutes,
  };
}

/** The reporter for RunnerDeps.health, or undefined (with one warning) when no health destination is set. */
export function createHealthReporterFromSettings(
  env: Env,
  deps: Omit<HealthReporterOptions, "destination" | "heartbeatMinutes">,
): WindowObserver | undefined {
  const settings = readHealthSettings(env);
  if (settings === undefined) {
    deps.logger.warn(
      "health records are off: set HEALTH_DATA_COLLECTION_ENDPOINT and HEALTH_DCR_IMMUTABLE_ID to send them",
    );
    return undefined;
  }
  return createHealthReporter({ ...deps, ...settings });
}
