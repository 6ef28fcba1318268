/**
 * One run over many connectors: each polled under its own lease, at most `concurrency` at a time, all within one
 * time budget. A connector that fails, even unexpectedly, is reported and never stops the others.
 */
import type { Connector } from "../definition/schema.ts";
import { redact } from "../engine/redact.ts";
import type { WatermarkRow } from "../state/index.ts";
import {
  type ConnectorRunOptions,
  type ConnectorRunReport,
  type PreparedConnector,
  pollPrepared,
  prepareConnector,
} from "./poll-connector.ts";
import type { RunnerDeps } from "./types.ts";

export interface RunAllOptions extends Omit<ConnectorRunOptions, "deadline" | "hardDeadline"> {
  /** Milliseconds from the start of the run after which no new window starts. */
  budgetMs: number;
  /** Extra milliseconds a window already in flight may take before it is aborted. */
  graceMs?: number;
  concurrency: number;
}

export interface RunSummary {
  startedAt: Date;
  finishedAt: Date;
  reports: ConnectorRunReport[];
}

export async function runAll(
  deps: RunnerDeps,
  connectors: readonly Connector[],
  options: RunAllOptions,
): Promise<RunSummary> {
  const startedAt = deps.clock.now();
  const deadline = new Date(startedAt.getTime() + options.budgetMs);
  const hardDeadline =
    options.graceMs === undefined ? undefined : new Date(deadline.getTime() + options.graceMs);
  const { budgetMs: _budget, graceMs: _grace, concurrency, ...perConnector } = options;
  const reports: ConnectorRunReport[] = new Array(connectors.length);
  let next = 0;
  // One query for every connector's row instead of a read each. If it fails, each connector reads its own row
  // and reports what failed, as without it.
  await deps.store.preload(connectors.map((connector) => connector.id)).catch(() => undefined);

  // A connector's last commit and its release (and its status line) are written while the next connector starts;
  // the run ends when every one of them has.
  const finishing: Promise<void>[] = [];
  const prepareOptions = { ...perConnector, deadline };
  /** The next connector not yet taken by a worker: registered at once, leased when `lease` is called. */
  const claim = (): Claimed | undefined => {
    const index = next++;
    const connector = connectors[index];
    if (connector === undefined) return undefined;
    let lease = () => {};
    const leaseNow = new Promise<void>((resolve) => {
      lease = resolve;
    });
    const prepared = prepareConnector(deps, connector, prepareOptions, leaseNow);
    // It may fail while the connector before is still running; the failure is reported when its turn comes.
    prepared.catch(() => undefined);
    return { index, connector, prepared, lease };
  };
  const worker = async (): Promise<void> => {
    for (let current = claim(); current !== undefined; ) {
      const { index, connector, prepared } = current;
      current.lease();
      // The next connector is registered while this one runs, and leased (its first page requested) while
      // this one delivers its last window.
      const following = claim();
      let released: Promise<void> | undefined;
      let delivered = () => {};
      const nothingLeftToSend = new Promise<void>((resolve) => {
        delivered = resolve;
      });
      const polled = pollSafely(deps, connector, prepared, {
        ...perConnector,
        deadline,
        ...(hardDeadline ? { hardDeadline } : {}),
        onLastWindow: () => following?.lease(),
        onDelivered: delivered,
        releaseBehind: (releasing) => {
          released = releasing.then(
            (row) => logStatus(deps, connector, row),
            (error: unknown) => releaseFailed(deps, connector, error),
          );
        },
      }).then(async (report) => {
        reports[index] = report;
        await (released ?? logStatus(deps, connector, undefined));
      });
      finishing.push(polled);
      // The next connector's uploads start while this one's last commit is written: a different row and lease.
      await Promise.race([nothingLeftToSend, polled]);
      current = following;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, connectors.length)) }, worker));
  await Promise.all(finishing);
  return { startedAt, finishedAt: deps.clock.now(), reports };
}

interface Claimed {
  index: number;
  connector: Connector;
  prepared: Promise<PreparedConnector>;
  lease(): void;
}

async function pollSafely(
  deps: RunnerDeps,
  connector: Connector,
  prepared: Promise<PreparedConnector>,
  options: ConnectorRunOptions,
): Promise<ConnectorRunReport> {
  try {
    return await pollPrepared(deps, connector, await prepared, options);
  } catch (error) {
    const message = redact(
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      connector.secrets,
    );
    deps.logger.error("connector run failed", { connectorId: connector.id, lastError: message });
    return {
      connectorId: connector.id,
      outcome: "failed",
      windowsCommitted: 0,
      windowsPending: 0,
      accepted: 0,
      committedThrough: undefined,
      error: message,
    };
  }
}

/** The window's outcome stands; the lease expires at its TTL instead, and the next run takes it over then. */
async function releaseFailed(deps: RunnerDeps, connector: Connector, error: unknown): Promise<void> {
  deps.logger.warn("could not release the connector's lease; it expires at its TTL", {
    connectorId: connector.id,
    lastError: redact(
      error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      connector.secrets,
    ),
  });
  await logStatus(deps, connector, undefined);
}

/**
 * The connector's row after its run, as one line: what infra/queries/health.kql summarizes per connector. The row
 * the run's lease released is as stored; without one (not polled, or failed before) it is read.
 */
async function logStatus(
  deps: RunnerDeps,
  connector: Connector,
  released: WatermarkRow | undefined,
): Promise<void> {
  try {
    const row = released ?? (await deps.store.get(connector.id));
    if (!row) return;
    deps.logger.info("connector status", {
      connectorId: row.connectorId,
      status: row.status,
      statusReason: row.statusReason,
      lagMinutes: row.lagMinutes,
      committedThrough: row.committedThrough?.toISOString(),
      consecutiveFailures: row.consecutiveFailures,
      lastError: row.lastError,
    });
  } catch (error) {
    deps.logger.warn("could not read the connector's row after its run", {
      connectorId: connector.id,
      lastError: error instanceof Error ? error.message : String(error),
    });
  }
}
