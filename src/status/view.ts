/**
 * The on-call view of the watermark rows: one plain line per connector, worst first. The CLI's `status` table and
 * the Functions app's status page render these same lines, so both show the same order and the same words.
 */
import {
  defaultStatusPolicy,
  deriveStatus,
  formatWindow,
  hourlySeries,
  type StatusPolicy,
  silentDrop,
  type WatermarkRow,
  type WatermarkStatus,
} from "../state/index.ts";

export interface StatusLine {
  connectorId: string;
  status: WatermarkStatus;
  statusReason: string;
  /** Minutes CommittedThrough is behind `now`; null until the first commit. */
  lagMinutes: number | null;
  /** ISO times; null when never. */
  committedThrough: string | null;
  lastSuccessAt: string | null;
  consecutiveFailures: number;
  lastErrorAt: string | null;
  lastErrorKind: string;
  lastError: string;
  /** "<ISO start> → <ISO end>" of the window being retried or polled; null when none. */
  windowInFlight: string | null;
  windowAttempts: number;
  /** ISO time the upstream asked not to be called before (a long Retry-After); null when none. */
  notBefore: string | null;
  totalAccepted: number;
  deadLetterCount: number;
  definitionFile: string;
  activity: ActivityLine;
}

/** The last 14 days, hour by hour, from the row's ActivityHours column. */
export interface ActivityLine {
  /** ISO start of the first hour; the last entry is the hour holding the time of reading. */
  from: string;
  /** Events accepted per hour; null when nothing ran in that hour. */
  accepted: (number | null)[];
  /** The largest lag, in minutes, a write saw in that hour; null when nothing ran or nothing was committed yet. */
  maxLagMinutes: (number | null)[];
  /** ISO time of the last write that had events accepted; null when never. */
  lastDataAt: string | null;
  /** Why the connector is marked as a silent drop (`silentDropRule`); null when it is not. */
  silentDrop: string | null;
}

/** Worst first: what needs a human now, then what will soon, then the rest. */
export const statusOrder: readonly WatermarkStatus[] = ["Failing", "Lagging", "Healthy", "Disabled"];

/**
 * Rows as on-call lines, sorted worst first; within a status silent drops first, then the longest lag
 * (never-committed after committed ones), then by id so the order is stable. Status and lag are derived again at `now`, so a page
 * rendered from rows read a while ago still tells the truth.
 */
export function statusView(
  rows: readonly WatermarkRow[],
  now: Date,
  policy: StatusPolicy = defaultStatusPolicy,
): StatusLine[] {
  return rows
    .map((row) => toLine({ ...row, ...deriveStatus(row, now, policy) }, now))
    .sort(
      (a, b) =>
        statusOrder.indexOf(a.status) - statusOrder.indexOf(b.status) ||
        Number(b.activity.silentDrop !== null) - Number(a.activity.silentDrop !== null) ||
        (b.lagMinutes ?? -1) - (a.lagMinutes ?? -1) ||
        a.connectorId.localeCompare(b.connectorId),
    );
}

function toLine(row: WatermarkRow, now: Date): StatusLine {
  const iso = (date: Date | undefined) => date?.toISOString() ?? null;
  const series = hourlySeries(row.activity, now);
  return {
    connectorId: row.connectorId,
    status: row.status,
    statusReason: row.statusReason,
    lagMinutes: row.lagMinutes ?? null,
    committedThrough: iso(row.committedThrough),
    lastSuccessAt: iso(row.lastSuccessAt),
    consecutiveFailures: row.consecutiveFailures,
    lastErrorAt: iso(row.lastErrorAt),
    lastErrorKind: row.lastErrorKind,
    lastError: row.lastError,
    windowInFlight: row.windowInFlight === undefined ? null : formatWindow(row.windowInFlight),
    windowAttempts: row.windowAttempts,
    notBefore: iso(row.notBefore),
    totalAccepted: row.totals.accepted,
    deadLetterCount: row.deadLetterCount,
    definitionFile: row.definitionFile,
    activity: {
      from: series.from.toISOString(),
      accepted: series.accepted,
      maxLagMinutes: series.maxLagMinutes,
      lastDataAt: iso(row.activity.lastDataAt),
      silentDrop: silentDrop(series, row.status === "Healthy") ?? null,
    },
  };
}
