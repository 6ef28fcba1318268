/**
 * A whole pipeline on loopback for runner tests: real Azurite, the real Logs Ingestion client against the
 * stand-in, the engine against an upstream fake, and a fake clock. The connector is the shipped Jira
 * definition, loaded from its file; a dispatcher sends its requests to the fake as DNS would.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { TableServiceClientOptions } from "@azure/data-tables";
import { Agent, type Dispatcher } from "undici";
import { loadConnectors } from "../../src/definition/load.ts";
import type { Connector } from "../../src/definition/schema.ts";
import { createFakeClock, type FakeClock } from "../../src/engine/clock.ts";
import { connectorHttpOptions, createEngine } from "../../src/engine/engine.ts";
import { createHttpClient } from "../../src/engine/http.ts";
import type { Logger } from "../../src/engine/types.ts";
import type { AzuriteInstance } from "../../src/local/azurite.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import type { RunnerDeps } from "../../src/runner/types.ts";
import { createFolderDeadLetterStore } from "../../src/sink/dead-letter.ts";
import { createLogsIngestionSink } from "../../src/sink/logs-ingestion-sink.ts";
import { standinClientOptions } from "../../src/sink/settings.ts";
import { createWatermarkStore, type WatermarkStore } from "../../src/state/index.ts";
import type { FakeServer } from "../fakes/server.ts";
import { freshTableClient } from "../support/azurite.ts";

export const JIRA_PASSWORD = "test-api-token-jira-0000";
export const DCR_ID = "dcr-00000000000000000000000000000001";
export const STREAM = "Custom-JiraAudit_Func_CL";
const repoRoot = path.resolve(import.meta.dirname, "../..");

export interface Pipeline {
  clock: FakeClock;
  store: WatermarkStore;
  standin: IngestionStandin;
  connector: Connector;
  logLines: string[];
  deps(owner?: string): RunnerDeps;
  rows(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export async function startPipeline(
  azurite: AzuriteInstance,
  upstream: FakeServer,
  options: { now: string; connectorId?: string; tableClientOptions?: TableServiceClientOptions },
): Promise<Pipeline> {
  const clock = createFakeClock(options.now);
  const dataDir = await mkdtemp(path.join(tmpdir(), "ccp-runner-"));
  const standin = await startIngestionStandin({ dataDir });
  const tableClient = await freshTableClient(azurite, "Test", options.tableClientOptions);
  const store = createWatermarkStore({ tableClient, clock });
  const connector = await loadJira(standin.endpoint, options.connectorId);
  const logLines: string[] = [];
  const logger: Logger = {
    info: (message, fields) => logLines.push(JSON.stringify({ message, ...fields })),
    warn: (message, fields) => logLines.push(JSON.stringify({ message, ...fields })),
    error: (message, fields) => logLines.push(JSON.stringify({ message, ...fields })),
  };
  const agents: Agent[] = [];
  const towardsUpstream = (): Dispatcher => {
    const agent = new Agent();
    agents.push(agent);
    return agent.compose(
      (dispatch) => (request, handler) => dispatch({ ...request, origin: upstream.origin }, handler),
    );
  };
  const sink = createLogsIngestionSink({
    credential: standin.tokenCredential,
    clientOptions: standinClientOptions(standin.caCertPem, {
      retryOptions: { maxRetries: 2, retryDelayInMs: 5, maxRetryDelayInMs: 20 },
    }),
    logger,
    deadLetter: createFolderDeadLetterStore(path.join(dataDir, "dead-letter")),
  });
  return {
    clock,
    store,
    standin,
    connector,
    logLines,
    deps: (owner = "runner-a") => ({
      engine: createEngine({
        clock,
        logger,
        http: createHttpClient({ clock }),
        createHttpClient: (c) =>
          createHttpClient({ ...connectorHttpOptions(c), clock, dispatcher: towardsUpstream() }),
      }),
      store,
      sink,
      clock,
      logger,
      owner,
    }),
    rows: () => standin.readRows(DCR_ID, STREAM),
    close: async () => {
      await standin.stop();
      await Promise.all(agents.map((agent) => agent.close()));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function loadJira(ingestionEndpoint: string, connectorId = "jira-audit"): Promise<Connector> {
  const result = await loadConnectors([path.join(repoRoot, "connectors/jira-audit/connector.json")], {
    env: {
      CCP_JIRA_AUDIT_DOMAIN: "jira.example.test",
      CCP_JIRA_AUDIT_USERNAME: "test-user@example.com",
      CCP_JIRA_AUDIT_APITOKEN: JIRA_PASSWORD,
      CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: ingestionEndpoint,
      CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: DCR_ID,
      CCP_JIRA_AUDIT_STREAMNAME: STREAM,
    },
  });
  const [connector] = result.connectors;
  if (!connector)
    throw new Error(`jira-audit did not load: ${result.errors.map((e) => e.message).join("; ")}`);
  // Pages of 2 so a few records make multi-page windows.
  const paging = { ...connector.properties.paging, pageSize: 2 };
  return { ...connector, id: connectorId, properties: { ...connector.properties, paging } };
}
