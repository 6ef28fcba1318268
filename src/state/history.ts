/**
 * Run history: one row per window attempt in PartitionKey `run-<connectorId>`, so "what happened last night"
 * is answerable from the table alone. The RowKey is an inverted, zero-padded timestamp, so Storage Explorer
 * and `history()` list the newest attempt first. Retention is bounded: `prune` keeps the newest N rows per
 * connector and deletes the rest in transactions of up to 100 deletes (the service's batch limit).
 */
import type { TableClient, TransactionAction } from "@azure/data-tables";
import { dataTables } from "../config/azure-sdk.ts";
import type { Window } from "../engine/types.ts";
import {
  assertCount,
  formatWindow,
  limits,
  limitText,
  type TableEntityValue,
  type WindowCounts,
} from "./row.ts";
import { tableCall } from "./table-calls.ts";

export type RunOutcome = "Succeeded" | "Failed" | "LeaseLost";

export interface RunRecord {
  connectorId: string;
  at: Date;
  window: Window;
  attempt: number;
  outcome: RunOutcome;
  counts: WindowCounts;
  errorKind: string;
  error: string;
  /** The lease owner (runner instance) that made the attempt. */
  owner: string;
}

export const defaultHistoryRetention = 500;

const transactionLimit = 100;
/** Inverting against this keeps keys 13 digits wide until the year 2286. */
const maxMillis = 9_999_999_999_999;
const sequenceSpan = 1_000_000;
let sequence = 0;

export function historyPartition(connectorId: string): string {
  return `run-${connectorId}`;
}

/**
 * Newest first: inverted milliseconds, then an inverted per-process sequence so rows written within the same
 * millisecond (or under a fake clock) still sort newest first, then a random tail against other processes.
 */
export function historyRowKey(at: Date): string {
  sequence = (sequence + 1) % sequenceSpan;
  const invertedTime = String(maxMillis - at.getTime()).padStart(13, "0");
  const invertedSequence = String(sequenceSpan - 1 - sequence).padStart(6, "0");
  const tail = Math.floor(Math.random() * 0xffffff)
    .toString(16)
    .padStart(6, "0");
  return `${invertedTime}-${invertedSequence}-${tail}`;
}

function recordToEntity(record: RunRecord): Record<string, TableEntityValue> & {
  partitionKey: string;
  rowKey: string;
} {
  const count = (value: number, column: string) => assertCount(value, column);
  return {
    partitionKey: historyPartition(record.connectorId),
    rowKey: historyRowKey(record.at),
    ConnectorId: record.connectorId,
    At: record.at.toISOString(),
    Outcome: record.outcome,
    Window: formatWindow(record.window),
    WindowStart: record.window.start.toISOString(),
    WindowEnd: record.window.end.toISOString(),
    Attempt: count(record.attempt, "Attempt"),
    Fetched: count(record.counts.fetched, "Fetched"),
    Extracted: count(record.counts.extracted, "Extracted"),
    Sent: count(record.counts.sent, "Sent"),
    Accepted: count(record.counts.accepted, "Accepted"),
    Pages: count(record.counts.pages, "Pages"),
    DurationMs: count(record.counts.durationMs, "DurationMs"),
    ErrorKind: limitText(record.errorKind, 200),
    Error: limitText(record.error, limits.errorChars),
    Owner: record.owner,
  };
}

function entityToRecord(entity: Readonly<Record<string, unknown>>): RunRecord {
  const number = (column: string) => Number(entity[column] ?? 0);
  const text = (column: string) => String(entity[column] ?? "");
  return {
    connectorId: text("ConnectorId"),
    at: new Date(text("At")),
    window: { start: new Date(text("WindowStart")), end: new Date(text("WindowEnd")) },
    attempt: number("Attempt"),
    outcome: text("Outcome") as RunOutcome,
    counts: {
      fetched: number("Fetched"),
      extracted: number("Extracted"),
      sent: number("Sent"),
      accepted: number("Accepted"),
      pages: number("Pages"),
      durationMs: number("DurationMs"),
    },
    errorKind: text("ErrorKind"),
    error: text("Error"),
    owner: text("Owner"),
  };
}

/** Rows of one connector (one partition): one call for all of them, up to the service's 100 per transaction. */
export async function appendHistory(tableClient: TableClient, records: readonly RunRecord[]): Promise<void> {
  const [first] = records;
  if (first === undefined) return;
  await tableCall(tableClient.url, `append run history for "${first.connectorId}"`, async () => {
    if (records.length === 1) {
      await tableClient.createEntity(recordToEntity(first));
      return;
    }
    for (let offset = 0; offset < records.length; offset += transactionLimit) {
      const actions: TransactionAction[] = records
        .slice(offset, offset + transactionLimit)
        .map((record) => ["create", recordToEntity(record)]);
      await tableClient.submitTransaction(actions);
    }
  });
}

export async function readHistory(
  tableClient: TableClient,
  connectorId: string,
  limit: number,
): Promise<RunRecord[]> {
  return tableCall(tableClient.url, `read run history of "${connectorId}"`, async () => {
    const records: RunRecord[] = [];
    if (limit <= 0) return records;
    const entities = tableClient.listEntities({
      queryOptions: { filter: dataTables().odata`PartitionKey eq ${historyPartition(connectorId)}` },
    });
    for await (const entity of entities) {
      records.push(entityToRecord(entity));
      if (records.length >= limit) break;
    }
    return records;
  });
}

/** Deletes all but the newest `keep` history rows of a connector; returns how many were deleted. */
export async function pruneHistory(
  tableClient: TableClient,
  connectorId: string,
  keep: number,
): Promise<number> {
  const partitionKey = historyPartition(connectorId);
  return tableCall(tableClient.url, `prune run history of "${connectorId}"`, async () => {
    const surplus: string[] = [];
    let seen = 0;
    const keys = tableClient.listEntities({
      queryOptions: { filter: dataTables().odata`PartitionKey eq ${partitionKey}`, select: ["RowKey"] },
    });
    for await (const entity of keys) {
      seen += 1;
      if (seen > keep && entity.rowKey !== undefined) surplus.push(entity.rowKey);
    }
    for (let offset = 0; offset < surplus.length; offset += transactionLimit) {
      const actions: TransactionAction[] = surplus
        .slice(offset, offset + transactionLimit)
        .map((rowKey) => ["delete", { partitionKey, rowKey }]);
      await tableClient.submitTransaction(actions);
    }
    return surplus.length;
  });
}
