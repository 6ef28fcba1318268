/**
 * The pipeline the delivery proof runs: the production runtime (`createRuntime` from app settings: watermark
 * store on Azurite, the real Logs Ingestion client against the stand-in, the JSON logger) with the shipped Jira
 * definition, whose requests go to a loopback fake as DNS would send them. The runner processes of the crash and
 * race tests build it here; the helpers below read what they left behind.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { Agent, type Dispatcher } from "undici";
import { connectorHttpOptions, createEngine } from "../../src/engine/engine.ts";
import { createHttpClient } from "../../src/engine/http.ts";
import type { Clock } from "../../src/engine/types.ts";
import { createRuntime, type Runtime } from "../../src/runner/runtime.ts";
import { createStateTableClient, createWatermarkStore, type WatermarkStore } from "../../src/state/index.ts";
import type { JiraRecord } from "../fakes/jira.ts";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const JIRA_API_TOKEN = "test-api-token-jira-0000";
export const DCR_ID = "dcr-00000000000000000000000000000d11";
export const STREAM = "Custom-JiraAudit_CL";
export const CONNECTOR_ID = "jira-audit";
/** Three 5-minute windows are due with a 15-minute look-back: 00:45-00:50, 00:50-00:55, 00:55-01:00. */
export const NOW = "2026-01-01T01:00:30Z";
export const CAUGHT_UP_THROUGH = "2026-01-01T01:00:00.000Z";

/** Everything a runner process needs, as plain JSON (it crosses a process boundary). */
export interface RunnerConfig {
  env: Record<string, string>;
  definitionPath: string;
  /** Where requests for the definition's host really go (the fake's `http://127.0.0.1:<port>`). */
  upstreamOrigin: string;
  /** The runner's clock starts here (a fake clock: engine backoff is recorded, never slept). */
  now: string;
}

/** A copy of the shipped Jira definition with a small page size, so a few records make multi-page windows. */
export async function writeJiraDefinition(folder: string, pageSize: number): Promise<string> {
  const shipped = JSON.parse(
    await readFile(path.join(repoRoot, "connectors/jira-audit/connector.json"), "utf8"),
  ) as { properties: { paging: Record<string, unknown> } };
  shipped.properties.paging.pageSize = pageSize;
  const file = path.join(folder, "jira-audit.json");
  await writeFile(file, JSON.stringify(shipped, null, 2));
  return file;
}

/** App settings and connector values for one run against Azurite, the stand-in and the Jira fake. */
export function runnerEnv(options: {
  storageConnectionString: string;
  tableName: string;
  standinEndpoint: string;
  standinCaFile: string;
}): Record<string, string> {
  return {
    AzureWebJobsStorage: options.storageConnectionString,
    STATE_TABLE_NAME: options.tableName,
    INGESTION_STANDIN_CA_FILE: options.standinCaFile,
    INITIAL_LOOKBACK_MINUTES: "15",
    RUN_BUDGET_SECONDS: "300",
    CONNECTOR_CONCURRENCY: "1",
    // Short, so a restarted runner (its clock a few seconds on) takes over the lease a killed one left behind.
    LEASE_TTL_SECONDS: "1",
    CCP_JIRA_AUDIT_DOMAIN: "jira.example.test",
    CCP_JIRA_AUDIT_USERNAME: "test-user@example.com",
    CCP_JIRA_AUDIT_APITOKEN: JIRA_API_TOKEN,
    CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: options.standinEndpoint,
    CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: DCR_ID,
    CCP_JIRA_AUDIT_STREAMNAME: STREAM,
  };
}

export async function createDeliveryRuntime(config: RunnerConfig, clock: Clock): Promise<Runtime> {
  const runtime = await createRuntime({
    env: config.env,
    rootDir: repoRoot,
    clock,
    definitionPaths: [config.definitionPath],
  });
  const towardsUpstream: Dispatcher = new Agent().compose(
    (dispatch) => (request, handler) => dispatch({ ...request, origin: config.upstreamOrigin }, handler),
  );
  const { logger } = runtime.deps;
  const engine = createEngine({
    clock,
    logger,
    http: createHttpClient({ clock, logger }),
    createHttpClient: (connector) =>
      createHttpClient({ ...connectorHttpOptions(connector), clock, logger, dispatcher: towardsUpstream }),
  });
  return { ...runtime, deps: { ...runtime.deps, engine } };
}

/** A store on the runner's table, for the test to read what the runner wrote. */
export function observerStore(env: Record<string, string>, clock: Clock): WatermarkStore {
  return createWatermarkStore({ tableClient: createStateTableClient(env).tableClient, clock });
}

/**
 * Upstream records the watermark claims are delivered (created before CommittedThrough) that the stand-in
 * never stored: must always be empty.
 */
export function uncoveredRecords(
  committedThrough: Date | undefined,
  upstream: readonly JiraRecord[],
  stored: readonly Record<string, unknown>[],
): number[] {
  if (committedThrough === undefined) return [];
  const storedIds = new Set(stored.map((row) => Number(row.id)));
  return upstream
    .filter((record) => Date.parse(record.created) < committedThrough.getTime() && !storedIds.has(record.id))
    .map((record) => record.id);
}

/** Rows stored beyond one per upstream record, and the records missing altogether. */
export function deliveryCounts(upstream: readonly JiraRecord[], stored: readonly Record<string, unknown>[]) {
  const storedIds = new Set(stored.map((row) => Number(row.id)));
  return {
    missing: upstream.filter((record) => !storedIds.has(record.id)).map((record) => record.id),
    duplicates: stored.length - storedIds.size,
  };
}
