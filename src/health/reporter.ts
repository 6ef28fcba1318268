/**
 * Sends health records to Log Analytics, the way `SentinelHealth` does for native connectors: a status change at
 * once, and a heartbeat while the status stays the same.
 *
 * The rule, per window attempt (the last status sent and when are on the watermark row, so it survives restarts
 * and is shared by every instance that takes the connector's lease):
 * - every Failure attempt is sent ("Data fetch status change" the first time, "Data fetch failure" after);
 * - a Success or Warning is sent when it differs from the last status sent ("Data fetch status change"),
 *   or when the last record is `heartbeatMinutes` old or older ("Data fetch heartbeat");
 * - otherwise nothing is sent.
 *
 * A record that cannot be sent never fails the window: the reason goes to HealthLastError on the row and to
 * the log. Nothing is queued; the last status and time sent stay as they were, so the next attempt sees the same
 * change (or the same overdue heartbeat) and sends it, with that attempt's numbers.
 */
import type { DcrConfig } from "../definition/schema.ts";
import { redact } from "../engine/redact.ts";
import type { Clock, Logger } from "../engine/types.ts";
import type { WindowAttempt, WindowObserver } from "../runner/types.ts";
import type { Sink } from "../sink/logs-ingestion-sink.ts";
import type { WatermarkRow } from "../state/index.ts";
import {
  attemptStatus,
  type HealthOperation,
  type HealthStatus,
  healthOperations,
  healthRecord,
} from "./record.ts";

export const DEFAULT_HEARTBEAT_MINUTES = 60;

export interface HealthReporterOptions {
  /** The data sink: health records go through the same Logs Ingestion client, to their own DCR stream. */
  sink: Sink;
  destination: DcrConfig;
  clock: Pick<Clock, "now">;
  logger: Logger;
  heartbeatMinutes?: number;
}

/** Which record, if any, an attempt with `status` gets, given what the row says was sent last. */
export function healthOperationFor(
  status: HealthStatus,
  row: Pick<WatermarkRow, "healthLastStatus" | "healthLastSentAt">,
  now: Date,
  heartbeatMinutes: number,
): HealthOperation | undefined {
  if (status !== row.healthLastStatus) return healthOperations.statusChange;
  if (status === "Failure") return healthOperations.failure;
  const sentAt = row.healthLastSentAt?.getTime();
  if (sentAt === undefined || now.getTime() - sentAt >= heartbeatMinutes * 60_000) {
    return healthOperations.heartbeat;
  }
  return undefined;
}

export function createHealthReporter(options: HealthReporterOptions): WindowObserver {
  const { sink, destination, clock, logger } = options;
  const heartbeatMinutes = options.heartbeatMinutes ?? DEFAULT_HEARTBEAT_MINUTES;
  if (!(heartbeatMinutes > 0)) {
    throw new RangeError(`heartbeatMinutes must be a positive number, got ${heartbeatMinutes}`);
  }
  const where = `${destination.dataCollectionRuleImmutableId}/${destination.streamName}`;

  return {
    async windowAttempted(attempt: WindowAttempt) {
      const now = clock.now();
      const judged = attemptStatus(attempt);
      const operation = healthOperationFor(judged.status, attempt.row, now, heartbeatMinutes);
      if (operation === undefined) return;
      const { connector } = attempt;
      const record = healthRecord(attempt, judged, operation, now);
      // The connector as the sink sees it: its health destination, and none of its add-on columns.
      const healthTarget = {
        ...connector,
        properties: { ...connector.properties, dcrConfig: destination, addOnAttributes: {} },
      };
      try {
        const sent = await sink.send(healthTarget, [record]);
        if (sent.accepted !== 1) throw new Error("Logs Ingestion did not accept the record (dead-lettered)");
      } catch (error) {
        const message = redact(
          `${operation} (${judged.status}) not sent to ${where}: ${error instanceof Error ? error.message : String(error)}`,
          connector.secrets,
        );
        logger.error("health record not sent; data ingestion is unaffected, it is retried next attempt", {
          connectorId: connector.id,
          status: judged.status,
          operation,
          lastError: message,
        });
        await attempt.recordHealth({ error: message });
        return;
      }
      await attempt.recordHealth({ lastStatus: judged.status, lastSentAt: now, error: "" });
    },
  };
}
