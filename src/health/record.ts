/**
 * One health record: the columns of Microsoft Sentinel's `SentinelHealth` (so the same workbooks and alert rules
 * read both) plus ccp-poller's own per-window counts, which cover the whole path from fetch to the Logs
 * Ingestion API's 204 — the part `SentinelHealth` does not report.
 */
import { redact } from "../engine/redact.ts";
import type { WindowAttempt } from "../runner/types.ts";
import { formatWindow, limits } from "../state/index.ts";
import { limitText } from "../state/row.ts";

export type HealthStatus = "Success" | "Warning" | "Failure";

/** `SentinelHealth` names its data connector operations this way; the heartbeat is ours. */
export const healthOperations = {
  statusChange: "Data fetch status change",
  failure: "Data fetch failure",
  heartbeat: "Data fetch heartbeat",
} as const;

export type HealthOperation = (typeof healthOperations)[keyof typeof healthOperations];

export interface HealthRecord {
  TimeGenerated: string;
  /** The connector id. */
  SentinelResourceName: string;
  /** The definition's shape: RestApiPoller or APIPolling. */
  SentinelResourceKind: string;
  SentinelResourceType: "Data connector";
  OperationName: HealthOperation;
  Status: HealthStatus;
  Description: string;
  /** Why the attempt failed or needs attention; secret-free; empty on Success. */
  Reason: string;
  ExtendedProperties: Record<string, unknown>;
  WindowStart: string;
  WindowEnd: string;
  Pages: number;
  Fetched: number;
  Extracted: number;
  Sent: number;
  Accepted: number;
  DurationMs: number;
  Attempt: number;
  /** Minutes CommittedThrough is behind the time of the record; null before the first commit. */
  LagMinutes: number | null;
}

/**
 * Failure: the window was not committed. Warning: committed, but records were dead-lettered (fetched ≠ accepted)
 * or the connector is further behind than a healthy one ever is. Success otherwise.
 */
export function attemptStatus({ report, row }: Pick<WindowAttempt, "report" | "row">): {
  status: HealthStatus;
  reason: string;
} {
  if (report.outcome === "failed") return { status: "Failure", reason: report.error ?? row.lastError };
  const warnings = [
    ...(report.deadLettered > 0
      ? [
          `${report.deadLettered} of ${report.counts.fetched} fetched record(s) could never be ingested and were dead-lettered${row.deadLetterLocation ? ` (${row.deadLetterLocation})` : ""}`,
        ]
      : []),
    ...(row.status === "Lagging" ? [`Lagging: ${row.statusReason}`] : []),
  ];
  return warnings.length > 0
    ? { status: "Warning", reason: warnings.join("; ") }
    : { status: "Success", reason: "" };
}

export function healthRecord(
  attempt: WindowAttempt,
  judged: { status: HealthStatus; reason: string },
  operation: HealthOperation,
  now: Date,
): HealthRecord {
  const { connector, report, row } = attempt;
  const { counts, window } = report;
  const secretFree = (text: string) => limitText(redact(text, connector.secrets), limits.errorChars);
  const summary =
    report.outcome === "failed"
      ? `Window ${formatWindow(window)} failed on attempt ${attempt.attempt}; it is retried from its start and nothing after it is polled until it succeeds.`
      : `Window ${formatWindow(window)} committed: ${counts.fetched} fetched, ${counts.accepted} accepted by Logs Ingestion in ${counts.pages} page(s).`;
  return {
    TimeGenerated: now.toISOString(),
    SentinelResourceName: connector.id,
    SentinelResourceKind: connector.sourceKind,
    SentinelResourceType: "Data connector",
    OperationName: operation,
    Status: judged.status,
    Description: secretFree(`${summary} ${row.statusReason}.`),
    Reason: secretFree(judged.reason),
    ExtendedProperties: {
      PreviousStatus: row.healthLastStatus,
      WatermarkStatus: row.status,
      CommittedThrough: row.committedThrough?.toISOString() ?? null,
      ConsecutiveFailures: row.consecutiveFailures,
      ErrorKind: report.outcome === "failed" ? row.lastErrorKind : "",
      DeadLettered: report.deadLettered,
      DeadLetterLocation: row.deadLetterLocation,
      // Cumulative since the row was created: the difference between two records counts the windows between
      // them, including those no record was sent for (the silent-drop query relies on it).
      TotalFetched: row.totals.fetched,
      TotalSent: row.totals.sent,
      TotalAccepted: row.totals.accepted,
      DefinitionFile: connector.source.file,
      DefinitionHash: connector.definitionHash,
    },
    WindowStart: window.start.toISOString(),
    WindowEnd: window.end.toISOString(),
    Pages: counts.pages,
    Fetched: counts.fetched,
    Extracted: counts.extracted,
    Sent: counts.sent,
    Accepted: counts.accepted,
    DurationMs: counts.durationMs,
    Attempt: attempt.attempt,
    LagMinutes: row.lagMinutes ?? null,
  };
}
