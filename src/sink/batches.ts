/**
 * Packing rows into upload calls: one batch is exactly one HTTP call, its JSON array body at or under the
 * batch limit, and a failed call means exactly that batch was not accepted.
 */
import type { SerializedRow } from "./rows.ts";

/** The service limit per call (compressed or uncompressed): 1 MiB. A row that cannot fit is dead-lettered. */
export const SERVICE_MAX_CALL_BYTES = 1_048_576;
/** The largest batch body: the chunk size `LogsIngestionClient.upload` keeps to, under the service limit. */
export const MAX_BATCH_BYTES = 1_000_000;

/**
 * A batch once its body is written: its rows live on only as bytes, so a page's row strings die as soon as its
 * body exists instead of surviving, while its upload waits, into V8's old generation (most of the (c) bench's
 * peak RSS and half its garbage-collection time). `ends` says where each row's JSON ends in `body` (the next
 * row starts after the comma), so a 413 can split the batch and a row be dead-lettered from those bytes.
 */
export interface WrittenBatch {
  body: Buffer;
  ends: Uint32Array;
}

/**
 * The JSON array body that carries these rows, written straight from each row's parts into one buffer: no joined
 * string to copy again into bytes (together about a tenth of the pipeline's CPU).
 */
export function batchBody(
  rows: readonly SerializedRow[],
  body: Buffer = Buffer.allocUnsafe(bodyBytes(rows)),
): WrittenBatch {
  const ends = new Uint32Array(rows.length);
  let offset = 0;
  body[offset++] = 0x5b; // [
  for (const [index, row] of rows.entries()) {
    if (offset > 1) body[offset++] = 0x2c; // ,
    offset += body.write(row.json, offset);
    // The tail goes over the event's closing brace.
    if (row.tail !== "") offset += body.write(row.tail, offset - 1) - 1;
    ends[index] = offset;
  }
  body[offset++] = 0x5d; // ]
  if (offset !== body.length) throw new Error(`batch body is ${offset} bytes, sized for ${body.length}`);
  return { body, ends };
}

/** Where row `index` of a written batch starts in its body. */
function rowStart(batch: WrittenBatch, index: number): number {
  return index === 0 ? 1 : (batch.ends[index - 1] as number) + 1;
}

/** Row `index`'s JSON, read back from the batch's body. */
export function writtenRowJson(batch: WrittenBatch, index: number): string {
  return batch.body.toString("utf8", rowStart(batch, index), batch.ends[index]);
}

export interface BodyBuffers {
  /** `batchBody(rows)`, in a reused buffer when the body fits one. */
  write(rows: readonly SerializedRow[]): WrittenBatch;
  /** Rows `from` to `to` (exclusive) of a written batch as a batch of their own, copied from its bytes. */
  slice(batch: WrittenBatch, from: number, to: number): WrittenBatch;
  /** Hands a body's buffer back once its call is over: never while the call may still read it. */
  release(body: Buffer): void;
}

/**
 * Buffers of `size` bytes for batch bodies, reused once their call is over. Each upload would otherwise leave up
 * to a megabyte of garbage that the process keeps until V8 collects it (about 15 MB of the (c) bench's peak RSS).
 * `keep`: how many free buffers are kept (two uploads are in flight per connector).
 */
export function createBodyBuffers(size: number, keep = 4): BodyBuffers {
  const free: Buffer[] = [];
  const take = (bytes: number): Buffer =>
    bytes > size ? Buffer.allocUnsafe(bytes) : (free.pop() ?? Buffer.allocUnsafe(size)).subarray(0, bytes);
  return {
    write(rows) {
      return batchBody(rows, take(bodyBytes(rows)));
    },
    slice(batch, from, to) {
      const start = rowStart(batch, from);
      const end = batch.ends[to - 1] as number;
      const body = take(end - start + 2);
      body[0] = 0x5b; // [
      batch.body.copy(body, 1, start, end);
      body[body.length - 1] = 0x5d; // ]
      return { body, ends: batch.ends.slice(from, to).map((rowEnd) => rowEnd - start + 1) };
    },
    release(body) {
      // Only whole buffers this pool made (a larger body got one of its own).
      if (body.byteOffset !== 0 || body.buffer.byteLength !== size || free.length >= keep) return;
      free.push(Buffer.from(body.buffer, 0, size));
    },
  };
}

/** Bytes of the JSON array body that carries these rows: brackets, rows and the commas between them. */
export function bodyBytes(rows: readonly SerializedRow[]): number {
  let total = 2 + Math.max(rows.length - 1, 0);
  for (const { bytes } of rows) total += bytes;
  return total;
}

/** Greedy, order-keeping packing; a row larger than `maxBatchBytes` travels alone. */
export function packBatches(rows: readonly SerializedRow[], maxBatchBytes: number): SerializedRow[][] {
  const batches: SerializedRow[][] = [];
  let current: SerializedRow[] = [];
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
