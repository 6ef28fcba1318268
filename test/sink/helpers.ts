/** Shared setup for sink tests: a stand-in, a sink wired to it the way the local run wires it, a recording logger. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Connector } from "../../src/definition/schema.ts";
import type { Logger } from "../../src/engine/types.ts";
import {
  type IngestionStandin,
  type IngestionStandinOptions,
  startIngestionStandin,
} from "../../src/local/ingestion-standin.ts";
import { createFolderDeadLetterStore, type DeadLetterStore } from "../../src/sink/dead-letter.ts";
import {
  createLogsIngestionSink,
  type LogsIngestionSinkOptions,
  type Sink,
} from "../../src/sink/logs-ingestion-sink.ts";
import { standinClientOptions } from "../../src/sink/settings.ts";
import { makeConnector } from "../engine/connector.ts";

export const DCR_ID = "dcr-00000000000000000000000000000001";

export interface LoggedLine {
  level: "info" | "warn" | "error";
  message: string;
  fields?: Record<string, unknown>;
}

export function recordingLogger(): Logger & { lines: LoggedLine[] } {
  const lines: LoggedLine[] = [];
  const log = (level: LoggedLine["level"]) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields });
  };
  return { lines, info: log("info"), warn: log("warn"), error: log("error") };
}

export async function makeTempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), `ccp-poller-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

let streamCounter = 0;
/** A connector sending to its own stream on the stand-in, so tests never read each other's rows. */
export function connectorFor(
  standin: Pick<IngestionStandin, "endpoint">,
  properties: Record<string, unknown> = {},
  id = "contoso-audit",
): Connector {
  streamCounter += 1;
  return {
    ...makeConnector({
      request: { apiEndpoint: "https://api.contoso.example/audit" },
      response: { eventsJsonPaths: ["$.events"] },
      dcrConfig: {
        dataCollectionEndpoint: standin.endpoint,
        dataCollectionRuleImmutableId: DCR_ID,
        streamName: `Custom-Test${streamCounter}_CL`,
      },
      ...properties,
    }),
    id,
  };
}

export function streamOf(connector: Connector): string {
  const stream = connector.properties.dcrConfig?.streamName;
  if (stream === undefined) throw new Error("test connector without dcrConfig");
  return stream;
}

/** Fast pipeline retries so fault tests take milliseconds; Retry-After still governs 429 waits. */
export const FAST_RETRIES = { maxRetries: 3, retryDelayInMs: 5, maxRetryDelayInMs: 20 };

export function sinkFor(
  standin: Pick<IngestionStandin, "tokenCredential" | "caCertPem">,
  deadLetter: DeadLetterStore,
  logger: Logger,
  overrides: Partial<LogsIngestionSinkOptions> = {},
): Sink {
  return createLogsIngestionSink({
    credential: standin.tokenCredential,
    clientOptions: standinClientOptions(standin.caCertPem, { retryOptions: FAST_RETRIES }),
    logger,
    deadLetter,
    ...overrides,
  });
}

export interface StandinFixture {
  standin: IngestionStandin;
  deadLetter: DeadLetterStore;
  deadLetterDir: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startFixture(options: Partial<IngestionStandinOptions> = {}): Promise<StandinFixture> {
  const temp = await makeTempDir("sink");
  const dataDir = path.join(temp.dir, "standin");
  const deadLetterDir = path.join(temp.dir, "dead-letter");
  const standin = await startIngestionStandin({ dataDir, ...options });
  return {
    standin,
    dataDir,
    deadLetterDir,
    deadLetter: createFolderDeadLetterStore(deadLetterDir),
    async close() {
      await standin.stop();
      await temp.remove();
    },
  };
}

/** `count` object events of roughly `bytes` bytes each, all different. */
export function events(count: number, bytes = 200): Record<string, unknown>[] {
  return Array.from({ length: count }, (_, index) => ({
    id: index,
    message: `event ${index} `.padEnd(bytes, "x"),
  }));
}
