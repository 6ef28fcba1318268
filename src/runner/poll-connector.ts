/**
 * One connector, one run: take its lease, plan the due windows from its watermark, and for each window poll every
 * page, send it, and commit only when the sink accepted all of it. A failure stops the connector for this run:
 * nothing after the failed window is attempted, so the watermark can never pass data that was not accepted.
 */
import { setImmediate as nextIoTurn } from "node:timers/promises";
import type { Connector } from "../definition/schema.ts";
import { RateLimitedError } from "../engine/errors.ts";
import { redact } from "../engine/redact.ts";
import type { Logger, Window } from "../engine/types.ts";
import { isPersistentPaging } from "../paging/index.ts";
import { formatWindow, type Lease, LeaseLostError, sameWindow, type WatermarkRow } from "../state/index.ts";
import {
  closeWindowPages,
  deliverWindow,
  describeError,
  openWindowPages,
  type WindowDelivery,
  type WindowPages,
  windowReport,
} from "./deliver-window.ts";
import type { RunnerDeps, WindowAttempt, WindowReport } from "./types.ts";

export interface ConnectorRunOptions {
  /** No new window starts after this instant; the window in flight is aborted at `hardDeadline`. */
  deadline: Date;
  hardDeadline?: Date;
  maxWindows?: number;
  initialLookbackMin?: number;
  leaseTtlMs?: number;
  /** Called after each window, for progress displays. */
  onWindow?: (report: WindowReport) => void;
  /** Called as the last planned window starts: `runAll` prepares the next connector meanwhile. */
  onLastWindow?: () => void;
  /**
   * Called once the connector has nothing left to send this run, only table writes (its last window's commit,
   * its release): `runAll` starts the next connector's uploads meanwhile. May be called more than once.
   */
  onDelivered?: () => void;
  /**
   * Takes over waiting for the lease's release (the row as released, or undefined if the lease was lost), so the
   * next connector can start while it is written. Without it the run waits for the release itself.
   */
  releaseBehind?: (released: Promise<WatermarkRow | undefined>) => void;
}

export type ConnectorOutcome =
  | "up-to-date"
  | "caught-up"
  | "budget-exhausted"
  | "failed"
  | "leased-elsewhere"
  | "lease-lost"
  | "disabled"
  /** The upstream asked not to be called yet (NotBefore on the row): skipped without a request. */
  | "deferred";

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

/**
 * A connector made ready to poll: registered, leased (the lease's write marking its first window in flight), its
 * windows planned and that window's first page requested. Or, when it is not to be polled this run, its report.
 */
export type PreparedConnector =
  | { report: ConnectorRunReport; lease?: undefined }
  | {
      report: ConnectorRunReport;
      lease: Lease;
      windows: Window[];
      /** The first window, marked in flight by the lease's write, and its pages under `run`. */
      begun: { window: Window; pages: WindowPages } | undefined;
      run: AbortController;
    };

export async function pollConnector(
  deps: RunnerDeps,
  connector: Connector,
  options: ConnectorRunOptions,
): Promise<ConnectorRunReport> {
  return pollPrepared(deps, connector, await prepareConnector(deps, connector, options), options);
}

/**
 * Everything before a connector's first upload. `runAll` does it while the connector before runs (registering
 * at once, leasing once `leaseWhen` resolves: as that one starts its last window), so the table calls and the
 * first download are not dead time between connectors.
 */
export async function prepareConnector(
  deps: RunnerDeps,
  connector: Connector,
  options: Pick<ConnectorRunOptions, "deadline" | "maxWindows" | "initialLookbackMin" | "leaseTtlMs">,
  leaseWhen?: PromiseLike<void>,
): Promise<PreparedConnector> {
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
  const notPolled = notPolledNow(deps, connector, registered);
  if (notPolled) return { report: { ...report, ...notPolled } };

  await leaseWhen;
  let windows: Window[] = [];
  // The windows are planned from the row as leased, and the first one is marked in flight by the lease's write.
  const lease = await deps.store.acquireLease(
    connector.id,
    deps.owner,
    options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS,
    {
      secrets: connector.secrets,
      begin: (row) => {
        if (notPolledNow(deps, connector, row, { quiet: true })) return undefined;
        // Nothing committed yet but a first window failed: start there again, not from a look-back of the new
        // now, which would skip that window for good.
        const resumeAt = row.committedThrough ?? row.windowInFlight?.start;
        windows = deps.engine.planWindows(connector, resumeAt, {
          now: deps.clock.now(),
          ...(options.initialLookbackMin !== undefined
            ? { initialLookbackMin: options.initialLookbackMin }
            : {}),
          ...(options.maxWindows !== undefined ? { maxWindows: options.maxWindows } : {}),
        });
        return deps.clock.now() < options.deadline ? windows[0] : undefined;
      },
    },
  );
  if (!lease) return { report: { ...report, outcome: "leased-elsewhere" } };
  // The row as leased may be newer than the one registered (read at the start of the run, or minutes ago while
  // the connectors before ran): an operator's disable or an upstream's wait written since still holds.
  const notPolledAnyMore = notPolledNow(deps, connector, lease.current);
  if (notPolledAnyMore) {
    await lease.release();
    return { report: { ...report, committedThrough: lease.current.committedThrough, ...notPolledAnyMore } };
  }
  const run = new AbortController();
  const { cursor, windowInFlight } = lease.current;
  const [first] = windows;
  const begun =
    first !== undefined && sameWindow(windowInFlight, first)
      ? { window: first, pages: openWindowPages(deps, connector, first, { cursor, signal: run.signal }) }
      : undefined;
  return { report, lease, windows, begun, run };
}

/** Why the row says not to poll the connector now (disabled, or the upstream asked to wait), if it does. */
function notPolledNow(
  deps: Pick<RunnerDeps, "clock" | "logger">,
  connector: Connector,
  row: WatermarkRow,
  { quiet = false } = {},
): Pick<ConnectorRunReport, "outcome" | "error"> | undefined {
  if (row.disabledReason !== "") return { outcome: "disabled" };
  if (row.notBefore === undefined || deps.clock.now() >= row.notBefore) return undefined;
  if (!quiet) deps.logger.info("connector deferred", { connectorId: connector.id, notBefore: row.notBefore });
  const error = `upstream asked to wait until ${row.notBefore.toISOString()}; not polled before then`;
  return { outcome: "deferred", error };
}

/** Polls a prepared connector's windows under its lease, then releases it. */
export async function pollPrepared(
  deps: RunnerDeps,
  connector: Connector,
  prepared: PreparedConnector,
  options: ConnectorRunOptions,
): Promise<ConnectorRunReport> {
  const { report, lease } = prepared;
  if (!lease) return report;
  const { windows, begun, run } = prepared;
  try {
    // Leased while the connector before finished: if that took a good part of the TTL, renewing first makes
    // sure no other runner took the connector over before anything of it is sent.
    const ttlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    if (lease.until.getTime() - deps.clock.now().getTime() < ttlMs / 2) {
      await lease.renew().catch(async (error: unknown) => {
        if (begun) await closeWindowPages(begun.pages, new Error("the lease was lost before the window"));
        throw error;
      });
    }
    Object.assign(
      report,
      await pollWindows(deps, connector, lease, windows, lease.current.cursor, {
        ...options,
        begun,
        run,
        releaseWithLastCommit: true,
      }),
    );
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    report.outcome = "lease-lost";
    report.error = redact(error.message, connector.secrets);
  } finally {
    const released = lease.release().then((done) => (done ? lease.current : undefined));
    if (options.releaseBehind) options.releaseBehind(released);
    else await released;
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
 *
 * A window whose first page was requested ahead starts during the commit of the window before, which marks it in
 * flight: its rows are built and compressed meanwhile, but its sends wait for that commit to land, so a runner
 * stopped at any moment has sent at most one window it has not committed.
 */
export async function pollWindows(
  deps: RunnerDeps,
  connector: Connector,
  lease: Lease,
  windows: readonly Window[],
  startCursor: string | undefined,
  options: Pick<
    ConnectorRunOptions,
    "deadline" | "hardDeadline" | "onWindow" | "onLastWindow" | "onDelivered"
  > & {
    /** The first window, already marked in flight by the lease's own write, and its pages if already opened. */
    begun?: { window: Window; pages?: WindowPages } | undefined;
    /** Aborts the run's window in flight; `pages` above were opened under its signal. */
    run?: AbortController;
    /** The last window's commit also releases the lease (`Lease.commitLastWindow`), saving the release's call. */
    releaseWithLastCommit?: boolean;
  },
): Promise<WindowsOutcome> {
  const result: WindowsOutcome = {
    outcome: "up-to-date",
    windowsCommitted: 0,
    windowsPending: 0,
    accepted: 0,
  };
  // One signal for the run: the hard deadline, or a lost lease, stops whatever window is in flight.
  const run = options.run ?? new AbortController();
  const stopAt = options.hardDeadline?.getTime();
  const timer =
    stopAt === undefined
      ? undefined
      : setTimeout(
          () =>
            run.abort(new RunBudgetExceededError("the run's time budget ended before the window completed")),
          Math.max(0, stopAt - deps.clock.now().getTime()),
        );
  // Persistent* paging: the next window starts from the cursor this one commits, so it is not opened early.
  const opensAhead = !isPersistentPaging(connector.properties.paging.pagingType);
  let upcoming: WindowPages | undefined = options.begun?.pages;
  /** The window after the one being concluded, started during its commit. */
  let next: StartedWindow | undefined;

  const start = (index: number, cursor: string | undefined, attempt: Promise<number>): StartedWindow => {
    const window = windows[index] as Window;
    const following = windows[index + 1];
    if (following === undefined) options.onLastWindow?.();
    const opened = upcoming;
    upcoming = undefined;
    // While this window's last uploads and its commit are under way, the next window's first page downloads.
    const openFollowing =
      opensAhead && following !== undefined
        ? () => {
            if (deps.clock.now() < options.deadline)
              upcoming = openWindowPages(deps, connector, following, { signal: run.signal });
          }
        : undefined;
    return startWindow(deps, connector, lease, window, run, { cursor, opened, openFollowing, attempt });
  };

  try {
    let cursor = startCursor;
    /** The window the last write marked in flight: it has started, and needs no write of its own to begin. */
    let begun = options.begun?.window;
    for (const [index, window] of windows.entries()) {
      let started = next;
      next = undefined;
      if (started === undefined) {
        // A window opened ahead (or marked in flight) started before the deadline: it is delivered, not dropped.
        if (upcoming === undefined && begun === undefined && deps.clock.now() >= options.deadline) {
          result.windowsPending = windows.length - index;
          result.outcome = "budget-exhausted";
          break;
        }
        const attempt =
          begun !== undefined && sameWindow(begun, window)
            ? lease.current.windowAttempts
            : await beginWindow(lease, window, upcoming);
        started = start(index, cursor, Promise.resolve(attempt));
      }
      const following = windows[index + 1];
      const polled = await pollWindow(deps, connector, lease, started, {
        // The window that starts right after this one's commit is marked in flight by that same write.
        startsNext: () =>
          following !== undefined &&
          (upcoming !== undefined || (!opensAhead && deps.clock.now() < options.deadline))
            ? following
            : undefined,
        // Its first page on its way, it starts now; its sends wait for the commit that marks it.
        committing: (commit, nextCursor) => {
          if (following === undefined || upcoming === undefined) return;
          next = start(
            index + 1,
            nextCursor,
            commit.then((row) => row.windowAttempts),
          );
        },
        last: following === undefined,
        releaseWithCommit: following === undefined && options.releaseWithLastCommit === true,
        onDelivered: options.onDelivered,
      });
      begun = polled.begunNext;
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
  } finally {
    if (timer) clearTimeout(timer);
    // Started during a commit that then failed: its sends fail on that commit's error; nothing of it is recorded.
    if (next) await next.stop(new Error("the commit before this window failed"));
    if (upcoming) await closeWindowPages(upcoming, new Error("the run stopped before this window"));
    options.onDelivered?.();
  }
  return result;
}

/** Marks a window in flight with its own write; pages opened for it are closed if that fails. */
async function beginWindow(lease: Lease, window: Window, opened: WindowPages | undefined): Promise<number> {
  try {
    return (await lease.beginWindow(window)).windowAttempts;
  } catch (error) {
    if (opened) await closeWindowPages(opened, new Error("the window could not start"));
    throw error;
  }
}

/** A window being delivered. */
interface StartedWindow {
  window: Window;
  /** Its attempt, once it is marked in flight; no send of it reaches the wire before. */
  attempt: Promise<number>;
  delivery: Promise<WindowDelivery>;
  /** Renews the lease until the delivery ends; called once no other write of the lease can overlap a renewal. */
  renewWhileDelivering(): void;
  /** Aborts the delivery and waits for it to end. */
  stop(reason: Error): Promise<void>;
}

function startWindow(
  deps: RunnerDeps,
  connector: Connector,
  lease: Lease,
  window: Window,
  run: AbortController,
  options: {
    cursor: string | undefined;
    opened: WindowPages | undefined;
    openFollowing: (() => void) | undefined;
    attempt: Promise<number>;
  },
): StartedWindow {
  let keepAlive: { stop(): Promise<void> } | undefined;
  let delivered = false;
  const { cursor } = options;
  const pages = options.opened ?? openWindowPages(deps, connector, window, { cursor, signal: run.signal });
  const delivery = deliverWindow(deps, connector, window, {
    cursor,
    signal: run.signal,
    opened: pages,
    ...(options.openFollowing ? { onLastPage: options.openFollowing } : {}),
    notBefore: options.attempt,
  }).finally(async () => {
    delivered = true;
    await keepAlive?.stop();
  });
  // Awaited when the window is concluded; this only keeps a failure meanwhile from counting as unhandled.
  options.attempt.catch(() => undefined);
  return {
    window,
    attempt: options.attempt,
    delivery,
    renewWhileDelivering() {
      if (!delivered) keepAlive ??= keepLeaseAlive(deps, lease, run);
    },
    async stop(reason) {
      pages.stop.abort(reason);
      await delivery;
    },
  };
}

/** Waits for a started window's delivery, then commits it (or records its failure) and reports it. */
async function pollWindow(
  deps: RunnerDeps,
  connector: Connector,
  lease: Lease,
  started: StartedWindow,
  ahead: {
    /** At commit time: the window that starts next, if any. */
    startsNext: () => Window | undefined;
    /** Called with the commit in flight that marks the next window, and the cursor it starts from. */
    committing: (commit: Promise<WatermarkRow>, cursor: string | undefined) => void;
    last: boolean;
    releaseWithCommit: boolean;
    /** Called once the last window's uploads are done (or this window failed), before its commit. */
    onDelivered: (() => void) | undefined;
  },
): Promise<{ report: WindowReport; cursor: string | undefined; begunNext: Window | undefined }> {
  const { window } = started;
  let attempt: number;
  try {
    attempt = await started.attempt;
  } catch (error) {
    // Not begun: its sends failed on the same error, and there is nothing to record under the lease.
    await started.delivery;
    throw error;
  }
  started.renewWhileDelivering();
  const delivery = await started.delivery;
  // A failed window is the run's last too: nothing after it is attempted.
  if (ahead.last || delivery.error !== undefined) ahead.onDelivered?.();
  const report = windowReport(connector, window, delivery);
  let row: WatermarkRow;
  let begunNext: Window | undefined;
  if (delivery.error !== undefined) {
    row = await lease.failWindow(
      window,
      delivery.error,
      report.counts,
      upstreamNotBefore(deps, delivery.error),
    );
  } else {
    begunNext = ahead.startsNext();
    const commit = (async () => {
      if (delivery.deadLettered > 0)
        await lease.recordDeadLetter(delivery.deadLettered, delivery.deadLetterLocation);
      return ahead.releaseWithCommit && lease.commitLastWindow
        ? lease.commitLastWindow(window, report.counts, delivery.cursor)
        : lease.commitWindow(window, report.counts, delivery.cursor, begunNext);
    })();
    if (begunNext !== undefined) {
      // The commit's request goes on the wire first, then the next window's rows are built while it is answered:
      // the other way round, that work delayed the commit, and with it the next window's first send (bench (d)).
      commit.catch(() => undefined);
      await nextIoTurn();
      ahead.committing(commit, delivery.cursor);
    }
    row = await commit;
  }
  logWindow(deps.logger, connector, report);
  await observeWindow(deps, {
    connector,
    report,
    attempt,
    row,
    recordHealth: (note) => lease.recordHealth(note),
  });
  return { report, cursor: delivery.cursor, begunNext };
}

/**
 * When the upstream itself asked for a wait longer than the client would sleep (429 with Retry-After or a reset
 * header), the instant before which asking again is pointless. The client's own QPS budget is not such a wait.
 */
function upstreamNotBefore(deps: Pick<RunnerDeps, "clock">, error: unknown): Date | undefined {
  if (!(error instanceof RateLimitedError) || error.status === undefined) return undefined;
  return new Date(deps.clock.now().getTime() + error.requestedWaitMs);
}

/**
 * Renews the lease while a window is polled, so a window longer than the lease's TTL (many pages, a slow or
 * rate-limited API) is not taken over by another runner half-way. Renewals never overlap each other or the
 * writes after the window (`stop` waits for the one in flight); a lost lease aborts the window at once.
 */
function keepLeaseAlive(
  deps: Pick<RunnerDeps, "clock">,
  lease: Lease,
  abort: AbortController,
): { stop(): Promise<void> } {
  const everyMs = Math.max(250, (lease.until.getTime() - deps.clock.now().getTime()) / 3);
  let renewing: Promise<void> | undefined;
  const interval = setInterval(() => {
    renewing ??= lease
      .renew()
      .catch((error: unknown) => abort.abort(error))
      .finally(() => {
        renewing = undefined;
      });
  }, everyMs);
  return {
    async stop() {
      clearInterval(interval);
      await renewing;
    },
  };
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
      lastError: redact(describeError(error), attempt.connector.secrets),
    });
  }
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
