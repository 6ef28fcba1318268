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
import type { LogsIngestionClientOptions } from "@azure/monitor-ingestion";
import { monitorIngestion } from "../config/azure-sdk.ts";
import type { Connector, DcrConfig } from "../definition/schema.ts";
import type { Logger } from "../engine/types.ts";
import {
  bodyBytes,
  createBodyBuffers,
  MAX_BATCH_BYTES,
  packBatches,
  SERVICE_MAX_CALL_BYTES,
  type WrittenBatch,
  writtenRowJson,
} from "./batches.ts";
import type { DeadLetterStore } from "./dead-letter.ts";
import { excerpt, SinkConfigurationError, SinkDeliveryError } from "./errors.ts";
import { EVENT_ID_COLUMN, type Row, rowJson, rowSerializer, type SerializedRow } from "./rows.ts";
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
  /**
   * No call of this send reaches the wire before it resolves; the rows are built and compressed meanwhile. If it
   * rejects, the send fails with its error. (The runner starts a window's sends during the commit before it.)
   */
  notBefore?: Promise<unknown>;
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
      const client = new (monitorIngestion().LogsIngestionClient)(
        endpoint,
        options.credential,
        options.clientOptions,
      );
      call = uploadCall(client, endpoint, options.clientOptions?.httpClient);
      calls.set(endpoint, call);
    }
    return call;
  };

  /**
   * The rows are made here, at once, and from then on only their batches are held, each batch's rows only until
   * its body is written: neither the events nor their row strings wait, referenced from a suspended frame, for
   * the uploads before them.
   */
  function send(
    connector: Connector,
    events: readonly unknown[],
    sendOptions: SinkSendOptions = {},
  ): Promise<SendResult> {
    // Awaited by each call, after its body is compressed; this only keeps a rejection meanwhile from counting
    // as unhandled.
    sendOptions.notBefore?.catch(() => undefined);
    try {
      const destination = destinationOf(connector, options.destinationOverride);
      const { batches, tooLarge } = packRows(connector, events);
      return deliver(connector, destination, events.length, batches, tooLarge, sendOptions);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  function packRows(connector: Connector, events: readonly unknown[]) {
    const fitting: SerializedRow[] = [];
    const tooLarge: SerializedRow[] = [];
    for (const row of events.map(rowSerializer(connector.id, connector.properties.addOnAttributes))) {
      (bodyBytes([row]) <= SERVICE_MAX_CALL_BYTES ? fitting : tooLarge).push(row);
    }
    return { batches: packBatches(fitting, maxBatchBytes), tooLarge };
  }

  async function deliver(
    connector: Connector,
    destination: DcrConfig,
    sent: number,
    queue: (SerializedRow[] | WrittenBatch)[],
    tooLarge: readonly SerializedRow[],
    { signal, notBefore }: SinkSendOptions,
  ): Promise<SendResult> {
    const upload = callFor(destination.dataCollectionEndpoint);
    const where = `${destination.dataCollectionRuleImmutableId}/${destination.streamName}`;
    const result: SendResult = {
      sent,
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

    const deadLetterRow = async (json: string, reason: string): Promise<void> => {
      const row = JSON.parse(json) as Row;
      const eventId = String(row[EVENT_ID_COLUMN]);
      const bytes = Buffer.byteLength(json);
      let location: string;
      try {
        location = await deadLetter.put({
          connectorId: connector.id,
          eventId,
          dataCollectionRuleImmutableId: destination.dataCollectionRuleImmutableId,
          streamName: destination.streamName,
          reason,
          bytes,
          row,
        });
      } catch (error) {
        throw fail(
          undefined,
          `dead-lettering record ${eventId} in ${deadLetter.location} failed: ${describeFailure(error).summary}`,
        );
      }
      result.deadLettered += 1;
      result.deadLetters.push({ eventId, bytes, reason, location });
      logger.error("Record can never be sent to Logs Ingestion; stored in the dead-letter store", {
        connectorId: connector.id,
        eventId,
        bytes,
        reason,
        location,
      });
    };

    for (const row of tooLarge) {
      await deadLetterRow(
        rowJson(row),
        `${row.bytes} bytes: larger than one call allows (${SERVICE_MAX_CALL_BYTES} bytes)`,
      );
    }

    const nextBatch = (): WrittenBatch | undefined => {
      const next = queue.shift();
      if (next === undefined) return undefined;
      if (signal?.aborted) throw fail(undefined, "aborted before the next call");
      // From here on the batch's rows are only its body's bytes.
      return Array.isArray(next) ? bodies.write(next) : next;
    };
    for (let batch = nextBatch(); batch !== undefined; batch = nextBatch()) {
      const rows = batch.ends.length;
      try {
        await upload(destination.dataCollectionRuleImmutableId, destination.streamName, batch.body, {
          abortSignal: signal,
          notBefore,
        });
        result.calls += 1;
        result.accepted += rows;
      } catch (error) {
        const failure = describeFailure(error);
        if (failure.status !== 413) throw fail(failure.status, failure.summary);
        result.calls += 1;
        if (rows === 1) {
          const json = writtenRowJson(batch, 0);
          await deadLetterRow(
            json,
            `${Buffer.byteLength(json)} bytes: rejected on its own (${failure.summary})`,
          );
        } else {
          logger.warn("Logs Ingestion rejected a batch as too large; retrying it in halves", {
            connectorId: connector.id,
            rows,
            bytes: batch.body.length,
          });
          const middle = Math.ceil(rows / 2);
          queue.unshift(bodies.slice(batch, 0, middle), bodies.slice(batch, middle, rows));
        }
      } finally {
        bodies.release(batch.body);
      }
    }
    return result;
  }

  return { send };
}
