/**
 * The watermark store: one row per connector in PartitionKey `connector` (see row.ts for the columns), a lease
 * per connector so two runners never poll the same connector at once, and the run history (history.ts).
 *
 * Concurrency: every write is an etag-guarded Merge. A runner writes only through its lease (lease.ts), whose
 * writes carry the etag of its last write; a 412 means someone else (another runner, an operator's reset) wrote
 * since, and becomes a `LeaseLostError`. Operator commands re-read and retry on a 412 instead.
 *
 * Each write carries only the columns that changed since the entity stored under the etag it is guarded by (row.ts,
 * `StoredEntity`): a smaller request for the SDK to build and the table to apply, on every window's commit.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { TableClient } from "@azure/data-tables";
import { dataTables } from "../config/azure-sdk.ts";
import type { Connector } from "../definition/schema.ts";
import { redact } from "../engine/redact.ts";
import type { Clock, Logger } from "../engine/types.ts";
import { ConnectorNotRegisteredError, StateError, WindowNotContiguousError } from "./errors.ts";
import {
  appendHistory,
  defaultHistoryRetention,
  pruneHistory,
  type RunRecord,
  readHistory,
} from "./history.ts";
import { type Lease, type LeaseContext, type LeaseOptions, openLease } from "./lease.ts";
import {
  assertKeyPart,
  defaultStatusPolicy,
  deriveStatus,
  emptyRow,
  entityToRow,
  formatWindow,
  leaseHeldByAnother,
  limits,
  limitText,
  rowToEntity,
  type StatusPolicy,
  type StoredEntity,
  type StoredRow,
  sameWindow,
  type WatermarkEntity,
  type WatermarkRow,
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
  /**
   * History rows kept per connector (default 500): a lease's release prunes the older ones once a tenth as many
   * again were added, so at most 10% more are stored between prunes.
   */
  historyRetention?: number;
  /** Where a failed history write or prune is reported; they never fail the watermark write itself. */
  logger?: Pick<Logger, "warn">;
  /** Extra redaction applied to every stored error text, after the lease's secrets are removed. */
  redact?: (text: string) => string;
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
  /**
   * Reads the rows of many connectors in one query, so each one's `register` (and the lease taken after it) uses
   * the row as read then instead of a read of its own: a run over N connectors makes one call where it made N.
   * A row is used once, within `preloadMaxAgeMs` of the query; one changed since costs a 412 and a fresh read, as
   * a row `register` read itself does, and a connector found without a row is created without a read (if one was
   * created since, the insert is refused and the row read).
   */
  preload(connectorIds: readonly string[]): Promise<void>;
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
/** History rows written per call while a lease runs (the rest when it is released). */
const historyRowsPerWrite = 10;
/**
 * How long a preloaded row stands in for a read. Any age is safe (every write is etag-guarded, and the runner
 * decides from the row as leased); this keeps a row read long ago from costing a 412 instead of a read.
 */
export const preloadMaxAgeMs = 60_000;
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

  async function fetchRow(connectorId: string): Promise<StoredRow | undefined> {
    assertKeyPart(connectorId, "Connector id");
    try {
      const entity = await tableCall(tableUrl, `read the watermark of "${connectorId}"`, () =>
        tableClient.getEntity(watermarkPartition, connectorId),
      );
      return { row: entityToRow(entity, clock.now(), policy), etag: entity.etag, entity };
    } catch (error) {
      if (tableStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async function requireRow(connectorId: string): Promise<StoredRow> {
    const found = await fetchRow(connectorId);
    if (found === undefined) {
      throw new ConnectorNotRegisteredError(
        `Connector "${connectorId}" has no watermark row in table ${tableClient.tableName}: register it first.`,
      );
    }
    return found;
  }

  /**
   * Writes `row` over `stored` (only the columns that differ) if the table still holds it; returns the entity as
   * now stored, or undefined on 412/404.
   */
  async function writeIfUnchanged(
    row: WatermarkRow,
    stored: StoredEntity,
    what: string,
  ): Promise<StoredEntity | undefined> {
    const entity = rowToEntity(row, clock.now(), policy);
    try {
      const response = await tableCall(tableUrl, what, () =>
        tableClient.updateEntity(changedColumns(stored.entity, entity), "Merge", { etag: stored.etag }),
      );
      if (response.etag === undefined) {
        throw new StateError(`Table Storage returned no etag after trying to ${what}.`);
      }
      return { etag: response.etag, entity };
    } catch (error) {
      const status = tableStatus(error);
      if (status === 412 || status === 404) return undefined;
      throw error;
    }
  }

  /**
   * Operator-side read-modify-write: re-reads and retries when another writer got in between. `known`: a row
   * just read, tried first.
   */
  async function modify(
    connectorId: string,
    what: string,
    change: (row: WatermarkRow, now: Date) => WatermarkRow | undefined,
    known?: StoredRow,
  ): Promise<StoredRow> {
    for (let attempt = 1; ; attempt += 1) {
      const current = (attempt === 1 ? known : undefined) ?? (await requireRow(connectorId));
      const now = clock.now();
      const next = change(current.row, now);
      if (next === undefined) return current;
      const stamped = { ...next, updatedAt: now };
      const written = await writeIfUnchanged(stamped, current, what);
      if (written !== undefined) return { row: derive(stamped, now), ...written };
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

  /**
   * History rows not written yet, and the writes under way, per connector. Rows are written in one transaction
   * per `historyRowsPerWrite`, at a run's last commit or a failure, and whatever is left when the lease is
   * released (or history is read here), so a run of many windows makes a tenth of the calls; a runner killed
   * mid-run loses at most that many rows.
   */
  const historyPending = new Map<string, RunRecord[]>();
  const historyWrites = new Map<string, Set<Promise<void>>>();
  function recordHistory(record: RunRecord, now: boolean): void {
    const pending = historyPending.get(record.connectorId) ?? [];
    historyPending.set(record.connectorId, pending);
    pending.push(record);
    if (now || pending.length >= historyRowsPerWrite) writePendingHistory(record.connectorId);
  }
  function writePendingHistory(connectorId: string): void {
    const records = historyPending.get(connectorId);
    historyPending.delete(connectorId);
    if (records === undefined || records.length === 0) return;
    const writes = historyWrites.get(connectorId) ?? new Set<Promise<void>>();
    historyWrites.set(connectorId, writes);
    const written = appendHistory(tableClient, records).catch((error: unknown) => {
      options.logger?.warn("Run history rows not written; the watermark row is unaffected", {
        connectorId,
        rows: records.length,
        outcomes: [...new Set(records.map((record) => record.outcome))].join(", "),
        error: error instanceof Error ? error.message : String(error),
      });
    });
    writes.add(written);
    void written.finally(() => {
      writes.delete(written);
      if (writes.size === 0 && historyWrites.get(connectorId) === writes) historyWrites.delete(connectorId);
    });
  }
  async function flushHistory(connectorId: string): Promise<void> {
    writePendingHistory(connectorId);
    await Promise.all(historyWrites.get(connectorId) ?? []);
  }

  /**
   * The row `register` just read or created, so the lease taken right after needs no read of its own. Used
   * once; a stale one costs a 412 and a fresh read, never a wrong decision (see acquireLease).
   */
  const registered = new Map<string, StoredRow>();
  /** Rows `preload` read (null: the connector had none), each taken once by `register`. */
  let preloaded = new Map<string, StoredRow | null>();
  let preloadedAt = 0;
  /** The connector's row as preloaded, if one was and is recent; otherwise read now. */
  async function readForRegister(connectorId: string): Promise<StoredRow | undefined> {
    const known = preloaded.get(connectorId);
    preloaded.delete(connectorId);
    if (known === undefined || clock.now().getTime() - preloadedAt > preloadMaxAgeMs)
      return fetchRow(connectorId);
    return known ?? undefined;
  }

  const leaseContext: LeaseContext = {
    clock,
    derive,
    requireRow,
    writeIfUnchanged,
    recordHistory,
    flushHistory,
    historyRowsPerPrune: Math.max(1, Math.ceil(retention / 10)),
    redactError,
    async pruneHistory(connectorId) {
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
      // Read first: every run registers every connector, and the row exists on all runs but the first.
      const stored = await readForRegister(connector.id);
      if (stored === undefined) {
        const now = clock.now();
        const fresh: WatermarkRow = {
          ...emptyRow(connector.id),
          ...desired,
          disabledReason: connector.properties.isActive ? "" : definitionDisabledReason,
          updatedAt: now,
        };
        try {
          const entity = rowToEntity(fresh, now, policy);
          const { etag } = await tableCall(tableUrl, `create the watermark row of "${connector.id}"`, () =>
            tableClient.createEntity(entity),
          );
          const created = derive(fresh, now);
          if (etag !== undefined) registered.set(connector.id, { row: created, etag, entity });
          return created;
        } catch (error) {
          if (tableStatus(error) !== 409) throw error;
        }
      }
      const current = await modify(
        connector.id,
        `update the definition of "${connector.id}"`,
        (row, at) => {
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
        },
        stored,
      );
      registered.set(connector.id, current);
      return current.row;
    },

    async preload(connectorIds) {
      const ids = [...new Set(connectorIds)].sort();
      const [first, last] = [ids[0], ids.at(-1)];
      if (first === undefined || last === undefined) return;
      for (const id of ids) assertKeyPart(id, "Connector id");
      const wanted = new Set(ids);
      const rows = new Map<string, StoredRow | null>(ids.map((id) => [id, null]));
      const readAt = clock.now();
      await tableCall(tableUrl, `read the watermarks of ${ids.length} connector(s)`, async () => {
        // One range of RowKeys: a filter may hold only 15 comparisons, and a run's connectors are most of the partition.
        const entities = tableClient.listEntities({
          queryOptions: {
            filter: dataTables()
              .odata`PartitionKey eq ${watermarkPartition} and RowKey ge ${first} and RowKey le ${last}`,
          },
        });
        for await (const entity of entities) {
          const { rowKey, etag } = entity;
          if (rowKey === undefined || !wanted.has(rowKey) || etag === undefined) continue;
          rows.set(rowKey, { row: entityToRow(entity, readAt, policy), etag, entity });
        }
      });
      preloaded = rows;
      preloadedAt = readAt.getTime();
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
      const known = registered.get(connectorId);
      registered.delete(connectorId);
      // The row register just read is tried first; only a fresh read may say "held by another" or "lost the race".
      for (const snapshot of known === undefined ? [undefined] : [known, undefined]) {
        const current = snapshot ?? (await requireRow(connectorId));
        const { row } = current;
        const now = clock.now();
        const heldByOther = leaseHeldByAnother(row, owner, now);
        if (heldByOther && snapshot !== undefined) continue;
        if (heldByOther) return undefined;
        const first = leaseOptions.begin?.(row);
        if (
          first !== undefined &&
          row.committedThrough !== undefined &&
          first.start.getTime() !== row.committedThrough.getTime()
        ) {
          throw new WindowNotContiguousError(
            `Connector "${connectorId}": cannot begin window ${formatWindow(first)}: CommittedThrough is ${row.committedThrough.toISOString()}.`,
          );
        }
        const leased: WatermarkRow = {
          ...row,
          leaseOwner: owner,
          leaseUntil: new Date(now.getTime() + ttlMs),
          updatedAt: now,
          ...(first === undefined
            ? {}
            : {
                windowInFlight: first,
                windowAttempts: sameWindow(row.windowInFlight, first) ? row.windowAttempts + 1 : 1,
              }),
        };
        const written = await writeIfUnchanged(leased, current, `acquire the lease of "${connectorId}"`);
        if (written === undefined) continue; // Changed since it was read: another runner may have won the race.
        return openLease(
          leaseContext,
          connectorId,
          owner,
          ttlMs,
          { row: derive(leased, now), ...written },
          leaseOptions.secrets ?? [],
        );
      }
      return undefined;
    },

    async reset(connectorId, to) {
      const reset = await modify(connectorId, `reset the watermark of "${connectorId}"`, (row) => ({
        ...row,
        committedThrough: to,
        cursor: undefined,
        windowInFlight: undefined,
        windowAttempts: 0,
        consecutiveFailures: 0,
      }));
      return reset.row;
    },

    async setDisabled(connectorId, reason) {
      const text = reason.trim() === "" ? "Disabled by an operator" : limitText(reason, limits.textChars);
      const disabled = await modify(connectorId, `disable "${connectorId}"`, (row) =>
        row.disabledReason === text ? undefined : { ...row, disabledReason: text },
      );
      return disabled.row;
    },

    async setEnabled(connectorId) {
      const enabled = await modify(connectorId, `enable "${connectorId}"`, (row) =>
        row.disabledReason === "" ? undefined : { ...row, disabledReason: "" },
      );
      return enabled.row;
    },

    async history(connectorId, limit = 50) {
      assertKeyPart(connectorId, "Connector id");
      await flushHistory(connectorId);
      return readHistory(tableClient, connectorId, limit);
    },

    pruneHistory(connectorId) {
      assertKeyPart(connectorId, "Connector id");
      return pruneHistory(tableClient, connectorId, retention);
    },
  };
}

/** The keys and every column whose value differs from what `stored` holds. */
function changedColumns(stored: StoredEntity["entity"], next: WatermarkEntity): WatermarkEntity {
  const changes: WatermarkEntity = { partitionKey: next.partitionKey, rowKey: next.rowKey };
  for (const [column, value] of Object.entries(next)) {
    if (stored[column] !== value) changes[column] = value;
  }
  return changes;
}
