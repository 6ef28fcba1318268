/**
 * The diff, window by window: counts, keys on one side only, duplicates within a side, first/last event
 * time, and the fields that differ for keys on both sides. Only two windows are in memory at a time: the
 * next one is read before a window is reported, so a record whose event time crossed a window boundary on
 * one side is reported once as moved instead of twice as missing.
 */
import type { Window } from "../engine/types.ts";
import { canonicalJson } from "../sink/rows.ts";
import { type ColumnOptions, SIDES, type Side, type SourceRow } from "./types.ts";

export interface FieldDifference {
  column: string;
  func: unknown;
  ccp: unknown;
}

export interface RecordRef {
  key: string;
  eventTime: string;
}

export interface ChangedRecord extends RecordRef {
  differences: FieldDifference[];
}

export interface DuplicateRecord {
  key: string;
  copies: number;
}

/** A record both sides hold, but in neighbouring windows: its event time differs across a boundary. */
export interface MovedRecord {
  key: string;
  func: { eventTime: string; windowStart: string };
  ccp: { eventTime: string; windowStart: string };
  differences: FieldDifference[];
}

export interface SideSummary {
  rows: number;
  distinctKeys: number;
  firstEvent: string | null;
  lastEvent: string | null;
  /** Keys this side has and the other side has in no window nearby. */
  onlyHere: RecordRef[];
  duplicates: DuplicateRecord[];
}

export interface WindowReport {
  start: string;
  end: string;
  func: SideSummary;
  ccp: SideSummary;
  changed: ChangedRecord[];
  /** Listed in both windows involved. */
  moved: MovedRecord[];
  equal: boolean;
}

export interface CompareTotals {
  windows: number;
  differingWindows: number;
  rows: Record<Side, number>;
  onlyIn: Record<Side, number>;
  duplicated: Record<Side, number>;
  changed: number;
  /** Each moved record once. */
  moved: number;
  equal: boolean;
}

/** Consecutive windows of `sizeMin` from `from`; the last one ends at `to` and may be shorter. */
export function planCompareWindows(from: Date, to: Date, sizeMin: number): Window[] {
  const size = sizeMin * 60_000;
  const windows: Window[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += size) {
    windows.push({ start: new Date(start), end: new Date(Math.min(start + size, to.getTime())) });
  }
  return windows;
}

interface Pending {
  report: WindowReport;
  /** First row of each key present on this side only, until the neighbouring windows have been matched. */
  oneSided: Record<Side, Map<string, SourceRow>>;
}

const other = (side: Side): Side => (side === "func" ? "ccp" : "func");

/**
 * Yields one report per window, in order. Reads window n+1 before yielding window n (the boundary check),
 * so at most two windows' rows are held.
 */
export async function* diffWindows(
  windows: readonly Window[],
  read: (window: Window) => Promise<Record<Side, SourceRow[]>>,
  columns: ColumnOptions,
): AsyncGenerator<WindowReport> {
  const ignored = new Set([...columns.ignore, columns.keyColumn]);
  let previous: Pending | undefined;
  for (const window of windows) {
    const current = analyzeWindow(window, await read(window), ignored);
    if (previous !== undefined) {
      matchAcrossBoundary(previous, current, ignored);
      yield finish(previous);
    }
    previous = current;
  }
  if (previous !== undefined) yield finish(previous);
}

/** Adds up reports; a moved record is counted in the earlier of its two windows only. */
export function totalsOf(reports: readonly WindowReport[]): CompareTotals {
  const totals: CompareTotals = {
    windows: reports.length,
    differingWindows: 0,
    rows: { func: 0, ccp: 0 },
    onlyIn: { func: 0, ccp: 0 },
    duplicated: { func: 0, ccp: 0 },
    changed: 0,
    moved: 0,
    equal: true,
  };
  for (const report of reports) {
    if (!report.equal) totals.differingWindows++;
    for (const side of SIDES) {
      totals.rows[side] += report[side].rows;
      totals.onlyIn[side] += report[side].onlyHere.length;
      totals.duplicated[side] += report[side].duplicates.length;
    }
    totals.changed += report.changed.length;
    // Window starts are ISO strings of the same format, so they sort as text.
    totals.moved += report.moved.filter(
      (m) => [m.func.windowStart, m.ccp.windowStart].sort()[0] === report.start,
    ).length;
  }
  totals.equal = totals.differingWindows === 0;
  return totals;
}

function analyzeWindow(window: Window, rows: Record<Side, SourceRow[]>, ignored: Set<string>): Pending {
  const firstByKey = {} as Record<Side, Map<string, SourceRow>>;
  const summaries = {} as Record<Side, SideSummary>;
  for (const side of SIDES) {
    const byKey = new Map<string, SourceRow>();
    const copies = new Map<string, number>();
    let first: number | undefined;
    let last: number | undefined;
    for (const row of rows[side]) {
      if (!byKey.has(row.key)) byKey.set(row.key, row);
      copies.set(row.key, (copies.get(row.key) ?? 0) + 1);
      const at = row.eventTime.getTime();
      if (first === undefined || at < first) first = at;
      if (last === undefined || at > last) last = at;
    }
    firstByKey[side] = byKey;
    summaries[side] = {
      rows: rows[side].length,
      distinctKeys: byKey.size,
      firstEvent: first === undefined ? null : new Date(first).toISOString(),
      lastEvent: last === undefined ? null : new Date(last).toISOString(),
      onlyHere: [],
      duplicates: [...copies]
        .filter(([, n]) => n > 1)
        .map(([key, n]) => ({ key, copies: n }))
        .sort((a, b) => compareKeys(a.key, b.key)),
    };
  }
  const oneSided = { func: new Map(), ccp: new Map() } as Record<Side, Map<string, SourceRow>>;
  const changed: ChangedRecord[] = [];
  for (const side of SIDES) {
    for (const [key, row] of firstByKey[side]) {
      const counterpart = firstByKey[other(side)].get(key);
      if (counterpart === undefined) {
        oneSided[side].set(key, row);
      } else if (side === "func") {
        const differences = fieldDifferences(row, counterpart, ignored);
        if (differences.length > 0) changed.push({ ...refOf(row), differences });
      }
    }
  }
  const report: WindowReport = {
    start: window.start.toISOString(),
    end: window.end.toISOString(),
    func: summaries.func,
    ccp: summaries.ccp,
    changed: changed.sort(byTimeThenKey),
    moved: [],
    // Decided in finish(), once the neighbouring windows are matched.
    equal: false,
  };
  return { report, oneSided };
}

function matchAcrossBoundary(earlier: Pending, later: Pending, ignored: Set<string>): void {
  for (const side of SIDES) {
    for (const [key, row] of earlier.oneSided[side]) {
      const counterpart = later.oneSided[other(side)].get(key);
      if (counterpart === undefined) continue;
      const located = {
        [side]: { eventTime: row.eventTime.toISOString(), windowStart: earlier.report.start },
        [other(side)]: { eventTime: counterpart.eventTime.toISOString(), windowStart: later.report.start },
      } as Record<Side, MovedRecord["func"]>;
      const [funcRow, ccpRow] = side === "func" ? [row, counterpart] : [counterpart, row];
      const moved: MovedRecord = {
        key,
        func: located.func,
        ccp: located.ccp,
        differences: fieldDifferences(funcRow, ccpRow, ignored),
      };
      earlier.report.moved.push(moved);
      later.report.moved.push(moved);
      earlier.oneSided[side].delete(key);
      later.oneSided[other(side)].delete(key);
    }
  }
}

/** Whatever is still one-sided after both neighbours were matched is missing on the other side. */
function finish({ report, oneSided }: Pending): WindowReport {
  for (const side of SIDES)
    report[side].onlyHere = [...oneSided[side].values()].map(refOf).sort(byTimeThenKey);
  report.equal =
    SIDES.every((side) => report[side].onlyHere.length === 0 && report[side].duplicates.length === 0) &&
    report.changed.length === 0 &&
    report.moved.length === 0;
  return report;
}

function refOf(row: SourceRow): RecordRef {
  return { key: row.key, eventTime: row.eventTime.toISOString() };
}

/** Numeric keys (Jira ids) sort as numbers, anything else as text. */
function compareKeys(a: string, b: string): number {
  const [x, y] = [Number(a), Number(b)];
  if (a !== "" && b !== "" && Number.isFinite(x) && Number.isFinite(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}

function byTimeThenKey(a: RecordRef, b: RecordRef): number {
  return a.eventTime < b.eventTime ? -1 : a.eventTime > b.eventTime ? 1 : compareKeys(a.key, b.key);
}

/**
 * Every compared column whose values differ. A missing column equals null (Log Analytics has no
 * "absent"); dates compare as ISO instants; objects compare whatever their key order.
 */
export function fieldDifferences(func: SourceRow, ccp: SourceRow, ignored: Set<string>): FieldDifference[] {
  const columns = new Set([...Object.keys(func.fields), ...Object.keys(ccp.fields)]);
  const differences: FieldDifference[] = [];
  for (const column of [...columns].sort()) {
    if (ignored.has(column)) continue;
    const [a, b] = [comparable(func.fields[column]), comparable(ccp.fields[column])];
    if (canonicalJson(a) !== canonicalJson(b)) differences.push({ column, func: a, ccp: b });
  }
  return differences;
}

function comparable(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return value;
}
