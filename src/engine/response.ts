/**
 * Turns a response into events (reference §5): decompress, parse the format, check
 * `successStatusJsonPath`, apply `eventsJsonPaths`.
 *
 * - Compression: gzip (also concatenated members) when `isGzipCompressed`, `compressionAlgo` gzip or
 *   multi-gzip, `Content-Encoding: gzip`, or the gzip magic bytes; deflate (zlib or raw) when configured
 *   or announced.
 * - Formats (§9 A20): json (empty body = no events); jsonlines (one JSON value per non-blank line → an
 *   array); csv (RFC 4180 via csv-parse; with a header row each row is an object keyed by the header,
 *   without one the keys are `column1..N`); xml (fast-xml-parser, attributes as `@_name`). JSONPaths apply
 *   to the parsed document in every format.
 * - `eventsJsonPaths`: matches of each path in order, concatenated; `convertChildPropertiesToArray` turns an
 *   object match into its property values (LastPass returns events keyed by id).
 * - The contract (stricter than native CCP, which stores whatever the path yields and reads a missing path as
 *   no events): events are objects. A list contributes its items, which must be objects; an object is one event
 *   only where the path selects elements (`$.data[*]`, a filter) or in XML, where one child element parses as
 *   an object rather than a list; a plain path (`$`, `$.value`) that yields an object is an error body or a wrong
 *   path. When no path matches anything, the page counts as empty only if the body holds no list anywhere and no
 *   error key (Google Workspace omits `items` on an empty report); otherwise the events were somewhere the
 *   definition does not look, and the window fails rather than commit without them.
 */

import { createRequire } from "node:module";
import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import type { ResponseConfig } from "../definition/schema.ts";
import { EngineError } from "./errors.ts";
import { firstJsonPath, isMemberChain, isRecord, queryJsonPath } from "./jsonpath.ts";
import { excerpt, safeUrl } from "./redact.ts";
import type { HttpResponse } from "./types.ts";

export interface DecodedResponse {
  /** The parsed body (JSON value, CSV rows, XML tree). */
  document: unknown;
  events: unknown[];
}

/** The body could not be decoded or parsed, or the API reported failure in a 2xx body. */
export class ResponseFormatError extends EngineError {}

// CSV and XML parsers load on the first such response: most connectors are JSON, and a process polling only
// JSON then carries neither (fast-xml-parser alone adds megabytes of resident memory).
const require = createRequire(import.meta.url);
let csvParser: typeof import("csv-parse/sync")["parse"] | undefined;
let xml:
  | { parser: import("fast-xml-parser").XMLParser; validator: typeof import("fast-xml-parser").XMLValidator }
  | undefined;

function parseCsv(text: string, options: import("csv-parse/sync").Options): unknown {
  csvParser ??= (require("csv-parse/sync") as typeof import("csv-parse/sync")).parse;
  return csvParser(text, options);
}

function xmlModule(): NonNullable<typeof xml> {
  if (xml === undefined) {
    const { XMLParser, XMLValidator } = require("fast-xml-parser") as typeof import("fast-xml-parser");
    xml = {
      parser: new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@_", parseTagValue: true }),
      validator: XMLValidator,
    };
  }
  return xml;
}

export function decodeResponse(
  config: ResponseConfig,
  response: HttpResponse,
  secrets: readonly string[] = [],
): DecodedResponse {
  const { document, text } = decodeBody(config, response, secrets);
  const events = extractEvents(config, document);
  if (typeof events === "string")
    throw formatError(response, secrets, `does not fit the definition: ${events}`, text);
  return { document, events };
}

/**
 * The parsed body, its `successStatusJsonPath` checked, and the text it was parsed from. Nested steps read
 * records from it their own way (a detail object or a list of ids is a record there, not an error body).
 */
export function decodeBody(
  config: ResponseConfig,
  response: HttpResponse,
  secrets: readonly string[] = [],
): { document: unknown; text: string } {
  const fail = (problem: string, shown: Buffer | string = response.body) =>
    formatError(response, secrets, problem, shown);

  let raw: Buffer;
  try {
    raw = decompress(config, response);
  } catch (error) {
    throw fail(`could not be decompressed (${(error as Error).message})`);
  }
  const text = raw.toString("utf8").replace(/^\uFEFF/, "");
  const document = parseDocument(config, text, (problem) => fail(problem, text));

  if (config.successStatusJsonPath) {
    const status = firstJsonPath(document, config.successStatusJsonPath);
    if (config.successStatusValue !== undefined && String(status) !== config.successStatusValue) {
      throw new ResponseFormatError(
        "response-status",
        `${safeUrl(response.url, secrets)} returned HTTP ${response.status} with ${config.successStatusJsonPath} = ` +
          `${excerpt(JSON.stringify(status) ?? "undefined", secrets)}, expected ${JSON.stringify(config.successStatusValue)}`,
      );
    }
  }
  return { document, text };
}

function formatError(
  response: HttpResponse,
  secrets: readonly string[],
  problem: string,
  shown: Buffer | string,
): ResponseFormatError {
  return new ResponseFormatError(
    "response-format",
    `${safeUrl(response.url, secrets)} returned HTTP ${response.status} ` +
      `(${response.headers["content-type"] ?? "no content type"}) that ${problem}: ${excerpt(shown, secrets) || "(empty body)"}`,
  );
}

/** The events at the definition's paths, or why the document does not fit them (see the contract above). */
export function extractEvents(config: ResponseConfig, document: unknown): unknown[] | string {
  if (document === undefined) return [];
  const events: unknown[] = [];
  let matched = false;
  for (const path of config.eventsJsonPaths) {
    const selectsElements = !isMemberChain(path) || config.format === "xml";
    for (const match of queryJsonPath(document, path)) {
      if (match === null) continue; // `"value": null` is how some APIs spell an empty list
      matched = true;
      const keyed = config.convertChildPropertiesToArray && isRecord(match);
      if (Array.isArray(match) || keyed) {
        const items = Array.isArray(match) ? match : Object.values(match);
        const odd = items.findIndex((item) => !isRecord(item));
        if (odd >= 0)
          return `eventsJsonPaths ${path} selected a list whose item ${odd + 1} is ${kindOf(items[odd])}, expected event objects`;
        for (const item of items) events.push(item);
      } else if (isRecord(match) && selectsElements) {
        events.push(match);
      } else {
        return `eventsJsonPaths ${path} selected ${kindOf(match)}, expected a list of events`;
      }
    }
  }
  if (matched) return events;
  const why = notPlainlyEmpty(document);
  return why === undefined
    ? events
    : `eventsJsonPaths ${config.eventsJsonPaths.join(", ")} matched nothing, and the body is not a plain empty result (${why})`;
}

const errorKey = /^(errors?|fault|exception|error[_-]?(code|message|description|summary))$/i;

/** Why a body whose events path matched nothing still looks like it carried something: an error, or a list. */
function notPlainlyEmpty(document: unknown): string | undefined {
  if (!isRecord(document)) return Array.isArray(document) ? undefined : `the body is ${kindOf(document)}`;
  const errors = Object.keys(document).filter((key) => errorKey.test(key));
  if (errors.length > 0) return `keys: ${Object.keys(document).slice(0, 10).join(", ")}`;
  const list = firstList(document, "$", 4);
  return list === undefined ? undefined : `${list.path} holds a list of ${list.length}`;
}

function firstList(
  value: unknown,
  path: string,
  depth: number,
): { path: string; length: number } | undefined {
  if (Array.isArray(value)) return value.length > 0 ? { path, length: value.length } : undefined;
  if (!isRecord(value) || depth === 0) return undefined;
  for (const [key, child] of Object.entries(value)) {
    const found = firstList(
      child,
      /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}['${key}']`,
      depth - 1,
    );
    if (found) return found;
  }
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (isRecord(value)) return "an object";
  return `a ${typeof value}`;
}

function decompress(config: ResponseConfig, response: HttpResponse): Buffer {
  const body = response.body;
  const encoding = (response.headers["content-encoding"] ?? "").toLowerCase();
  const isGzipBytes = body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
  const gzip =
    config.isGzipCompressed || config.compressionAlgo === "gzip" || config.compressionAlgo === "multi-gzip";
  if (isGzipBytes && (gzip || encoding.includes("gzip") || config.compressionAlgo === undefined)) {
    return gunzipSync(body); // Node inflates every concatenated member, so multi-gzip needs nothing more.
  }
  if (config.compressionAlgo === "deflate" || encoding.includes("deflate")) {
    try {
      return inflateSync(body);
    } catch {
      return inflateRawSync(body);
    }
  }
  if (gzip && body.length > 0) return gunzipSync(body);
  return body;
}

function parseDocument(config: ResponseConfig, text: string, fail: (problem: string) => Error): unknown {
  switch (config.format) {
    case "json": {
      if (text.trim() === "") return undefined;
      try {
        return JSON.parse(text);
      } catch (error) {
        throw fail(`is not valid JSON (${(error as Error).message})`);
      }
    }
    case "jsonlines": {
      const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
      return lines.map((line, index) => {
        try {
          return JSON.parse(line);
        } catch {
          throw fail(`is not valid JSON lines (line ${index + 1})`);
        }
      });
    }
    case "csv": {
      try {
        const rows = parseCsv(text, {
          columns: config.hasCsvHeader,
          delimiter: config.csvDelimiter,
          escape: config.csvEscape,
          quote: '"',
          skip_empty_lines: true,
          bom: true,
        }) as Array<Record<string, string> | string[]>;
        if (config.hasCsvHeader) return rows;
        return (rows as string[][]).map((row) =>
          Object.fromEntries(row.map((v, i) => [`column${i + 1}`, v])),
        );
      } catch (error) {
        throw fail(`is not valid CSV (${(error as Error).message})`);
      }
    }
    case "xml": {
      if (text.trim() === "") return undefined;
      const { parser, validator } = xmlModule();
      const valid = validator.validate(text);
      if (valid !== true) throw fail(`is not valid XML (${valid.err.msg} at line ${valid.err.line})`);
      return parser.parse(text);
    }
  }
}
