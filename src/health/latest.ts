/**
 * Each connector's latest health record, read from the local Logs Ingestion stand-in's stored stream: what
 * `ccp-poller status --source health` shows. (Reading CcpPollerHealth_CL in Log Analytics is left to the
 * queries in infra/queries/health-*.kql.)
 */
import { streamStoredRows } from "../local/standin/row-store.ts";

export interface HealthStatusLine {
  connectorId: string;
  status: string;
  operation: string;
  /** TimeGenerated of the record. */
  at: string;
  window: string;
  attempt: number;
  lagMinutes: number | null;
  reason: string;
}

const severity: Record<string, number> = { Failure: 0, Warning: 1, Success: 2 };

/** Failures first, then warnings, then by connector id. */
export async function latestHealthFromStandin(
  dataDir: string,
  dcrId: string,
  stream: string,
): Promise<HealthStatusLine[]> {
  const latest = new Map<string, HealthStatusLine>();
  for await (const row of streamStoredRows(dataDir, dcrId, stream)) {
    const line = toLine(row);
    const previous = latest.get(line.connectorId);
    // Records are stored in arrival order; TimeGenerated decides between records of different instances.
    if (previous === undefined || previous.at <= line.at) latest.set(line.connectorId, line);
  }
  return [...latest.values()].sort(
    (a, b) =>
      (severity[a.status] ?? 3) - (severity[b.status] ?? 3) || a.connectorId.localeCompare(b.connectorId),
  );
}

function toLine(row: Record<string, unknown>): HealthStatusLine {
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  return {
    connectorId: text(row.SentinelResourceName),
    status: text(row.Status),
    operation: text(row.OperationName),
    at: text(row.TimeGenerated),
    window: `${text(row.WindowStart)} → ${text(row.WindowEnd)}`,
    attempt: typeof row.Attempt === "number" ? row.Attempt : 0,
    lagMinutes: typeof row.LagMinutes === "number" ? row.LagMinutes : null,
    reason: text(row.Reason),
  };
}
