/**
 * The local source: two streams stored by the Logs Ingestion stand-in (src/local/ingestion-standin.ts).
 * The function side is what the local run sent; the native side is any other stored stream, by convention
 * DCR id `ccp-native` with the same stream name, written by a second run of the same connector pointed at
 * that DCR id, or by a test. Each window streams the files again and keeps only its own rows, so memory
 * holds one window, never a whole stream.
 */

import type { Window } from "../engine/types.ts";
import { streamStoredRows } from "../local/standin/row-store.ts";
import type { ColumnOptions, CompareSource, Side, SourceRow } from "./types.ts";

/** The DCR id the local native side is stored under unless told otherwise. */
export const LOCAL_NATIVE_DCR_ID = "ccp-native";

export interface StoredStream {
  /** The stand-in's `--data-dir`. */
  dataDir: string;
  dcrId: string;
  stream: string;
}

export function createLocalSource(
  streams: Record<Side, StoredStream>,
  columns: ColumnOptions,
): CompareSource {
  const readSide = async (stream: StoredStream, window: Window): Promise<SourceRow[]> => {
    const rows: SourceRow[] = [];
    for await (const stored of streamStoredRows(stream.dataDir, stream.dcrId, stream.stream)) {
      const row = toSourceRow(stored, columns);
      if (row !== undefined && row.eventTime >= window.start && row.eventTime < window.end) rows.push(row);
    }
    return rows;
  };
  return {
    description: {
      func: describe(streams.func),
      ccp: describe(streams.ccp),
    },
    readWindow: async (window) => {
      const [func, ccp] = await Promise.all([readSide(streams.func, window), readSide(streams.ccp, window)]);
      return { func, ccp };
    },
  };
}

function describe(stream: StoredStream): string {
  return `stand-in ${stream.dataDir} ${stream.dcrId}/${stream.stream}`;
}

/** Undefined when the row has no parsable event time: it belongs to no window. */
function toSourceRow(stored: Record<string, unknown>, columns: ColumnOptions): SourceRow | undefined {
  const eventTime = parseEventTime(stored[columns.timeColumn]);
  if (eventTime === undefined) return undefined;
  const key = stored[columns.keyColumn] ?? stored[columns.fallbackKeyColumn];
  return { key: key === undefined || key === null ? "" : String(key), eventTime, fields: stored };
}

function parseEventTime(value: unknown): Date | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  const time = new Date(value);
  return Number.isNaN(time.getTime()) ? undefined : time;
}
