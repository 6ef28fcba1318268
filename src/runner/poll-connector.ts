/**
 * One connector, one run: take its lease, plan the due windows from its watermark, and for each window poll every
 * page, send it, and commit only when the sink accepted all of it. A failure stops the connector for this run:
 * nothing after the failed window is attempted, so the watermark can never pass data that was not accepted.
 */
import type { Connector } from "../definition/schema.ts";
import { redact } from "../engine/redact.ts";
import type { Clock, Engine, Logger, Page, Window } from "../engine/types.ts";
import type { Sink } from "../sink/logs-ingestion-sink.ts";
import {
  formatWindow,
  type Lease,
  LeaseLostError,
  type WatermarkRow,
  type WatermarkStore,
  type WindowCounts,
} from "../state/index.ts";

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

export interface ConnectorRunOptions {
  /** No new window starts after this instant; the window in flight is aborted at `hardDeadline`. */
  deadline: Date;
  hardDeadline?: Date;
  maxWindows?: number;
  initialLookbackMin?: number;
  leaseTtlMs?: number;
  /** Called after each window, for progress displays. */
  onWindow?: (report: WindowReport) => void;
}

export type ConnectorOutcome =
  | "up-to-date"
  | "caught-up"
  | "budget-exhausted"
  | "failed"
  | "leased-elsewhere"
  | "lease-lost"
  | "disabled";

export interface WindowReport {
  connectorId: string;
  window: Window;
  outcome: "committed" | "failed";
  counts: WindowCounts;
  deadLettered: number;
  error?: string;
}

export interface ConnectorRunReport {
  connectorId: string;
  outcome: ConnectorOutcome;
  windowsCommitted: number;
  windowsPending: number;
  accepted: number;
  committedThrough: Date | undefined;
  error?: string;
}

const DEFAULT_LEASE_TTL_MS = 5 * 60_000;

class RunBudgetExceededError extends Error {
  override name = "RunBudgetExceededError";
}

export async function pollConnector(
  deps: RunnerDeps,
  connector: Connector,
  options: ConnectorRunOptions,
): Promise<ConnectorRunReport> {
  const report: ConnectorRunReport = {
    connectorId: connector.id,
    outcome: "up-to-date",
    windowsCommitted: 0,
    windowsPending: 0,
    accepted: 0,
    committedThrough: undefined,
  };
  const registered = await deps.store.register(connector);
  report.committedThrough = registered.committedThrough;
  if (registered.disabledReason !== "") return { ...report, outcome: "disabled" };

  const lease = await deps.store.acquireLease(
    connector.id,
    deps.owner,
    options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
    {
      secrets: connector.secrets,
    },
  );
  if (!lease) return { ...report, outcome: "leased-elsewhere" };
  try {
    const row = await lease.read();
    const windows = deps.engine.planWindows(connector, row.committedThrough, {
      now: deps.clock.now(),
      ...(options.initialLookbackMin !== undefined ? { initialLookbackMin: options.initialLookbackMin } : {}),
      ...(options.maxWindows !== undefined ? { maxWindows: options.maxWindows } : {}),
    });
    Object.assign(report, await pollWindows(deps, connector, lease, windows, row.cursor, options));
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    report.outcome = "lease-lost";
    report.error = redact(error.message, connector.secrets);
  } finally {
    await lease.release();
  }
  return report;
}

export type WindowsOutcome = Pick<
  ConnectorRunReport,
  "outcome" | "windowsCommitted" | "windowsPending" | "accepted" | "error"
> & { committedThrough?: Date };

/**
 * Polls `windows` in order under `lease` (the connector's, or a fan-out range's: src/fanout), stopping at the
 * first failure or at the deadline. `LeaseLostError` passes through to the caller.
 */
export async function pollWindows(
  deps: RunnerDeps,
  connector: Connector,
  lease: Lease,
  windows: readonly Window[],
  startCursor: string | undefined,
  options: Pick<ConnectorRunOptions, "deadline" | "hardDeadline" | "onWindow">,
): Promise<WindowsOutcome> {
  const result: WindowsOutcome = {
    outcome: "up-to-date",
    windowsCommitted: 0,
    windowsPending: 0,
    accepted: 0,
  };
  let cursor = startCursor;
  for (const [index, window] of windows.entries()) {
    if (deps.clock.now() >= options.deadline) {
      result.windowsPending = windows.length - index;
      result.outcome = "budget-exhausted";
      break;
    }
    const polled = await pollWindow(deps, connector, lease, window, cursor, options);
    options.onWindow?.(polled.report);
    if (polled.report.outcome === "failed") {
      result.outcome = "failed";
      result.windowsPending = windows.length - index;
      if (polled.report.error !== undefined) result.error = polled.report.error;
      break;
    }
    cursor = polled.cursor;
    result.windowsCommitted += 1;
    result.accepted += polled.report.counts.accepted;
    result.committedThrough = window.end;
    result.outcome = "caught-up";
  }
  return result;
}

async function pollWindow(
  deps: RunnerDeps,
  connector: Connector,
  lease: Lease,
  window: Window,
  cursor: string | undefined,
  options: Pick<ConnectorRunOptions, "hardDeadline">,
): Promise<{ report: WindowReport; cursor: string | undefined }> {
  const started = deps.clock.now().getTime();
  const counts: WindowCounts = { fetched: 0, extracted: 0, sent: 0, accepted: 0, pages: 0, durationMs: 0 };
  let deadLettered = 0;
  let deadLetterLocation = "";
  let nextCursor = cursor;
  const abort = new AbortController();
  const stopAt = options.hardDeadline?.getTime();
  const timer =
    stopAt === undefined
      ? undefined
      : setTimeout(
          () =>
            abort.abort(
              new RunBudgetExceededError("the run's time budget ended before the window completed"),
            ),
          Math.max(0, stopAt - deps.clock.now().getTime()),
        );
  const finish = (outcome: WindowReport["outcome"], error?: string): WindowReport => ({
    connectorId: connector.id,
    window,
    outcome,
    counts: { ...counts, durationMs: deps.clock.now().getTime() - started },
    deadLettered,
    ...(error !== undefined ? { error } : {}),
  });

  const { windowAttempts: attempt } = await lease.beginWindow(window);
  const observe = (report: WindowReport, row: WatermarkRow) =>
    observeWindow(deps, {
      connector,
      report,
      attempt,
      row,
      recordHealth: (note) => lease.recordHealth(note),
    });
  // Aborts only the page fetched ahead, when the page being sent fails; `abort` stays the window's own signal.
  const fetchAhead = new AbortController();
  const pages = deps.engine
    .pollWindow(connector, window, {
      signal: AbortSignal.any([abort.signal, fetchAhead.signal]),
      ...(cursor !== undefined ? { cursor } : {}),
    })
    [Symbol.asyncIterator]();
  let next = fetchNextPage(pages);
  try {
    for (let step = await next; !step.done; step = await next) {
      const page = step.value;
      // One page ahead at most: page N+1 downloads while page N is sent, so memory holds two pages.
      next = fetchNextPage(pages);
      counts.pages += 1;
      counts.fetched += page.events.length;
      counts.extracted += page.events.length;
      if (page.events.length > 0) {
        const sent = await deps.sink.send(connector, page.events, { signal: abort.signal });
        counts.sent += sent.sent;
        counts.accepted += sent.accepted;
        deadLettered += sent.deadLettered;
        const location = sent.deadLetters[0]?.location;
        if (location !== undefined) deadLetterLocation = location;
      }
      if (page.cursor !== undefined) nextCursor = page.cursor;
    }
  } catch (error) {
    await discardFetchAhead(pages, next, fetchAhead);
    if (error instanceof LeaseLostError) throw error;
    const cause = abort.signal.aborted && abort.signal.reason instanceof Error ? abort.signal.reason : error;
    const report = finish("failed", redact(describe(cause), connector.secrets));
    const row = await lease.failWindow(window, cause, report.counts);
    logWindow(deps.logger, connector, report);
    await observe(report, row);
    return { report, cursor };
  } finally {
    if (timer) clearTimeout(timer);
  }
  const report = finish("committed");
  if (deadLettered > 0) await lease.recordDeadLetter(deadLettered, deadLetterLocation);
  const row = await lease.commitWindow(window, report.counts, nextCursor);
  logWindow(deps.logger, connector, report);
  await observe(report, row);
  return { report, cursor: nextCursor };
}

/** Its rejection is handled at once: it may fail while the page before it is still being sent. */
function fetchNextPage(pages: AsyncIterator<Page>): Promise<IteratorResult<Page>> {
  const next = pages.next();
  next.catch(() => undefined);
  return next;
}

/** Stops the page fetched ahead of a failed one and lets the paging generator clean up before the failure is written. */
async function discardFetchAhead(
  pages: AsyncIterator<Page>,
  next: Promise<IteratorResult<Page>>,
  fetchAhead: AbortController,
): Promise<void> {
  fetchAhead.abort(new Error("an earlier page of the window failed"));
  await next.catch(() => undefined);
  await pages.return?.().catch(() => undefined);
}

/** The observer never fails the window: the window's outcome is already on the row when it runs. */
async function observeWindow(deps: RunnerDeps, attempt: WindowAttempt): Promise<void> {
  if (deps.health === undefined) return;
  try {
    await deps.health.windowAttempted(attempt);
  } catch (error) {
    deps.logger.warn("window observer failed; the window's outcome stands", {
      connectorId: attempt.connector.id,
      window: formatWindow(attempt.report.window),
      lastError: redact(describe(error), attempt.connector.secrets),
    });
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** One structured line per window: the fields Application Insights and infra/queries/health.kql read. */
function logWindow(logger: Logger, connector: Connector, report: WindowReport): void {
  const fields = {
    connectorId: connector.id,
    window: formatWindow(report.window),
    outcome: report.outcome,
    pages: report.counts.pages,
    fetched: report.counts.fetched,
    sent: report.counts.sent,
    accepted: report.counts.accepted,
    deadLettered: report.deadLettered,
    durationMs: report.counts.durationMs,
    ...(report.error !== undefined ? { lastError: report.error } : {}),
  };
  if (report.outcome === "committed") logger.info("window committed", fields);
  else logger.warn("window failed", fields);
}
