/**
 * The on-call view of the watermark rows: one plain line per connector, worst first. The CLI's `status` table and
 * the Functions app's status page render these same lines, so both show the same order and the same words.
 */
import {
  defaultStatusPolicy,
  deriveStatus,
  formatWindow,
  type StatusPolicy,
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
}

/** Worst first: what needs a human now, then what will soon, then the rest. */
export const statusOrder: readonly WatermarkStatus[] = ["Failing", "Lagging", "Healthy", "Disabled"];

/**
 * Rows as on-call lines, sorted worst first; within a status the longest lag first (never-committed after
 * committed ones), then by id so the order is stable. Status and lag are derived again at `now`, so a page
 * rendered from rows read a while ago still tells the truth.
 */
export function statusView(
  rows: readonly WatermarkRow[],
  now: Date,
  policy: StatusPolicy = defaultStatusPolicy,
): StatusLine[] {
  return rows
    .map((row) => toLine({ ...row, ...deriveStatus(row, now, policy) }))
    .sort(
      (a, b) =>
        statusOrder.indexOf(a.status) - statusOrder.indexOf(b.status) ||
        (b.lagMinutes ?? -1) - (a.lagMinutes ?? -1) ||
        a.connectorId.localeCompare(b.connectorId),
    );
}

function toLine(row: WatermarkRow): StatusLine {
  const iso = (date: Date | undefined) => date?.toISOString() ?? null;
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
  };
}
