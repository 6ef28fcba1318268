/**
 * The parity compare (issue 8): ccp-poller's table against the native CCP connector's, window by window.
 * `runCompare` drives any `CompareSource` (local stand-in streams or Log Analytics) through the same diff.
 */
import type { Window } from "../engine/types.ts";
import { diffWindows, planCompareWindows, totalsOf, type WindowReport } from "./diff.ts";
import { type CompareResult, verdictLine } from "./report.ts";
import type { ColumnOptions, CompareSource } from "./types.ts";

export type { CompareTotals, FieldDifference, MovedRecord, WindowReport } from "./diff.ts";
export { windowQuery } from "./kql.ts";
export { createLocalSource, LOCAL_NATIVE_DCR_ID, type StoredStream } from "./local-source.ts";
export { createLogAnalyticsSource, createLogsQueryClient } from "./log-analytics-source.ts";
export {
  type CompareResult,
  renderJson,
  renderMarkdown,
  renderTerminal,
  type TableFormatter,
  verdictLine,
} from "./report.ts";
export * from "./types.ts";

export interface CompareOptions {
  connectorId: string;
  from: Date;
  to: Date;
  /** The connector's `queryWindowInMin`. */
  windowMinutes: number;
  source: CompareSource;
  columns: ColumnOptions;
  /** Called before each window is read (e.g. to print its query). */
  onWindow?: (window: Window) => void;
}

export async function runCompare(options: CompareOptions): Promise<CompareResult> {
  const { source, columns } = options;
  const windows = planCompareWindows(options.from, options.to, options.windowMinutes);
  const reports: WindowReport[] = [];
  const read = (window: Window) => {
    options.onWindow?.(window);
    return source.readWindow(window);
  };
  for await (const report of diffWindows(windows, read, columns)) reports.push(report);
  const totals = totalsOf(reports);
  return {
    connectorId: options.connectorId,
    from: options.from.toISOString(),
    to: options.to.toISOString(),
    windowMinutes: options.windowMinutes,
    sources: source.description,
    columns,
    totals,
    verdict: verdictLine(totals),
    windows: reports,
  };
}
