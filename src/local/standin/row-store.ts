/**
 * The stand-in's durable store: accepted rows as NDJSON, one file per DCR and stream. A batch is appended
 * and fsynced before the server answers 204, so a client that saw 204 can rely on the rows being on disk
 * even if either process is killed right after.
 */
import { type FileHandle, mkdir, open, readdir, readFile } from "node:fs/promises";
import path from "node:path";

/** DCR immutable ids (`dcr-<hex>`) and stream names (`Custom-X`) are used as path segments: keep them plain. */
const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function isSafeSegment(value: string): boolean {
  return SAFE_SEGMENT.test(value);
}

function rowsFile(dataDir: string, dcrId: string, stream: string): string {
  if (!isSafeSegment(dcrId) || !isSafeSegment(stream)) {
    throw new Error(`Not a plain DCR id / stream name: ${JSON.stringify(dcrId)} / ${JSON.stringify(stream)}`);
  }
  return path.join(dataDir, "rows", dcrId, `${stream}.ndjson`);
}

/**
 * Every row stored for a DCR and stream, in arrival order; empty when none were. A torn line (the stand-in
 * was killed mid-write, before it could answer 204) is skipped: no client was told it was stored.
 */
export async function readStoredRows(
  dataDir: string,
  dcrId: string,
  stream: string,
): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await readFile(rowsFile(dataDir, dcrId, stream), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const rows: Record<string, unknown>[] = [];
  for (const line of text.split("\n")) {
    const row = parseLine(line);
    if (row !== undefined) rows.push(row);
  }
  return rows;
}

/**
 * The same rows as `readStoredRows`, one at a time, so a reader that keeps only some of them (the parity
 * compare keeps one window) never holds the whole stream.
 */
export async function* streamStoredRows(
  dataDir: string,
  dcrId: string,
  stream: string,
): AsyncGenerator<Record<string, unknown>> {
  let handle: FileHandle;
  try {
    handle = await open(rowsFile(dataDir, dcrId, stream), "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    for await (const line of handle.readLines()) {
      const row = parseLine(line);
      if (row !== undefined) yield row;
    }
  } finally {
    await handle.close();
  }
}

function parseLine(line: string): Record<string, unknown> | undefined {
  if (line.length === 0) return undefined;
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The DCR/stream pairs that have stored rows. */
export async function listStoredStreams(dataDir: string): Promise<{ dcrId: string; stream: string }[]> {
  const root = path.join(dataDir, "rows");
  const dcrIds = await readdir(root).catch(() => [] as string[]);
  const pairs: { dcrId: string; stream: string }[] = [];
  for (const dcrId of dcrIds.sort()) {
    for (const file of (await readdir(path.join(root, dcrId))).sort()) {
      if (file.endsWith(".ndjson")) pairs.push({ dcrId, stream: file.slice(0, -".ndjson".length) });
    }
  }
  return pairs;
}

export interface RowStore {
  readonly dataDir: string;
  append(dcrId: string, stream: string, rows: readonly unknown[]): Promise<void>;
  readRows(dcrId: string, stream: string): Promise<Record<string, unknown>[]>;
  listStreams(): Promise<{ dcrId: string; stream: string }[]>;
}

export function createRowStore(dataDir: string): RowStore {
  // Appends to one file run one after another, so concurrent requests never interleave their lines.
  const tails = new Map<string, Promise<void>>();

  async function appendDurably(file: string, lines: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    const handle = await open(file, "a+");
    try {
      // After a kill mid-write the file ends inside a line: start on a fresh one so the torn part stays alone.
      const { size } = await handle.stat();
      const last = Buffer.alloc(1);
      if (size > 0) await handle.read(last, 0, 1, size - 1);
      await handle.writeFile(size > 0 && last[0] !== 0x0a ? `\n${lines}` : lines);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  return {
    dataDir,
    append(dcrId, stream, rows) {
      const file = rowsFile(dataDir, dcrId, stream);
      const lines = rows.map((row) => `${JSON.stringify(row)}\n`).join("");
      const previous = tails.get(file) ?? Promise.resolve();
      const next = previous.catch(() => undefined).then(() => appendDurably(file, lines));
      tails.set(file, next);
      return next;
    },
    readRows: (dcrId, stream) => readStoredRows(dataDir, dcrId, stream),
    listStreams: () => listStoredStreams(dataDir),
  };
}
