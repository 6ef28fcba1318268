/**
 * A runner's hold on one connector, and the only way a runner writes its watermark row. Every write carries the
 * etag of the lease's previous write and extends the lease by its TTL; a 412 ends the lease (`LeaseLostError`)
 * and is recorded in the run history as LeaseLost.
 *
 * The commit rule lives here: CommittedThrough moves only forward and only contiguously (a window is committed
 * only if it starts exactly at CommittedThrough), and the persistent cursor moves only in that same write.
 */
import type { Clock, Window } from "../engine/types.ts";
import { recordActivity } from "./activity.ts";
import { LeaseLostError, StateError, StateValueTooLargeError, WindowNotContiguousError } from "./errors.ts";
import type { RunOutcome, RunRecord } from "./history.ts";
import {
  assertCursorFits,
  formatWindow,
  lagMinutesAt,
  limits,
  limitText,
  type StoredEntity,
  type StoredRow,
  sameWindow,
  type WatermarkRow,
  type WindowCounts,
} from "./row.ts";

export interface LeaseOptions {
  /** Bound secret values of the connector: removed (also URL-encoded and base64) from stored error texts. */
  secrets?: readonly string[];
  /**
   * The window to mark in flight with the lease's own write (as `beginWindow` would), planned from the row as it
   * is leased; undefined marks none. May be called more than once (each time the row is read again).
   */
  begin?: (row: WatermarkRow) => Window | undefined;
}

export interface Lease {
  readonly connectorId: string;
  readonly owner: string;
  /** When the lease expires unless renewed (every write under the lease renews it). */
  readonly until: Date;
  /** The row as this lease last wrote it (or took it over), with no call to the table. */
  readonly current: WatermarkRow;
  /** The row as stored now; `LeaseLostError` if anyone else wrote it since this lease did. */
  read(): Promise<WatermarkRow>;
  renew(ttlMs?: number): Promise<void>;
  /** Marks the window in flight: attempts + 1 if it is the same window as before, else 1. */
  beginWindow(window: Window): Promise<WatermarkRow>;
  /**
   * Moves CommittedThrough to `window.end` after every page of the window was accepted. Refused with
   * `WindowNotContiguousError` unless `window.start` equals CommittedThrough (or nothing is committed yet).
   * `cursor` (Persistent* paging) moves in the same write; undefined keeps the stored cursor. `next`: the window
   * the runner has already started, marked in flight by this same write instead of its own `beginWindow`.
   */
  commitWindow(window: Window, counts: WindowCounts, cursor?: string, next?: Window): Promise<WatermarkRow>;
  /**
   * `commitWindow` for the run's last window, giving the lease up in the same write: one table call instead of
   * two. `release` then only waits for the history rows. A health note may still follow (`recordHealth`), written
   * only if no one took the row since. Absent on a fan-out range's lease.
   */
  commitLastWindow?(window: Window, counts: WindowCounts, cursor?: string): Promise<WatermarkRow>;
  /**
   * Records a failed attempt; CommittedThrough and the cursor stay where they are. `notBefore`: the upstream
   * asked not to be called before then (kept until a window commits).
   */
  failWindow(window: Window, error: unknown, counts: WindowCounts, notBefore?: Date): Promise<WatermarkRow>;
  /**
   * Records what the health reporter (src/health) last did: the status and time of the last record sent, or
   * why sending failed (empty `error` clears it). Fields left out keep their stored values.
   */
  recordHealth(health: HealthNote): Promise<WatermarkRow>;
  /** Adds records the sink could never accept, and where they were put for the on-call. */
  recordDeadLetter(count: number, location: string): Promise<WatermarkRow>;
  /**
   * Gives the lease up (a no-op if it was lost), waits for the history rows still being written, and prunes the
   * connector's history once enough rows were added since the last prune. False if the lease was lost.
   */
  release(): Promise<boolean>;
}

export interface HealthNote {
  lastStatus?: string;
  lastSentAt?: Date;
  error: string;
}

/** What a lease needs from its store. */
export interface LeaseContext {
  clock: Pick<Clock, "now">;
  /** The row with status and lag worked out for `now`. */
  derive(row: WatermarkRow, now: Date): WatermarkRow;
  requireRow(connectorId: string): Promise<StoredRow>;
  /**
   * Writes `row` over `stored` (only the columns that differ) if the table still holds it: the entity as now stored,
   * or undefined when the row no longer has `stored.etag` (412) or is gone (404).
   */
  writeIfUnchanged(row: WatermarkRow, stored: StoredEntity, what: string): Promise<StoredEntity | undefined>;
  /**
   * Hands over a history row to be written behind the watermark write it follows, off the window's path, with
   * others of the connector in one call; `now`: start writing the rows held so far (the last write of a run, so
   * readers see its history about when they see the watermark). Best effort: never fails that write.
   * `flushHistory` writes what is left and waits for the connector's rows still being written.
   */
  recordHistory(record: RunRecord, now: boolean): void;
  flushHistory(connectorId: string): Promise<void>;
  /** Best effort: keeps the newest N history rows. */
  pruneHistory(connectorId: string): Promise<void>;
  /** History rows added since the last prune before a release prunes again (a prune lists the partition). */
  historyRowsPerPrune: number;
  redactError(text: string, secrets: readonly string[]): string;
}

export function openLease(
  context: LeaseContext,
  connectorId: string,
  owner: string,
  ttlMs: number,
  initial: StoredRow,
  secrets: readonly string[],
): Lease {
  const { clock, derive, requireRow, writeIfUnchanged, recordHistory, redactError } = context;
  let row = initial.row;
  /** What the table holds under the etag the next write carries. */
  let stored: StoredEntity = { etag: initial.etag, entity: initial.entity };
  /** Once lost or released, the lease never writes again (but a health note after `commitLastWindow`). */
  let ended: "lost" | "released" | undefined;
  /** `commitLastWindow` released the lease; `prune`: it reset HistoryRowsSincePrune, so `release` prunes. */
  let releasedByCommit: { prune: boolean } | undefined;

  const endedError = () =>
    ended === "released"
      ? new StateError(
          `Lease on connector "${connectorId}" held by "${owner}" was released; acquire a new one.`,
        )
      : new LeaseLostError(connectorId, owner);

  async function write(
    what: string,
    change: (row: WatermarkRow, now: Date) => WatermarkRow,
    onLost?: () => void,
    leaseTtlMs: number | "release" = ttlMs,
  ): Promise<WatermarkRow> {
    // A write that keeps the row released may follow the commit that released it.
    if (ended && !(ended === "released" && releasedByCommit && leaseTtlMs === "release")) throw endedError();
    const now = clock.now();
    const next: WatermarkRow = {
      ...change(row, now),
      leaseOwner: leaseTtlMs === "release" ? undefined : owner,
      leaseUntil: leaseTtlMs === "release" ? undefined : new Date(now.getTime() + leaseTtlMs),
      updatedAt: now,
    };
    const written = await writeIfUnchanged(next, stored, `${what} for "${connectorId}"`);
    if (written === undefined) {
      ended = "lost";
      onLost?.();
      throw endedError();
    }
    stored = written;
    row = derive(next, now);
    return row;
  }

  function attemptOf(window: Window): number {
    return sameWindow(row.windowInFlight, window) ? Math.max(1, row.windowAttempts) : 1;
  }

  function historyRecord(
    window: Window,
    outcome: RunOutcome,
    counts: WindowCounts,
    errorKind = "",
    error = "",
  ): RunRecord {
    return {
      connectorId,
      at: clock.now(),
      window,
      attempt: attemptOf(window),
      outcome,
      counts,
      errorKind,
      error,
      owner,
    };
  }

  async function commit(
    window: Window,
    counts: WindowCounts,
    cursor: string | undefined,
    next: Window | undefined,
    release = false,
  ): Promise<WatermarkRow> {
    assertContiguous(window, "commit");
    assertCursorFits(connectorId, cursor);
    const record = historyRecord(window, "Succeeded", counts);
    const prune = release && row.historyRowsSincePrune + 1 >= context.historyRowsPerPrune;
    const committed = await write(
      release ? "commit the last window and release the lease" : "commit the window",
      (current, now) => ({
        ...current,
        committedThrough: window.end,
        cursor: cursor ?? current.cursor,
        windowInFlight: next,
        windowAttempts: next === undefined ? 0 : 1,
        consecutiveFailures: 0,
        notBefore: undefined,
        lastSuccessAt: now,
        lastWindow: counts,
        totals: addTotals(current.totals, counts),
        historyRowsSincePrune: prune ? 0 : current.historyRowsSincePrune + 1,
        activity: recordActivity(current.activity, now, counts.accepted, lagMinutesAt(window.end, now)),
      }),
      () => recordHistory({ ...record, outcome: "LeaseLost" }, true),
      release ? "release" : ttlMs,
    );
    if (release) {
      ended = "released";
      releasedByCommit = { prune };
    }
    // Nothing started after it: this run's last commit (or a fan-out fold).
    recordHistory(record, next === undefined);
    return committed;
  }

  function assertContiguous(window: Window, action: string): void {
    if (!(window.end.getTime() > window.start.getTime())) {
      throw new WindowNotContiguousError(
        `Connector "${connectorId}": cannot ${action} window ${formatWindow(window)}: its end must be after its start.`,
      );
    }
    const committed = row.committedThrough;
    if (committed !== undefined && committed.getTime() !== window.start.getTime()) {
      throw new WindowNotContiguousError(
        `Connector "${connectorId}": cannot ${action} window ${formatWindow(window)}: CommittedThrough is ${committed.toISOString()}; the next window must start exactly there (no holes, never backwards).`,
      );
    }
  }

  return {
    connectorId,
    owner,
    get until() {
      return row.leaseUntil ?? new Date(0);
    },
    get current() {
      return row;
    },

    async read() {
      if (ended) throw endedError();
      const current = await requireRow(connectorId);
      if (current.etag !== stored.etag) {
        ended = "lost";
        throw endedError();
      }
      return current.row;
    },

    async renew(newTtlMs = ttlMs) {
      await write("renew the lease", (current) => current, undefined, newTtlMs);
    },

    async beginWindow(window) {
      assertContiguous(window, "begin");
      return write("mark the window in flight", (current) => ({
        ...current,
        windowInFlight: window,
        windowAttempts: sameWindow(current.windowInFlight, window) ? current.windowAttempts + 1 : 1,
      }));
    },

    commitWindow(window, counts, cursor, next) {
      return commit(window, counts, cursor, next);
    },

    commitLastWindow(window, counts, cursor) {
      return commit(window, counts, cursor, undefined, true);
    },

    async failWindow(window, error, counts, notBefore) {
      const kind = errorKind(error);
      const message = limitText(redactError(errorMessage(error), secrets), limits.errorChars);
      const record = historyRecord(window, "Failed", counts, kind, message);
      const failed = await write(
        "record the failed window",
        (current, now) => ({
          ...current,
          windowInFlight: window,
          windowAttempts: record.attempt,
          consecutiveFailures: current.consecutiveFailures + 1,
          lastErrorAt: now,
          lastErrorKind: kind,
          lastError: message,
          notBefore,
          lastWindow: counts,
          totals: addTotals(current.totals, counts),
          historyRowsSincePrune: current.historyRowsSincePrune + 1,
          activity: recordActivity(
            current.activity,
            now,
            counts.accepted,
            lagMinutesAt(current.committedThrough, now),
          ),
        }),
        () => recordHistory({ ...record, outcome: "LeaseLost" }, true),
      );
      recordHistory(record, true);
      return failed;
    },

    async recordHealth(health) {
      const error = limitText(redactError(health.error, secrets), limits.errorChars);
      // After `commitLastWindow` the row stays released, and the note lands only if no one wrote it since.
      return write(
        "record the health report",
        (current) => ({
          ...current,
          healthLastStatus: health.lastStatus ?? current.healthLastStatus,
          healthLastSentAt: health.lastSentAt ?? current.healthLastSentAt,
          healthLastError: error,
        }),
        undefined,
        ended === "released" ? "release" : ttlMs,
      );
    },

    async recordDeadLetter(count, location) {
      if (location.length > limits.textChars) {
        throw new StateValueTooLargeError(
          `Connector "${connectorId}": DeadLetterLocation is ${location.length} characters, over ${limits.textChars}.`,
        );
      }
      return write("record dead-lettered records", (current) => ({
        ...current,
        deadLetterCount: current.deadLetterCount + count,
        deadLetterLocation: location,
      }));
    },

    async release() {
      let prune = releasedByCommit?.prune ?? false;
      if (!ended) {
        const now = clock.now();
        prune = row.historyRowsSincePrune >= context.historyRowsPerPrune;
        const released = {
          ...row,
          leaseOwner: undefined,
          leaseUntil: undefined,
          updatedAt: now,
          historyRowsSincePrune: prune ? 0 : row.historyRowsSincePrune,
        };
        // A 412 here means someone else owns the row already: nothing left to give up.
        const written = await writeIfUnchanged(released, stored, `release the lease of "${connectorId}"`);
        ended = written === undefined ? "lost" : "released";
        if (written !== undefined) {
          stored = written;
          row = derive(released, now);
        } else prune = false;
      }
      await context.flushHistory(connectorId);
      if (prune) await context.pruneHistory(connectorId);
      return ended === "released";
    },
  };
}

function addTotals(totals: WatermarkRow["totals"], counts: WindowCounts): WatermarkRow["totals"] {
  return {
    fetched: totals.fetched + counts.fetched,
    sent: totals.sent + counts.sent,
    accepted: totals.accepted + counts.accepted,
  };
}

/** LastErrorKind: the error's class, with its stable `kind` (engine errors carry one) when it has one. */
function errorKind(error: unknown): string {
  if (!(error instanceof Error)) return typeof error;
  const name = error.name === "Error" ? error.constructor.name : error.name;
  const kind = (error as { kind?: unknown }).kind;
  return typeof kind === "string" && kind !== "" && kind !== name ? `${name} (${kind})` : name;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
