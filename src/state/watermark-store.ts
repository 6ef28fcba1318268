/**
 * The watermark store: one row per connector in PartitionKey `connector` (see row.ts for the columns), a lease
 * per connector so two runners never poll the same connector at once, and the run history (history.ts).
 *
 * Concurrency: every write is an etag-guarded Merge. Writes made under a lease carry the etag of the lease's
 * last write; a 412 means someone else (another runner, an operator's reset) wrote since, and becomes a
 * `LeaseLostError`: the holder must stop without writing. Every write under a lease also extends it by its TTL,
 * so a runner that keeps committing windows keeps its lease without separate heartbeats.
 *
 * The commit rule lives here: CommittedThrough moves only forward and only contiguously (a window is committed
 * only if it starts exactly at CommittedThrough), and the persistent cursor moves only in that same write.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { TableClient } from "@azure/data-tables";
import type { Connector } from "../definition/schema.ts";
import { redact } from "../engine/redact.ts";
import type { Clock, Logger, Window } from "../engine/types.ts";
import {
  ConnectorNotRegisteredError,
  LeaseLostError,
  StateError,
  StateValueTooLargeError,
  WindowNotContiguousError,
} from "./errors.ts";
import {
  appendHistory,
  defaultHistoryRetention,
  pruneHistory,
  type RunOutcome,
  type RunRecord,
  readHistory,
} from "./history.ts";
import {
  assertCursorFits,
  assertKeyPart,
  defaultStatusPolicy,
  deriveStatus,
  emptyRow,
  entityToRow,
  formatWindow,
  limits,
  limitText,
  rowToEntity,
  type StatusPolicy,
  sameWindow,
  type WatermarkRow,
  type WindowCounts,
  watermarkPartition,
} from "./row.ts";
import { tableCall, tableStatus } from "./table-calls.ts";

/** What `register` needs of a connector (a full `Connector` fits). */
export type RegisteredConnector = Pick<Connector, "id" | "definitionHash"> & {
  source: Pick<Connector["source"], "file">;
  properties: {
    isActive: boolean;
    request: { queryWindowInMin: number; queryWindowDelayInMin: number };
  };
};

export interface WatermarkStoreOptions {
  tableClient: TableClient;
  clock: Pick<Clock, "now">;
  statusPolicy?: StatusPolicy;
  /** History rows kept per connector (default 500); older ones are pruned when a lease is released. */
  historyRetention?: number;
  /** Where a failed history write or prune is reported; they never fail the watermark write itself. */
  logger?: Pick<Logger, "warn">;
  /** Extra redaction applied to every stored error text, after the lease's secrets are removed. */
  redact?: (text: string) => string;
}

export interface LeaseOptions {
  /** Bound secret values of the connector: removed (also URL-encoded and base64) from stored error texts. */
  secrets?: readonly string[];
}

export interface Lease {
  readonly connectorId: string;
  readonly owner: string;
  /** When the lease expires unless renewed (every write under the lease renews it). */
  readonly until: Date;
  /** The row as stored now; `LeaseLostError` if anyone else wrote it since this lease did. */
  read(): Promise<WatermarkRow>;
  renew(ttlMs?: number): Promise<void>;
  /** Marks the window in flight: attempts + 1 if it is the same window as before, else 1. */
  beginWindow(window: Window): Promise<WatermarkRow>;
  /**
   * Moves CommittedThrough to `window.end` after every page of the window was accepted. Refused with
   * `WindowNotContiguousError` unless `window.start` equals CommittedThrough (or nothing is committed yet).
   * `cursor` (Persistent* paging) moves in the same write; undefined keeps the stored cursor.
   */
  commitWindow(window: Window, counts: WindowCounts, cursor?: string): Promise<WatermarkRow>;
  /** Records a failed attempt; CommittedThrough and the cursor stay where they are. */
  failWindow(window: Window, error: unknown, counts: WindowCounts): Promise<WatermarkRow>;
  /** Adds records the sink could never accept, and where they were put for the on-call. */
  recordDeadLetter(count: number, location: string): Promise<WatermarkRow>;
  /** Gives the lease up (a no-op if it was lost) and prunes the connector's history. */
  release(): Promise<void>;
}

export interface WatermarkStore {
  readonly tableUrl: string;
  /** Creates the table if it does not exist (idempotent). */
  ensureTable(): Promise<void>;
  /**
   * Creates the connector's row if missing; records the definition file, hash (a change sets
   * DefinitionChangedAt), window sizes and `isActive`. Writes nothing when nothing changed, so calling it on
   * every run does not disturb another runner's lease.
   */
  register(connector: RegisteredConnector): Promise<WatermarkRow>;
  get(connectorId: string): Promise<WatermarkRow | undefined>;
  /** Every connector's row, status and lag recomputed at the time of reading. */
  list(): Promise<WatermarkRow[]>;
  /**
   * Takes the connector's lease for `ttlMs`: undefined if another owner holds an unexpired lease (or won the
   * race for it). An expired lease is taken over; the same owner re-acquires its own. Does not look at
   * Disabled: the runner decides whether to poll a disabled connector.
   */
  acquireLease(
    connectorId: string,
    owner: string,
    ttlMs: number,
    options?: LeaseOptions,
  ): Promise<Lease | undefined>;
  /**
   * Operator reset: CommittedThrough = `to` (undefined = start over from the initial look-back), cursor,
   * window in flight and failures cleared. A runner holding the lease loses it at its next write.
   */
  reset(connectorId: string, to: Date | undefined): Promise<WatermarkRow>;
  setDisabled(connectorId: string, reason: string): Promise<WatermarkRow>;
  setEnabled(connectorId: string): Promise<WatermarkRow>;
  /** Newest first. */
  history(connectorId: string, limit?: number): Promise<RunRecord[]>;
  pruneHistory(connectorId: string): Promise<number>;
}

/**
 * A lease owner unique to this process, readable in LeaseOwner ("which instance has it?"). Owners must be unique:
 * the same owner string re-acquires its own unexpired lease.
 */
export function defaultLeaseOwner(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
}

const definitionDisabledReason = "isActive is false in the definition";
/** Read-modify-write attempts when an operator command races another writer. */
const conflictRetries = 5;

export function createWatermarkStore(options: WatermarkStoreOptions): WatermarkStore {
  const { tableClient, clock } = options;
  const policy = options.statusPolicy ?? defaultStatusPolicy;
  const retention = options.historyRetention ?? defaultHistoryRetention;
  const tableUrl = tableClient.url;
  const derive = (row: WatermarkRow, now: Date): WatermarkRow => ({
    ...row,
    ...deriveStatus(row, now, policy),
  });

  async function fetchRow(connectorId: string): Promise<{ row: WatermarkRow; etag: string } | undefined> {
    assertKeyPart(connectorId, "Connector id");
    try {
      const entity = await tableCall(tableUrl, `read the watermark of "${connectorId}"`, () =>
        tableClient.getEntity(watermarkPartition, connectorId),
      );
      return { row: entityToRow(entity, clock.now(), policy), etag: entity.etag };
    } catch (error) {
      if (tableStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async function requireRow(connectorId: string): Promise<{ row: WatermarkRow; etag: string }> {
    const found = await fetchRow(connectorId);
    if (found === undefined) {
      throw new ConnectorNotRegisteredError(
        `Connector "${connectorId}" has no watermark row in table ${tableClient.tableName}: register it first.`,
      );
    }
    return found;
  }

  /** Writes `row` only if the stored row still has `etag`; returns the new etag, or undefined on 412/404. */
  async function writeIfUnchanged(
    row: WatermarkRow,
    etag: string,
    what: string,
  ): Promise<string | undefined> {
    const entity = rowToEntity(row, clock.now(), policy);
    try {
      const response = await tableCall(tableUrl, what, () =>
        tableClient.updateEntity(entity, "Merge", { etag }),
      );
      if (response.etag === undefined)
        throw new StateError(`Table Storage returned no etag after trying to ${what}.`);
      return response.etag;
    } catch (error) {
      const status = tableStatus(error);
      if (status === 412 || status === 404) return undefined;
      throw error;
    }
  }

  /** Operator-side read-modify-write: re-reads and retries when another writer got in between. */
  async function modify(
    connectorId: string,
    what: string,
    change: (row: WatermarkRow, now: Date) => WatermarkRow | undefined,
  ): Promise<WatermarkRow> {
    for (let attempt = 1; ; attempt += 1) {
      const { row, etag } = await requireRow(connectorId);
      const now = clock.now();
      const next = change(row, now);
      if (next === undefined) return row;
      const stamped = { ...next, updatedAt: now };
      if ((await writeIfUnchanged(stamped, etag, what)) !== undefined) return derive(stamped, now);
      if (attempt >= conflictRetries) {
        throw new StateError(
          `Could not ${what}: the row kept changing under ${conflictRetries} attempts (runners busy?). Try again.`,
        );
      }
    }
  }

  function redactError(text: string, secrets: readonly string[]): string {
    const withoutSecrets = redact(text, secrets);
    return options.redact === undefined ? withoutSecrets : options.redact(withoutSecrets);
  }

  async function recordHistory(record: RunRecord): Promise<void> {
    try {
      await appendHistory(tableClient, record);
    } catch (error) {
      options.logger?.warn("Run history row not written; the watermark row is unaffected", {
        connectorId: record.connectorId,
        outcome: record.outcome,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  function openLease(
    connectorId: string,
    owner: string,
    ttlMs: number,
    initial: { row: WatermarkRow; etag: string },
    secrets: readonly string[],
  ): Lease {
    let { row, etag } = initial;
    /** Once lost or released, the lease never writes again. */
    let ended: "lost" | "released" | undefined;

    const endedError = () =>
      ended === "released"
        ? new StateError(
            `Lease on connector "${connectorId}" held by "${owner}" was released; acquire a new one.`,
          )
        : new LeaseLostError(connectorId, owner);

    async function write(
      what: string,
      change: (row: WatermarkRow, now: Date) => WatermarkRow,
      onLost?: () => Promise<void>,
      leaseTtlMs = ttlMs,
    ): Promise<WatermarkRow> {
      if (ended) throw endedError();
      const now = clock.now();
      const next: WatermarkRow = {
        ...change(row, now),
        leaseOwner: owner,
        leaseUntil: new Date(now.getTime() + leaseTtlMs),
        updatedAt: now,
      };
      const newEtag = await writeIfUnchanged(next, etag, `${what} for "${connectorId}"`);
      if (newEtag === undefined) {
        ended = "lost";
        await onLost?.();
        throw endedError();
      }
      etag = newEtag;
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

      async read() {
        if (ended) throw endedError();
        const current = await requireRow(connectorId);
        if (current.etag !== etag) {
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

      async commitWindow(window, counts, cursor) {
        assertContiguous(window, "commit");
        assertCursorFits(connectorId, cursor);
        const record = historyRecord(window, "Succeeded", counts);
        const committed = await write(
          "commit the window",
          (current, now) => ({
            ...current,
            committedThrough: window.end,
            cursor: cursor ?? current.cursor,
            windowInFlight: undefined,
            windowAttempts: 0,
            consecutiveFailures: 0,
            lastSuccessAt: now,
            lastWindow: counts,
            totals: addTotals(current.totals, counts),
          }),
          () => recordHistory({ ...record, outcome: "LeaseLost" }),
        );
        await recordHistory(record);
        return committed;
      },

      async failWindow(window, error, counts) {
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
            lastWindow: counts,
            totals: addTotals(current.totals, counts),
          }),
          () => recordHistory({ ...record, outcome: "LeaseLost" }),
        );
        await recordHistory(record);
        return failed;
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
        if (!ended) {
          const now = clock.now();
          const released = { ...row, leaseOwner: undefined, leaseUntil: undefined, updatedAt: now };
          // A 412 here means someone else owns the row already: nothing left to give up.
          const newEtag = await writeIfUnchanged(released, etag, `release the lease of "${connectorId}"`);
          ended = newEtag === undefined ? "lost" : "released";
          if (newEtag !== undefined) row = derive(released, now);
        }
        try {
          await pruneHistory(tableClient, connectorId, retention);
        } catch (error) {
          options.logger?.warn("Run history not pruned; will retry at the next release", {
            connectorId,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      },
    };
  }

  return {
    tableUrl,

    async ensureTable() {
      await tableCall(tableUrl, `create table ${tableClient.tableName}`, () => tableClient.createTable());
    },

    async register(connector) {
      assertKeyPart(connector.id, "Connector id");
      const desired = {
        definitionFile: connector.source.file,
        definitionHash: connector.definitionHash,
        windowMinutes: connector.properties.request.queryWindowInMin,
        delayMinutes: connector.properties.request.queryWindowDelayInMin,
      };
      const now = clock.now();
      const fresh: WatermarkRow = {
        ...emptyRow(connector.id),
        ...desired,
        disabledReason: connector.properties.isActive ? "" : definitionDisabledReason,
        updatedAt: now,
      };
      try {
        await tableCall(tableUrl, `create the watermark row of "${connector.id}"`, () =>
          tableClient.createEntity(rowToEntity(fresh, now, policy)),
        );
        return derive(fresh, now);
      } catch (error) {
        if (tableStatus(error) !== 409) throw error;
      }
      return modify(connector.id, `update the definition of "${connector.id}"`, (row, at) => {
        const disabledReason = !connector.properties.isActive
          ? definitionDisabledReason
          : row.disabledReason === definitionDisabledReason
            ? ""
            : row.disabledReason;
        const unchanged =
          row.definitionFile === desired.definitionFile &&
          row.definitionHash === desired.definitionHash &&
          row.windowMinutes === desired.windowMinutes &&
          row.delayMinutes === desired.delayMinutes &&
          row.disabledReason === disabledReason;
        if (unchanged) return undefined;
        const hashChanged = row.definitionHash !== "" && row.definitionHash !== desired.definitionHash;
        return {
          ...row,
          ...desired,
          disabledReason,
          definitionChangedAt: hashChanged ? at : row.definitionChangedAt,
        };
      });
    },

    async get(connectorId) {
      return (await fetchRow(connectorId))?.row;
    },

    async list() {
      return tableCall(tableUrl, "list watermark rows", async () => {
        const rows: WatermarkRow[] = [];
        const entities = tableClient.listEntities({
          queryOptions: { filter: `PartitionKey eq '${watermarkPartition}'` },
        });
        for await (const entity of entities) rows.push(entityToRow(entity, clock.now(), policy));
        return rows;
      });
    },

    async acquireLease(connectorId, owner, ttlMs, leaseOptions = {}) {
      if (!(ttlMs > 0))
        throw new StateError(`Lease TTL must be a positive number of milliseconds, got ${ttlMs}.`);
      if (owner === "" || owner.length > limits.ownerChars) {
        throw new StateError(`Lease owner must be 1–${limits.ownerChars} characters, got ${owner.length}.`);
      }
      const { row, etag } = await requireRow(connectorId);
      const now = clock.now();
      const heldByOther =
        row.leaseOwner !== undefined &&
        row.leaseOwner !== owner &&
        row.leaseUntil !== undefined &&
        row.leaseUntil.getTime() > now.getTime();
      if (heldByOther) return undefined;
      const leased: WatermarkRow = {
        ...row,
        leaseOwner: owner,
        leaseUntil: new Date(now.getTime() + ttlMs),
        updatedAt: now,
      };
      const newEtag = await writeIfUnchanged(leased, etag, `acquire the lease of "${connectorId}"`);
      if (newEtag === undefined) return undefined; // Another runner won the race.
      return openLease(
        connectorId,
        owner,
        ttlMs,
        { row: derive(leased, now), etag: newEtag },
        leaseOptions.secrets ?? [],
      );
    },

    reset(connectorId, to) {
      return modify(connectorId, `reset the watermark of "${connectorId}"`, (row) => ({
        ...row,
        committedThrough: to,
        cursor: undefined,
        windowInFlight: undefined,
        windowAttempts: 0,
        consecutiveFailures: 0,
      }));
    },

    setDisabled(connectorId, reason) {
      const text = reason.trim() === "" ? "Disabled by an operator" : limitText(reason, limits.textChars);
      return modify(connectorId, `disable "${connectorId}"`, (row) =>
        row.disabledReason === text ? undefined : { ...row, disabledReason: text },
      );
    },

    setEnabled(connectorId) {
      return modify(connectorId, `enable "${connectorId}"`, (row) =>
        row.disabledReason === "" ? undefined : { ...row, disabledReason: "" },
      );
    },

    history(connectorId, limit = 50) {
      assertKeyPart(connectorId, "Connector id");
      return readHistory(tableClient, connectorId, limit);
    },

    pruneHistory(connectorId) {
      assertKeyPart(connectorId, "Connector id");
      return pruneHistory(tableClient, connectorId, retention);
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
