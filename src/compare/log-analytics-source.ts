/**
 * The Azure source: both tables in a Log Analytics workspace, through the real `LogsQueryClient`, one
 * query per window (src/compare/kql.ts), so a long range never comes back in one result.
 */
import type { TokenCredential } from "@azure/identity";
import type {
  LogsQueryClient,
  LogsQueryClientOptions,
  LogsQueryResult,
  LogsTable,
} from "@azure/monitor-query-logs";
import { monitorQueryLogs } from "../config/azure-sdk.ts";
import type { Window } from "../engine/types.ts";
import { INGESTION_SKEW_MS, windowQuery } from "./kql.ts";
import { type ColumnOptions, type CompareSource, SIDES, type Side, type SourceRow } from "./types.ts";

export interface LogAnalyticsSourceOptions {
  client: LogsQueryClient;
  /** The workspace GUID, or its ARM resource id (what `azd up` outputs as LOG_ANALYTICS_WORKSPACE_ID). */
  workspace: string;
  tables: Record<Side, string>;
  columns: ColumnOptions;
  /** The query's time range ends here (ingestion time): now, unless a test fixes it. */
  now?: () => Date;
}

export function createLogsQueryClient(
  credential: TokenCredential,
  options: LogsQueryClientOptions = {},
): LogsQueryClient {
  return new (monitorQueryLogs().LogsQueryClient)(credential, options);
}

export function createLogAnalyticsSource(options: LogAnalyticsSourceOptions): CompareSource {
  const { client, workspace, tables, columns } = options;
  const now = options.now ?? (() => new Date());
  const byResourceId = workspace.startsWith("/");
  return {
    description: {
      func: `Log Analytics ${workspace} ${tables.func}`,
      ccp: `Log Analytics ${workspace} ${tables.ccp}`,
    },
    async readWindow(window) {
      const query = windowQuery(window, tables, columns);
      // The API's own time range filters on TimeGenerated too: keep it as wide as the query's lower bound.
      const timespan = {
        startTime: new Date(window.start.getTime() - INGESTION_SKEW_MS),
        endTime: new Date(Math.max(now().getTime(), window.end.getTime()) + INGESTION_SKEW_MS),
      };
      // The SDK puts its own "/" before the resource id: a leading one would make `/v1//subscriptions/…`.
      const result = byResourceId
        ? await client.queryResource(workspace.replace(/^\/+/, ""), query, timespan)
        : await client.queryWorkspace(workspace, query, timespan);
      return rowsBySide(result, window);
    },
  };
}

function rowsBySide(result: LogsQueryResult, window: Window): Record<Side, SourceRow[]> {
  const where = `Log Analytics query for ${window.start.toISOString()}..${window.end.toISOString()}`;
  if (result.status !== monitorQueryLogs().LogsQueryResultStatus.Success) {
    // A partial result (row or size limit hit) would look like missing records: refuse it.
    const { code, message } = result.partialError;
    throw new Error(`${where}: returned a partial result (${code}: ${message}); use a shorter window range`);
  }
  const [table] = result.tables;
  const sides: Record<Side, SourceRow[]> = { func: [], ccp: [] };
  if (table === undefined) return sides;
  const column = columnIndex(table, where);
  for (const row of table.rows) {
    const side = row[column("Side")];
    const eventTime = row[column("EventTime")];
    if (!SIDES.includes(side as Side) || !(eventTime instanceof Date)) {
      throw new Error(
        `${where}: expected Side "func"/"ccp" and a datetime EventTime, got ${JSON.stringify(row)}`,
      );
    }
    const fields = row[column("Fields")];
    sides[side as Side].push({
      key: String(row[column("Key")] ?? ""),
      eventTime,
      fields: fields !== null && typeof fields === "object" ? (fields as Record<string, unknown>) : {},
    });
  }
  return sides;
}

function columnIndex(table: LogsTable, where: string): (name: string) => number {
  const names = table.columnDescriptors.map((c) => c.name);
  return (name) => {
    const index = names.indexOf(name);
    if (index < 0)
      throw new Error(`${where}: expected a column ${name} in the result, got ${names.join(", ")}`);
    return index;
  };
}
