/**
 * Builds response bodies the way the definition's `response` block says the API answers (reference §5):
 * events placed so each `eventsJsonPaths` entry finds them, in the declared format, gzip where declared.
 * Also places single values (next-page tokens, flags, status) at a declared JSONPath.
 */
import { gzipSync } from "node:zlib";
import type { ResponseConfig } from "../definition/schema.ts";

export type Segment =
  | { kind: "name"; name: string }
  | { kind: "all" }
  | { kind: "index"; index: number }
  | { kind: "last" };

/** The JSONPath subset definitions use: `.a`, `..a`, `['a']`, `[*]`, `[n]`, `[-1:]`. Undefined when outside it. */
export function parsePath(path: string): Segment[] | undefined {
  if (!path.startsWith("$")) return undefined;
  const segments: Segment[] = [];
  const pattern =
    /^(?:\.{1,2}([A-Za-z0-9_@$-]+)|\.?\[\*\]|\.?\[(-?\d+)\]|\.?\[-1:\]|\.?\[['"]([^'"]+)['"]\])/;
  let rest = path.slice(1);
  while (rest !== "") {
    const match = pattern.exec(rest);
    if (match === null) return undefined;
    const [whole, name, index, quoted] = match;
    if (name !== undefined || quoted !== undefined)
      segments.push({ kind: "name", name: (name ?? quoted) as string });
    else if (index !== undefined) segments.push({ kind: "index", index: Number(index) });
    else if (whole.includes("-1:")) segments.push({ kind: "last" });
    else segments.push({ kind: "all" });
    rest = rest.slice(whole.length);
  }
  return segments;
}

/** A document in which `segments` selects exactly `events` (a name or `[*]` at the end yields the list). */
export function documentFor(segments: readonly Segment[], events: readonly unknown[]): unknown {
  const [first, ...rest] = segments;
  if (first === undefined) return [...events];
  if (first.kind === "name") return { [first.name]: documentFor(rest, events) };
  if (rest.length === 0) return [...events];
  // `[*].node`: one wrapper per event, each leading to that single event.
  return events.map((event) => single(rest, event));
}

function single(segments: readonly Segment[], value: unknown): unknown {
  const [first, ...rest] = segments;
  if (first === undefined) return value;
  if (first.kind === "name") return { [first.name]: single(rest, value) };
  return [single(rest, value)];
}

/** Deep-merges `b` into `a` (objects only), so several events paths and paging fields share one body. */
export function merge(a: unknown, b: unknown): unknown {
  if (isObject(a) && isObject(b)) {
    const out: Record<string, unknown> = { ...a };
    for (const [key, value] of Object.entries(b)) out[key] = key in out ? merge(out[key], value) : value;
    return out;
  }
  return b;
}

/** Sets `value` at a plain object path (`$.a.b`) in `document`; false when the path cannot hold it. */
export function placeValue(
  document: unknown,
  path: string,
  value: unknown,
): { document: unknown; placed: boolean } {
  const segments = parsePath(path);
  if (segments === undefined || segments.length === 0 || segments.some((s) => s.kind !== "name")) {
    return { document, placed: false };
  }
  if (!isObject(document)) return { document, placed: false };
  return { document: merge(document, single(segments, value)), placed: true };
}

export interface EncodedBody {
  body: Buffer;
  contentType: string;
  /** Set when the body is gzip because the definition says so (no Content-Encoding: CCP decompresses anyway). */
  gzip: boolean;
}

/** The body in the declared format: `document` for json and xml, the events themselves for csv and jsonlines. */
export function encodeBody(
  response: ResponseConfig,
  events: readonly Record<string, unknown>[],
  document: unknown,
): EncodedBody {
  let text: string;
  let contentType: string;
  switch (response.format) {
    case "csv":
      text = toCsv(events, response);
      contentType = "text/csv";
      break;
    case "jsonlines":
      text = events.map((event) => JSON.stringify(event)).join("\n");
      contentType = "application/x-ndjson";
      break;
    case "xml":
      // The document's single top-level key is the root element, so `$.ROOT.…` paths read as written.
      text = `<?xml version="1.0" encoding="UTF-8"?>${
        isObject(document) && Object.keys(document).length === 1
          ? Object.entries(document)
              .map(([key, value]) => toXml(value, key))
              .join("")
          : toXml(document)
      }`;
      contentType = "application/xml";
      break;
    default:
      text = JSON.stringify(document);
      contentType = "application/json";
  }
  const gzip = response.isGzipCompressed || response.compressionAlgo !== undefined;
  return { body: gzip ? gzipSync(text) : Buffer.from(text), contentType, gzip };
}

/** RFC 4180 with the declared delimiter and quote; a header line unless `hasCsvHeader` is false. */
function toCsv(events: readonly Record<string, unknown>[], response: ResponseConfig): string {
  const columns = [...new Set(events.flatMap((event) => Object.keys(event)))];
  const quote = response.csvEscape;
  const cell = (value: unknown) => {
    const text =
      value === undefined || value === null ? "" : typeof value === "string" ? value : JSON.stringify(value);
    return `${quote}${text.replaceAll(quote, quote + quote)}${quote}`;
  };
  const lines = events.map((event) =>
    columns.map((column) => cell(event[column])).join(response.csvDelimiter),
  );
  return [...(response.hasCsvHeader ? [columns.map(cell).join(response.csvDelimiter)] : []), ...lines].join(
    "\r\n",
  );
}

/** One element per property; arrays repeat their element name. */
function toXml(value: unknown, name = "root"): string {
  if (Array.isArray(value)) return value.map((item) => toXml(item, name)).join("");
  if (isObject(value)) {
    return `<${name}>${Object.entries(value)
      .map(([key, item]) => toXml(item, key))
      .join("")}</${name}>`;
  }
  const text = String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
  return `<${name}>${text}</${name}>`;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
