/**
 * The embedded default (`npm start`): the main job end to end with no Azure account. It starts Azurite in
 * memory, the Logs Ingestion stand-in and a demo Jira upstream over HTTPS, then runs the SHIPPED
 * connectors/jira-audit/connector.json through the same runtime as the timer function, in accelerated time:
 * a first catch-up from a look-back, then each new 5-minute window as soon as it completes. Everything it
 * started is stopped before it returns, whether it ends by window count, duration or abort (Ctrl-C).
 */
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { runAll } from "../runner/run-all.ts";
import { createRuntime } from "../runner/runtime.ts";
import type { WindowReport } from "../runner/types.ts";
import { type StatusLine, statusView } from "../status/view.ts";
import { startAzurite } from "./azurite.ts";
import { createAcceleratedClock } from "./demo-clock.ts";
import { demoJiraApiToken, demoJiraUser, startDemoUpstream } from "./demo-upstream.ts";
import { startIngestionStandin } from "./ingestion-standin.ts";
import { readStoredRows } from "./standin/row-store.ts";

export const demoDcrId = "dcr-00000000000000000000000000000de0";
export const demoStream = "Custom-JiraAudit_CL";
export const demoHealthDcrId = "dcr-00000000000000000000000000000de1";
export const demoConnectorFile = "connectors/jira-audit/connector.json";

export interface DemoOptions {
  /** The app root: the shipped connector is read from here. */
  rootDir: string;
  /** Stand-in rows and certificates (default `.local-run`); rows of earlier runs are cleared at start. */
  dataDir: string;
  /** Demo seconds per real second. */
  speed: number;
  /** Stop after this many committed windows… */
  windows: number;
  /** …or after this many real milliseconds, whichever comes first. */
  durationMs: number;
  /** How far back the first run starts (demo minutes): that many minutes of records are caught up at once. */
  lookbackMinutes: number;
  /** Aborting stops the demo cleanly after the window in flight. */
  signal: AbortSignal;
  onStarted?(info: DemoStarted): void;
  onWindow?(report: WindowReport): void;
  /** Structured log lines of the runtime (warnings and errors only). */
  onLog?(line: string): void;
}

export interface DemoStarted {
  azuriteTableEndpoint: string;
  ingestionEndpoint: string;
  upstreamOrigin: string;
  connectorFile: string;
  rowsFile: string;
}

export interface DemoResult {
  stoppedBy: "windows" | "duration" | "signal";
  windowsCommitted: number;
  status: StatusLine[];
  rowsFile: string;
  rowCount: number;
}

/** Demo seconds between two audit records: about fifteen per 5-minute window. */
const recordEverySeconds = 20;
/** Demo time ahead of now up to which the upstream's records already exist. */
const createdAheadMs = 10 * 60_000;
/** How often (real time) the demo checks for a newly completed window. */
const tickMs = 250;

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const ingestionDir = path.join(options.dataDir, "ingestion");
  await mkdir(options.dataDir, { recursive: true });
  await rm(path.join(ingestionDir, "rows"), { recursive: true, force: true });
  const clock = createAcceleratedClock(options.speed);
  const stops: (() => Promise<void>)[] = [];
  try {
    const azurite = await startAzurite();
    stops.push(() => azurite.stop());
    const standin = await startIngestionStandin({ dataDir: ingestionDir });
    stops.push(() => standin.stop());
    const upstream = await startDemoUpstream({
      dataDir: options.dataDir,
      // Records start before the look-back, so the first window is full too.
      firstRecordAt: new Date(clock.now().getTime() - (options.lookbackMinutes + 10) * 60_000 + 7_000),
      everySeconds: recordEverySeconds,
    });
    stops.push(() => upstream.close());

    const connectorFile = path.resolve(options.rootDir, demoConnectorFile);
    const runtime = await createRuntime({
      env: {
        AzureWebJobsStorage: azurite.connectionString,
        INGESTION_STANDIN_CA_FILE: standin.caCertPath,
        UPSTREAM_CA_FILE: upstream.caCertPath,
        INITIAL_LOOKBACK_MINUTES: String(options.lookbackMinutes),
        // In demo time: an hour of budget is 30 real seconds at 120×, so a catch-up is never cut short.
        RUN_BUDGET_SECONDS: "3600",
        CCP_JIRA_AUDIT_DOMAIN: upstream.domain,
        CCP_JIRA_AUDIT_USERNAME: demoJiraUser,
        CCP_JIRA_AUDIT_APITOKEN: demoJiraApiToken,
        CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: standin.endpoint,
        CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: demoDcrId,
        CCP_JIRA_AUDIT_STREAMNAME: demoStream,
        // Health records (CcpPollerHealth_CL) go to the stand-in too, next to the connector's rows.
        HEALTH_DATA_COLLECTION_ENDPOINT: standin.endpoint,
        HEALTH_DCR_IMMUTABLE_ID: demoHealthDcrId,
      },
      rootDir: options.rootDir,
      clock,
      definitionPaths: [connectorFile],
      write: (level, line) => {
        if (level !== "info") options.onLog?.(line);
      },
    });
    const [loadError] = runtime.load.errors;
    if (loadError !== undefined) throw loadError;
    const rowsFile = path.join(ingestionDir, "rows", demoDcrId, `${demoStream}.ndjson`);
    options.onStarted?.({
      azuriteTableEndpoint: azurite.tableEndpoint,
      ingestionEndpoint: standin.endpoint,
      upstreamOrigin: `https://${upstream.domain}`,
      connectorFile,
      rowsFile,
    });

    const realStart = Date.now();
    let windowsCommitted = 0;
    let stoppedBy: DemoResult["stoppedBy"] | undefined;
    while (stoppedBy === undefined) {
      // Records are created a window ahead: the engine never asks past now − delay, so none is seen early, and
      // a window that completes while this run is starting already has every record it will ever have.
      upstream.addUntil(new Date(clock.now().getTime() + createdAheadMs));
      const before = windowsCommitted;
      await runAll(runtime.deps, runtime.connectors, {
        ...runtime.runOptions,
        // One window at a time, so the window count and Ctrl-C are honoured between windows.
        maxWindows: 1,
        onWindow: (report) => {
          if (report.outcome === "committed") windowsCommitted += 1;
          options.onWindow?.(report);
        },
      });
      if (options.signal.aborted) stoppedBy = "signal";
      else if (windowsCommitted >= options.windows) stoppedBy = "windows";
      else if (Date.now() - realStart >= options.durationMs) stoppedBy = "duration";
      // Caught up: wait for the next window to complete. Still catching up: go on at once.
      else if (windowsCommitted === before) {
        await delay(tickMs, undefined, { signal: options.signal }).catch(() => undefined);
      }
    }
    const status = statusView(await runtime.store.list(), clock.now());
    const rowCount = (await readStoredRows(ingestionDir, demoDcrId, demoStream)).length;
    return { stoppedBy, windowsCommitted, status, rowsFile, rowCount };
  } finally {
    for (const stop of stops.reverse()) await stop();
  }
}
