/**
 * The KQL the Log Analytics source runs, one query per window for both tables, printable with
 * `--show-query` and pasteable into the portal's Logs blade as is.
 */
import type { Window } from "../engine/types.ts";
import type { ColumnOptions, Side } from "./types.ts";

/**
 * `TimeGenerated` is ingestion time, which is never before the event: the lower bound only lets Log
 * Analytics skip older data. The margin absorbs clock skew between the source and Azure.
 */
export const INGESTION_SKEW_MS = 60 * 60_000;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Table and column names go into KQL unquoted, so they must be plain identifiers. */
export function checkIdentifier(what: string, name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new Error(
      `${what}: expected a table or column name (letters, digits, _), got ${JSON.stringify(name)}`,
    );
  }
  return name;
}

const kqlTime = (time: Date): string => `datetime(${time.toISOString()})`;
const kqlString = (text: string): string => JSON.stringify(text);

/** Result columns: `Side` ("func" | "ccp"), `Key` (string), `EventTime` (datetime), `Fields` (dynamic). */
export function windowQuery(window: Window, tables: Record<Side, string>, columns: ColumnOptions): string {
  const func = checkIdentifier("func table", tables.func);
  const ccp = checkIdentifier("ccp table", tables.ccp);
  const time = checkIdentifier("time column", columns.timeColumn);
  const key = checkIdentifier("key column", columns.keyColumn);
  const fallback = checkIdentifier("fallback key column", columns.fallbackKeyColumn);
  const dropped = ["Side", ...columns.ignore].map(kqlString).join(", ");
  return [
    `// ccp-poller compare: event time ${time} in [${window.start.toISOString()}, ${window.end.toISOString()})`,
    "union",
    `    (${func} | extend Side = "func"),`,
    `    (${ccp} | extend Side = "ccp")`,
    `| where TimeGenerated >= ${kqlTime(new Date(window.start.getTime() - INGESTION_SKEW_MS))}`,
    `| where todatetime(${time}) >= ${kqlTime(window.start)} and todatetime(${time}) < ${kqlTime(window.end)}`,
    "| project",
    "    Side,",
    `    Key = coalesce(tostring(column_ifexists(${kqlString(key)}, "")), tostring(column_ifexists(${kqlString(fallback)}, ""))),`,
    `    EventTime = todatetime(${time}),`,
    `    Fields = bag_remove_keys(pack_all(), dynamic([${dropped}]))`,
    "| order by Side asc, EventTime asc, Key asc",
  ].join("\n");
}
