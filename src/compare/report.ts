/**
 * The compare's three outputs from one result: a terminal table with a verdict line, JSON, and a Markdown
 * report to attach to an issue.
 */
import type { CompareTotals, MovedRecord, RecordRef, WindowReport } from "./diff.ts";
import { type ColumnOptions, SIDES, type Side } from "./types.ts";

export interface CompareResult {
  connectorId: string;
  from: string;
  to: string;
  windowMinutes: number;
  sources: Record<Side, string>;
  columns: ColumnOptions;
  totals: CompareTotals;
  verdict: string;
  windows: WindowReport[];
}

/** How many records per list the terminal shows; JSON and the Markdown report list every one. */
const TERMINAL_LIST_LIMIT = 20;

export function verdictLine(totals: CompareTotals): string {
  const rows = `${totals.rows.func} rows in func, ${totals.rows.ccp} in ccp`;
  if (totals.equal && totals.rows.func + totals.rows.ccp === 0) {
    // Nothing to disagree about is not parity: usually a wrong table, stream or range.
    return `EQUAL, BOTH EMPTY: no rows on either side in ${totals.windows} window(s); check the tables or streams and the range`;
  }
  if (totals.equal) return `EQUAL: ${totals.windows} window(s), ${rows}`;
  const parts = [
    ...SIDES.filter((s) => totals.onlyIn[s] > 0).map((s) => `${totals.onlyIn[s]} only in ${s}`),
    ...SIDES.filter((s) => totals.duplicated[s] > 0).map((s) => `${totals.duplicated[s]} duplicated in ${s}`),
    ...(totals.changed > 0 ? [`${totals.changed} changed`] : []),
    ...(totals.moved > 0 ? [`${totals.moved} moved across a window boundary`] : []),
  ];
  return `DIFFERENT: ${totals.differingWindows} of ${totals.windows} window(s) differ (${rows}): ${parts.join(", ")}`;
}

const HEADERS = [
  "window (UTC)",
  "func",
  "ccp",
  "only func",
  "only ccp",
  "dup func",
  "dup ccp",
  "changed",
  "moved",
  "first event func / ccp",
  "last event func / ccp",
  "result",
];

function tableRows(windows: readonly WindowReport[]): string[][] {
  return windows.map((w) => [
    windowLabel(w.start, w.end),
    String(w.func.rows),
    String(w.ccp.rows),
    String(w.func.onlyHere.length),
    String(w.ccp.onlyHere.length),
    String(w.func.duplicates.length),
    String(w.ccp.duplicates.length),
    String(w.changed.length),
    String(w.moved.length),
    `${clock(w.func.firstEvent)} / ${clock(w.ccp.firstEvent)}`,
    `${clock(w.func.lastEvent)} / ${clock(w.ccp.lastEvent)}`,
    w.equal ? "equal" : "DIFFERENT",
  ]);
}

/** The CLI's table layout (src/cli/shared.ts `formatTable`), so every command's tables look alike. */
export type TableFormatter = (headers: readonly string[], rows: readonly (readonly string[])[]) => string[];

export function renderTerminal(result: CompareResult, formatTable: TableFormatter): string {
  const lines = formatTable(HEADERS, tableRows(result.windows));
  const details = result.windows
    .filter((w) => !w.equal)
    .flatMap((w) => ["", ...windowDetails(w, TERMINAL_LIST_LIMIT)]);
  return [
    `${result.connectorId}: ${result.from} .. ${result.to}, windows of ${result.windowMinutes} min on ${result.columns.timeColumn}`,
    ...lines,
    ...details,
    "",
    `Verdict: ${result.verdict}`,
  ].join("\n");
}

export function renderMarkdown(result: CompareResult, firstQuery: string | undefined): string {
  const { columns } = result;
  const escapePipes = (cell: string) => cell.replaceAll("|", "\\|");
  const table = [HEADERS, HEADERS.map(() => "---"), ...tableRows(result.windows)].map(
    (r) => `| ${r.map(escapePipes).join(" | ")} |`,
  );
  const differing = result.windows.filter((w) => !w.equal);
  return [
    `# Parity compare: ${result.connectorId}`,
    "",
    `- Range: ${result.from} .. ${result.to} (UTC), ${result.windows.length} window(s) of ${result.windowMinutes} min, cut on event time \`${columns.timeColumn}\`, half-open [start, end)`,
    `- func: ${result.sources.func}`,
    `- ccp: ${result.sources.ccp}`,
    `- Join key: \`${columns.keyColumn}\` (rows without it: \`${columns.fallbackKeyColumn}\`)`,
    `- Not compared: ${columns.ignore.map((c) => `\`${c}\``).join(", ") || "none"}`,
    "",
    `**Verdict: ${result.verdict}**`,
    "",
    "## Windows",
    "",
    ...table,
    ...(differing.length > 0 ? ["", "## Differences"] : []),
    ...differing.flatMap((w) => {
      const [heading, ...lines] = windowDetails(w, Number.POSITIVE_INFINITY);
      return ["", `### ${heading?.replace(/:$/, "")}`, "", ...lines.map((l) => `- ${l.trim()}`)];
    }),
    ...(firstQuery === undefined
      ? []
      : ["", "## Query (first window; the tool runs one per window)", "", "```kql", firstQuery, "```"]),
    "",
  ].join("\n");
}

export function renderJson(result: CompareResult): string {
  return JSON.stringify(result, null, 2);
}

function windowDetails(w: WindowReport, limit: number): string[] {
  const lines = [`${windowLabel(w.start, w.end)}:`];
  const list = (label: string, items: string[]) => {
    if (items.length === 0) return;
    const shown = items.slice(0, limit).join(", ");
    const more = items.length > limit ? ` … and ${items.length - limit} more (see --json or --report)` : "";
    lines.push(`  ${label} (${items.length}): ${shown}${more}`);
  };
  for (const side of SIDES) list(`only in ${side}`, w[side].onlyHere.map(recordLabel));
  for (const side of SIDES) {
    list(
      `duplicated in ${side}`,
      w[side].duplicates.map((d) => `${d.key} ×${d.copies}`),
    );
  }
  for (const changed of w.changed.slice(0, limit)) {
    lines.push(`  changed ${recordLabel(changed)}: ${differencesLabel(changed.differences)}`);
  }
  if (w.changed.length > limit) lines.push(`  … and ${w.changed.length - limit} more changed records`);
  list("moved across a window boundary", w.moved.map(movedLabel));
  return lines;
}

function recordLabel(record: RecordRef): string {
  return `${record.key} (${record.eventTime})`;
}

function movedLabel(moved: MovedRecord): string {
  const where = (side: Side) => `${side} ${moved[side].eventTime} in window ${moved[side].windowStart}`;
  const fields = moved.differences.length > 0 ? `; ${differencesLabel(moved.differences)}` : "";
  return `${moved.key} (${where("func")}, ${where("ccp")}${fields})`;
}

function differencesLabel(differences: WindowReport["changed"][number]["differences"]): string {
  return differences
    .map((d) => `${d.column}: func ${JSON.stringify(d.func)} / ccp ${JSON.stringify(d.ccp)}`)
    .join("; ");
}

/** `2026-01-01 10:00–10:05`, with the end's date when it is another day. */
function windowLabel(start: string, end: string): string {
  const [startDay, startTime] = [start.slice(0, 10), start.slice(11, 16)];
  const endLabel =
    end.slice(0, 10) === startDay ? end.slice(11, 16) : `${end.slice(0, 10)} ${end.slice(11, 16)}`;
  return `${startDay} ${startTime}–${endLabel}`;
}

function clock(time: string | null): string {
  return time === null ? "-" : time.slice(11, 19);
}
