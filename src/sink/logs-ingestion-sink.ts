/**
 * Delivery of one page of events to the Logs Ingestion API through the real `LogsIngestionClient`'s pipeline
 * (auth, gzip, and retries: 429 after `Retry-After`, 5xx and network errors with backoff); each row is
 * serialized once and the body built from those bytes (src/sink/upload-call.ts says why).
 *
 * `send` resolves only when every row of the page was accepted (204) or dead-lettered; anything else
 * rejects with a SinkDeliveryError, so the caller never commits a window over rows the service did not take.
 * Each batch is one call.
 */
import type { TokenCredential } from "@azure/identity";
import { LogsIngestionClient, type LogsIngestionClientOptions } from "@azure/monitor-ingestion";
import type { Connector, DcrConfig } from "../definition/schema.ts";
import type { Logger } from "../engine/types.ts";
import {
  bodyBytes,
  createBodyBuffers,
  halve,
  MAX_BATCH_BYTES,
  packBatches,
  SERVICE_MAX_CALL_BYTES,
} from "./batches.ts";
import type { DeadLetterStore } from "./dead-letter.ts";
import { excerpt, SinkConfigurationError, SinkDeliveryError } from "./errors.ts";
import { type Row, rowJson, rowSerializer, type SerializedRow } from "./rows.ts";
import { type UploadCall, uploadCall } from "./upload-call.ts";

export interface LogsIngestionSinkOptions {
  /** `DefaultAzureCredential` in Azure (see createAzureCredential); the stand-in's `tokenCredential` locally. */
  credential: TokenCredential;
  /** E.g. `retryOptions`, or `standinClientOptions(caCertPem)` to trust the local stand-in. */
  clientOptions?: LogsIngestionClientOptions;
  logger: Logger;
  deadLetter: DeadLetterStore;
  /** Largest JSON body per call. Default and maximum 1,000,000 bytes: the SDK's chunk size, under 1 MiB. */
  maxBatchBytes?: number;
  /** Replaces fields of every connector's `dcrConfig` (e.g. the local run sends to the stand-in). */
  destinationOverride?: Partial<DcrConfig>;
}

export interface SinkSendOptions {
  /** Stops before the next call and fails the call in flight; the page then counts as not delivered. */
  signal?: AbortSignal;
}

export interface DeadLetterReceipt {
  eventId: string;
  bytes: number;
  reason: string;
  /** Where the record is stored (blob URL or file path). */
  location: string;
}

export interface SendResult {
  /** Rows handed to the sink: `accepted + deadLettered`. */
  sent: number;
  accepted: number;
  deadLettered: number;
  deadLetters: DeadLetterReceipt[];
  /** Upload calls that ended in 204 or 413 (the pipeline's own retries are not counted). */
  calls: number;
}

export interface Sink {
  send(connector: Connector, events: readonly unknown[], options?: SinkSendOptions): Promise<SendResult>;
}

/** The connector's destination, after the environment's override. */
export function destinationOf(connector: Connector, override: Partial<DcrConfig> = {}): DcrConfig {
  const configured = connector.properties.dcrConfig;
  const destination = { ...configured, ...override };
  const missing = (["dataCollectionEndpoint", "dataCollectionRuleImmutableId", "streamName"] as const).filter(
    (field) => !destination[field],
  );
  if (missing.length > 0) {
    throw new SinkConfigurationError(
      connector.id,
      `Connector '${connector.id}' (${connector.source.file} at ${connector.source.jsonPath}) has no destination: ` +
        `expected properties.dcrConfig with ${missing.map((field) => `'${field}'`).join(", ")}.`,
    );
  }
  return destination as DcrConfig;
}

interface Failure {
  status: number | undefined;
  summary: string;
}

function describeFailure(error: unknown): Failure {
  const { statusCode, code, name, message } = (error ?? {}) as {
    statusCode?: number;
    code?: string;
    name?: string;
    message?: string;
  };
  const label =
    statusCode === undefined ? (code ?? name ?? "Error") : `HTTP ${statusCode}${code ? ` ${code}` : ""}`;
  return { status: statusCode, summary: `${label}: ${excerpt(message ?? String(error))}` };
}

export function createLogsIngestionSink(options: LogsIngestionSinkOptions): Sink {
  const maxBatchBytes = options.maxBatchBytes ?? MAX_BATCH_BYTES;
  if (!(maxBatchBytes >= 64 && maxBatchBytes <= MAX_BATCH_BYTES)) {
    throw new RangeError(`maxBatchBytes must be between 64 and ${MAX_BATCH_BYTES}, got ${maxBatchBytes}`);
  }
  const { logger, deadLetter } = options;
  const bodies = createBodyBuffers(maxBatchBytes);
  const calls = new Map<string, UploadCall>();
  const callFor = (endpoint: string): UploadCall => {
    let call = calls.get(endpoint);
    if (call === undefined) {
      const client = new LogsIngestionClient(endpoint, options.credential, options.clientOptions);
      call = uploadCall(client, endpoint, options.clientOptions?.httpClient);
      calls.set(endpoint, call);
    }
    return call;
  };

  async function send(connector: Connector, events: readonly unknown[], sendOptions: SinkSendOptions = {}) {
    const destination = destinationOf(connector, options.destinationOverride);
    const { signal } = sendOptions;
    const upload = callFor(destination.dataCollectionEndpoint);
    const where = `${destination.dataCollectionRuleImmutableId}/${destination.streamName}`;
    const result: SendResult = {
      sent: events.length,
      accepted: 0,
      deadLettered: 0,
      deadLetters: [],
      calls: 0,
    };

    const fail = (status: number | undefined, summary: string): SinkDeliveryError => {
      const progress = {
        accepted: result.accepted,
        deadLettered: result.deadLettered,
        undelivered: result.sent - result.accepted - result.deadLettered,
      };
      return new SinkDeliveryError(
        connector.id,
        status,
        progress,
        `Logs Ingestion did not accept ${progress.undelivered} of ${result.sent} rows of connector ` +
          `'${connector.id}' (${where}): ${summary}`,
      );
    };

    const deadLetterRow = async (sized: SerializedRow, reason: string): Promise<void> => {
      const { eventId } = sized;
      let location: string;
      try {
        location = await deadLetter.put({
          connectorId: connector.id,
          eventId,
          dataCollectionRuleImmutableId: destination.dataCollectionRuleImmutableId,
          streamName: destination.streamName,
          reason,
          bytes: sized.bytes,
          row: JSON.parse(rowJson(sized)) as Row,
        });
      } catch (error) {
        throw fail(
          undefined,
          `dead-lettering record ${eventId} in ${deadLetter.location} failed: ${describeFailure(error).summary}`,
        );
      }
      result.deadLettered += 1;
      result.deadLetters.push({ eventId, bytes: sized.bytes, reason, location });
      logger.error("Record can never be sent to Logs Ingestion; stored in the dead-letter store", {
        connectorId: connector.id,
        eventId,
        bytes: sized.bytes,
        reason,
        location,
      });
    };

    const sized = events.map(rowSerializer(connector.id, connector.properties.addOnAttributes));
    const fitsOneCall = (row: SerializedRow) => bodyBytes([row]) <= SERVICE_MAX_CALL_BYTES;
    for (const row of sized.filter((candidate) => !fitsOneCall(candidate))) {
      await deadLetterRow(
        row,
        `${row.bytes} bytes: larger than one call allows (${SERVICE_MAX_CALL_BYTES} bytes)`,
      );
    }

    const queue = packBatches(sized.filter(fitsOneCall), maxBatchBytes);
    for (let batch = queue.shift(); batch !== undefined; batch = queue.shift()) {
      if (signal?.aborted) throw fail(undefined, "aborted before the next call");
      const body = bodies.write(batch);
      try {
        await upload(destination.dataCollectionRuleImmutableId, destination.streamName, body, signal).finally(
          () => bodies.release(body),
        );
        result.calls += 1;
        result.accepted += batch.length;
      } catch (error) {
        const failure = describeFailure(error);
        if (failure.status !== 413) throw fail(failure.status, failure.summary);
        result.calls += 1;
        const [single] = batch;
        if (batch.length === 1 && single !== undefined) {
          await deadLetterRow(single, `${single.bytes} bytes: rejected on its own (${failure.summary})`);
        } else {
          logger.warn("Logs Ingestion rejected a batch as too large; retrying it in halves", {
            connectorId: connector.id,
            rows: batch.length,
            bytes: bodyBytes(batch),
          });
          queue.unshift(...halve(batch));
        }
      }
    }
    return result;
  }

  return { send };
}
