/**
 * The parity compare's vocabulary: the two sides, the row shape every source yields, and the one interface
 * both sources (the local stand-in's stored streams, Log Analytics) implement, so one diff serves both.
 */
import type { Window } from "../engine/types.ts";

/** `func`: ccp-poller's output. `ccp`: the native CCP connector's. The same names as the infra KQL's `Side`. */
export type Side = "func" | "ccp";
export const SIDES: readonly Side[] = ["func", "ccp"];

/** Which columns identify a record, place it in time, and are left out of the field comparison. */
export interface ColumnOptions {
  /** The join key between the two sides. */
  keyColumn: string;
  /** Used for rows without `keyColumn`: the stand-in stores rows before any DCR transform, with Jira's `id`. */
  fallbackKeyColumn: string;
  /** Event time: windows are cut on it, half-open `[start, end)`. */
  timeColumn: string;
  /** Columns that legitimately differ between the sides (ingestion time, per-table dedup key, system columns). */
  ignore: readonly string[];
}

/**
 * `TimeGenerated` is ingestion time on both sides; `CcpEventId` is a per-table dedup key whose values differ
 * by construction (hash vs `jira-audit:<id>`); the rest are Log Analytics system columns.
 */
export const DEFAULT_IGNORED_COLUMNS: readonly string[] = [
  "TimeGenerated",
  "CcpEventId",
  "_ResourceId",
  "_SubscriptionId",
  "_ItemId",
  "_TimeReceived",
  "_BilledSize",
  "_IsBillable",
  "TenantId",
  "Type",
  "SourceSystem",
  "MG",
  "ManagementGroupName",
  "Computer",
];

export const DEFAULT_COLUMNS: ColumnOptions = {
  keyColumn: "SourceRecordId",
  fallbackKeyColumn: "id",
  timeColumn: "created",
  ignore: DEFAULT_IGNORED_COLUMNS,
};

/** One stored row as the diff sees it. */
export interface SourceRow {
  key: string;
  eventTime: Date;
  fields: Record<string, unknown>;
}

export interface CompareSource {
  /** For reports: where the rows come from. */
  readonly description: Record<Side, string>;
  /** Both sides' rows whose event time falls in `[window.start, window.end)`. Called once per window. */
  readWindow(window: Window): Promise<Record<Side, SourceRow[]>>;
}
