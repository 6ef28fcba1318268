/**
 * Fan-out range rows: one row per connector-window range that is queued, being polled, or polled but not yet
 * folded into the connector's watermark. They live in the watermark table under PartitionKey `fanout`, beside
 * the connector rows (which they never touch), so an on-call sees queued and accepted-but-not-contiguous work
 * in Storage Explorer next to the watermark.
 *
 * A range row is also the planner's "already queued" marker (QueuedUntil, the message's time to live) and a
 * lease of its own (LeaseOwner/LeaseUntil), so two workers never poll the same range at once while workers
 * poll different ranges of one connector in parallel.
 */
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { redact } from "../engine/redact.ts";
import type { Clock, Window } from "../engine/types.ts";
import {
  formatWindow,
  type Lease,
  LeaseLostError,
  limits,
  type WatermarkRow,
  type WindowCounts,
  WindowNotContiguousError,
} from "../state/index.ts";
import { leaseHeldByAnother, limitText } from "../state/row.ts";
import { tableCall, tableStatus } from "../state/table-calls.ts";

export const rangePartition = "fanout";

/** serial: the connector's own runner under its lease (persistent cursors, short backlogs); parallel: a range lease. */
export type RangeMode = "serial" | "parallel";

export interface RangeRow {
  connectorId: string;
  rangeKey: string;
  mode: RangeMode;
  start: Date;
  end: Date;
  /** Every window of the range before this instant was accepted by the sink (parallel ranges). */
  acceptedThrough: Date;
  /** The queued message's expiry: until then the planner does not enqueue this range again. */
  queuedUntil: Date | undefined;
  leaseOwner: string | undefined;
  leaseUntil: Date | undefined;
  windowInFlight: Window | undefined;
  windowAttempts: number;
  /** Accepted windows' counts, added to the watermark row's totals when the range is folded. */
  counts: Pick<WindowCounts, "fetched" | "sent" | "accepted">;
  deadLettered: number;
  deadLetterLocation: string;
  lastErrorAt: Date | undefined;
  lastErrorKind: string;
  lastError: string;
  /** When the range's message last went to the poison queue. */
  poisonedAt: Date | undefined;
  etag: string;
}

export type NewRange = Pick<RangeRow, "connectorId" | "mode" | "start" | "end" | "queuedUntil">;

/** A range as first stored: nothing accepted, no lease, no error. */
export function freshRange(range: NewRange): RangeRow {
  return {
    ...range,
    rangeKey: rangeKeyOf(range.connectorId, range.start),
    acceptedThrough: range.start,
    leaseOwner: undefined,
    leaseUntil: undefined,
    windowInFlight: undefined,
    windowAttempts: 0,
    counts: { fetched: 0, sent: 0, accepted: 0 },
    deadLettered: 0,
    deadLetterLocation: "",
    lastErrorAt: undefined,
    lastErrorKind: "",
    lastError: "",
    poisonedAt: undefined,
    etag: "",
  };
}

export function rangeKeyOf(connectorId: string, start: Date): string {
  // Fixed width, so a connector's ranges list in time order.
  return `${connectorId}~${String(start.getTime()).padStart(15, "0")}`;
}

export const isAccepted = (range: RangeRow): boolean =>
  range.acceptedThrough.getTime() >= range.end.getTime();

/** Queued (message not yet expired) or leased by a worker: the planner leaves it alone. */
export function isLive(range: RangeRow, now: Date): boolean {
  const leased = range.leaseUntil !== undefined && range.leaseUntil.getTime() > now.getTime();
  const queued = range.queuedUntil !== undefined && range.queuedUntil.getTime() > now.getTime();
  return leased || (queued && !isAccepted(range));
}

export interface RangeStore {
  listAll(): Promise<RangeRow[]>;
  list(connectorId: string): Promise<RangeRow[]>;
  get(rangeKey: string): Promise<RangeRow | undefined>;
  /**
   * Creates one connector's rows in time order, up to 100 per transaction: a crash leaves a prefix, never a later
   * range without an earlier one (the fold starts a never-committed connector at its earliest range).
   */
  createAll(ranges: readonly NewRange[]): Promise<void>;
  /**
   * Marks the range queued again until `queuedUntil` (undefined: hands it back to the next planner tick);
   * false when it changed since it was read.
   */
  requeue(range: RangeRow, queuedUntil: Date | undefined): Promise<boolean>;
  /** Deletes folded or finished ranges; a range already gone is fine. */
  remove(range: Pick<RangeRow, "rangeKey">): Promise<void>;
  /** Takes the range's lease, or undefined when another owner holds it or the range is gone. */
  acquire(
    rangeKey: string,
    owner: string,
    ttlMs: number,
    base: WatermarkRow,
    secrets: readonly string[],
  ): Promise<RangeLease | undefined>;
  /** Records that the range's message went to the poison queue, with the error (best effort, no lease needed). */
  markPoisoned(rangeKey: string, error: string): Promise<void>;
}

/** A `Lease` over one range: window commits move AcceptedThrough on the range row, never the watermark. */
export interface RangeLease extends Lease {
  readonly range: RangeRow;
}

export function createRangeStore(tableClient: TableClient, clock: Pick<Clock, "now">): RangeStore {
  const tableUrl = tableClient.url;
  const call = <T>(what: string, run: () => Promise<T>) => tableCall(tableUrl, what, run);

  async function list(filter: string): Promise<RangeRow[]> {
    return call("list fan-out ranges", async () => {
      const rows: RangeRow[] = [];
      for await (const entity of tableClient.listEntities({ queryOptions: { filter } })) {
        rows.push(entityToRange(entity));
      }
      return rows.sort((a, b) => a.rangeKey.localeCompare(b.rangeKey));
    });
  }

  async function get(rangeKey: string): Promise<RangeRow | undefined> {
    try {
      const entity = await call(`read fan-out range "${rangeKey}"`, () =>
        tableClient.getEntity(rangePartition, rangeKey),
      );
      return entityToRange(entity);
    } catch (error) {
      if (tableStatus(error) === 404) return undefined;
      throw error;
    }
  }

  /** The new etag, or undefined when the row changed (412) or is gone (404). */
  async function write(range: RangeRow, what: string): Promise<string | undefined> {
    try {
      const response = await call(what, () =>
        tableClient.updateEntity(rangeToEntity(range), "Replace", { etag: range.etag }),
      );
      return response.etag;
    } catch (error) {
      const status = tableStatus(error);
      if (status === 412 || status === 404) return undefined;
      throw error;
    }
  }

  return {
    listAll: () => list(`PartitionKey eq '${rangePartition}'`),
    list: (connectorId) =>
      list(`PartitionKey eq '${rangePartition}' and ConnectorId eq '${connectorId.replace(/'/g, "''")}'`),
    get,

    async createAll(ranges) {
      for (let from = 0; from < ranges.length; from += 100) {
        // Entity group transactions hold at most 100 operations.
        const actions: TransactionAction[] = ranges
          .slice(from, from + 100)
          .map((range) => ["create", rangeToEntity(freshRange(range))]);
        await call("create fan-out ranges", () => tableClient.submitTransaction(actions));
      }
    },

    async requeue(range, queuedUntil) {
      return (
        (await write({ ...range, queuedUntil }, `requeue fan-out range "${range.rangeKey}"`)) !== undefined
      );
    },

    async remove(range) {
      try {
        await call(`delete fan-out range "${range.rangeKey}"`, () =>
          tableClient.deleteEntity(rangePartition, range.rangeKey),
        );
      } catch (error) {
        if (tableStatus(error) !== 404) throw error;
      }
    },

    async acquire(rangeKey, owner, ttlMs, base, secrets) {
      const range = await get(rangeKey);
      if (range === undefined) return undefined;
      const now = clock.now();
      if (leaseHeldByAnother(range, owner, now)) return undefined;
      const leased = { ...range, leaseOwner: owner, leaseUntil: new Date(now.getTime() + ttlMs) };
      const etag = await write(leased, `acquire fan-out range "${rangeKey}"`);
      if (etag === undefined) return undefined;
      return openRangeLease({ ...leased, etag }, ttlMs, base, secrets);
    },

    async markPoisoned(rangeKey, error) {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        const range = await get(rangeKey);
        if (range === undefined) return;
        const now = clock.now();
        const poisoned = { ...range, poisonedAt: now, lastErrorAt: now, lastError: error };
        if ((await write(poisoned, `mark fan-out range "${rangeKey}" poisoned`)) !== undefined) return;
      }
    },
  };

  function openRangeLease(
    initial: RangeRow,
    ttlMs: number,
    base: WatermarkRow,
    secrets: readonly string[],
  ): RangeLease {
    let range = initial;
    let ended = false;
    const lost = () => new LeaseLostError(range.rangeKey, range.leaseOwner ?? "");

    /** The connector's row as the runner's observers expect it, with this range's window state on it. */
    const asWatermark = (): WatermarkRow => ({
      ...base,
      windowInFlight: range.windowInFlight,
      windowAttempts: range.windowAttempts,
      lastErrorAt: range.lastErrorAt,
      lastErrorKind: range.lastErrorKind,
      lastError: range.lastError,
    });

    async function update(what: string, change: (current: RangeRow, now: Date) => RangeRow, keep = true) {
      if (ended) throw lost();
      const now = clock.now();
      const next = {
        ...change(range, now),
        leaseUntil: keep ? new Date(now.getTime() + ttlMs) : undefined,
        leaseOwner: keep ? range.leaseOwner : undefined,
      };
      const etag = await write(next, `${what} (fan-out range "${range.rangeKey}")`);
      if (etag === undefined) {
        ended = true;
        throw lost();
      }
      range = { ...next, etag };
      return asWatermark();
    }

    function assertNext(window: Window): void {
      if (window.start.getTime() !== range.acceptedThrough.getTime() || window.end > range.end) {
        throw new WindowNotContiguousError(
          `Fan-out range "${range.rangeKey}": window ${formatWindow(window)} is not the range's next window: it must start at ${range.acceptedThrough.toISOString()} and end by ${range.end.toISOString()}.`,
        );
      }
    }

    return {
      connectorId: initial.connectorId,
      owner: initial.leaseOwner ?? "",
      get until() {
        return range.leaseUntil ?? new Date(0);
      },
      get range() {
        return range;
      },
      get current() {
        return asWatermark();
      },
      async read() {
        return asWatermark();
      },
      async renew() {
        await update("renew the lease", (current) => current);
      },
      async beginWindow(window) {
        assertNext(window);
        return update("mark the window in flight", (current) => ({
          ...current,
          windowInFlight: window,
          windowAttempts: sameStart(current.windowInFlight, window) ? current.windowAttempts + 1 : 1,
        }));
      },
      async commitWindow(window, counts, _cursor, next) {
        assertNext(window);
        return update("accept the window", (current) => ({
          ...current,
          acceptedThrough: window.end,
          windowInFlight: next,
          windowAttempts: next === undefined ? 0 : 1,
          counts: {
            fetched: current.counts.fetched + counts.fetched,
            sent: current.counts.sent + counts.sent,
            accepted: current.counts.accepted + counts.accepted,
          },
        }));
      },
      async failWindow(window, error) {
        const message = limitText(
          redact(error instanceof Error ? error.message : String(error), secrets),
          limits.errorChars,
        );
        return update("record the failed window", (current, now) => ({
          ...current,
          windowInFlight: window,
          lastErrorAt: now,
          lastErrorKind: error instanceof Error ? error.name : typeof error,
          lastError: message,
        }));
      },
      // Health notes belong to the connector's row, which a range worker does not hold; the planner's fold does.
      async recordHealth() {
        return asWatermark();
      },
      async recordDeadLetter(count, location) {
        return update("record dead-lettered records", (current) => ({
          ...current,
          deadLettered: current.deadLettered + count,
          deadLetterLocation: limitText(location, limits.textChars),
        }));
      },
      async release() {
        if (ended) return false;
        const released = await update("release the lease", (current) => current, false).then(
          () => true,
          (error: unknown) => {
            if (!(error instanceof LeaseLostError)) throw error;
            return false;
          },
        );
        ended = true;
        return released;
      },
    };
  }
}

function sameStart(a: Window | undefined, b: Window): boolean {
  return a !== undefined && a.start.getTime() === b.start.getTime();
}

const iso = (date: Date | undefined): string => date?.toISOString() ?? "";

function rangeToEntity(range: RangeRow) {
  return {
    partitionKey: rangePartition,
    rowKey: range.rangeKey,
    ConnectorId: range.connectorId,
    Mode: range.mode,
    RangeStart: iso(range.start),
    RangeEnd: iso(range.end),
    AcceptedThrough: iso(range.acceptedThrough),
    QueuedUntil: iso(range.queuedUntil),
    LeaseOwner: range.leaseOwner ?? "",
    LeaseUntil: iso(range.leaseUntil),
    WindowInFlight: range.windowInFlight === undefined ? "" : formatWindow(range.windowInFlight),
    WindowAttempts: range.windowAttempts,
    AcceptedFetched: range.counts.fetched,
    AcceptedSent: range.counts.sent,
    AcceptedRecords: range.counts.accepted,
    DeadLetterCount: range.deadLettered,
    DeadLetterLocation: range.deadLetterLocation,
    LastErrorAt: iso(range.lastErrorAt),
    LastErrorKind: limitText(range.lastErrorKind, 200),
    LastError: limitText(range.lastError, limits.errorChars),
    PoisonedAt: iso(range.poisonedAt),
  };
}

function entityToRange(entity: Record<string, unknown> & { etag: string }): RangeRow {
  const rangeKey = String(entity.rowKey ?? "");
  const text = (column: string) => (entity[column] === undefined ? "" : String(entity[column]));
  const time = (column: string): Date | undefined => {
    const value = text(column);
    if (value === "") return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      throw new Error(`Fan-out range "${rangeKey}", column ${column}: expected an ISO time, got "${value}".`);
    }
    return date;
  };
  const required = (column: string): Date => {
    const date = time(column);
    if (date === undefined)
      throw new Error(`Fan-out range "${rangeKey}", column ${column}: expected an ISO time, got nothing.`);
    return date;
  };
  const count = (column: string) => Number(entity[column] ?? 0);
  const windowText = text("WindowInFlight");
  const [start, end] = windowText.split(" → ");
  const mode = text("Mode");
  return {
    connectorId: text("ConnectorId"),
    rangeKey,
    mode: mode === "serial" ? "serial" : "parallel",
    start: required("RangeStart"),
    end: required("RangeEnd"),
    acceptedThrough: required("AcceptedThrough"),
    queuedUntil: time("QueuedUntil"),
    leaseOwner: text("LeaseOwner") || undefined,
    leaseUntil: time("LeaseUntil"),
    windowInFlight:
      start === undefined || end === undefined ? undefined : { start: new Date(start), end: new Date(end) },
    windowAttempts: count("WindowAttempts"),
    counts: {
      fetched: count("AcceptedFetched"),
      sent: count("AcceptedSent"),
      accepted: count("AcceptedRecords"),
    },
    deadLettered: count("DeadLetterCount"),
    deadLetterLocation: text("DeadLetterLocation"),
    lastErrorAt: time("LastErrorAt"),
    lastErrorKind: text("LastErrorKind"),
    lastError: text("LastError"),
    poisonedAt: time("PoisonedAt"),
    etag: entity.etag,
  };
}
