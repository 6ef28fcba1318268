/**
 * Packing rows into upload calls. Each batch is sent as one `upload` call, and its JSON array body is kept
 * at or under the SDK's own chunk size, so the SDK never splits it further: one batch is exactly one HTTP
 * call, and a failed call means exactly that batch was not accepted.
 */
import type { SizedRow } from "./rows.ts";

/** The service limit per call (compressed or uncompressed): 1 MiB. A row that cannot fit is dead-lettered. */
export const SERVICE_MAX_CALL_BYTES = 1_048_576;
/** `@azure/monitor-ingestion` starts a new chunk before its records reach this many bytes. */
export const SDK_CHUNK_BYTES = 1_000_000;

/** Bytes of the JSON array body that carries these rows: brackets, rows and the commas between them. */
export function bodyBytes(rows: readonly SizedRow[]): number {
  let total = 2 + Math.max(rows.length - 1, 0);
  for (const { bytes } of rows) total += bytes;
  return total;
}

/** Greedy, order-keeping packing; a row larger than `maxBatchBytes` travels alone. */
export function packBatches(rows: readonly SizedRow[], maxBatchBytes: number): SizedRow[][] {
  const batches: SizedRow[][] = [];
  let current: SizedRow[] = [];
  let currentBytes = 2;
  for (const row of rows) {
    if (current.length > 0 && currentBytes + 1 + row.bytes > maxBatchBytes) {
      batches.push(current);
      current = [];
      currentBytes = 2;
    }
    currentBytes += row.bytes + (current.length > 0 ? 1 : 0);
    current.push(row);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** The two halves a 413-rejected batch is retried as. */
export function halve(batch: readonly SizedRow[]): [SizedRow[], SizedRow[]] {
  const middle = Math.ceil(batch.length / 2);
  return [batch.slice(0, middle), batch.slice(middle)];
}
