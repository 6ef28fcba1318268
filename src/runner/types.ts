/**
 * The runner's types, in one place both the window's delivery (deliver-window.ts) and the connector's run
 * (poll-connector.ts) read: what a run needs, what one window did, and who is told about it.
 */
import type { Connector } from "../definition/schema.ts";
import type { Clock, Engine, Logger, Window } from "../engine/types.ts";
import type { Sink } from "../sink/logs-ingestion-sink.ts";
import type { Lease, WatermarkRow, WatermarkStore, WindowCounts } from "../state/index.ts";

export interface RunnerDeps {
  engine: Engine;
  store: WatermarkStore;
  sink: Sink;
  clock: Clock;
  logger: Logger;
  /** Unique per process: written to LeaseOwner. */
  owner: string;
  /** Told about every window attempt (src/health sends health records); its failures never fail the window. */
  health?: WindowObserver;
}

export interface WindowObserver {
  windowAttempted(attempt: WindowAttempt): Promise<void>;
}

export interface WindowAttempt {
  connector: Connector;
  report: WindowReport;
  /** 1 for a window's first attempt, 2 for its first retry, … */
  attempt: number;
  /** The watermark row right after the attempt's outcome was written. */
  row: WatermarkRow;
  /** Writes the observer's own outcome to the row, under the runner's lease. */
  recordHealth: Lease["recordHealth"];
}

export interface WindowReport {
  connectorId: string;
  window: Window;
  outcome: "committed" | "failed";
  counts: WindowCounts;
  deadLettered: number;
  error?: string;
}
