/**
 * How a source event becomes a Logs Ingestion row: the event's own fields, the connector's
 * `addOnAttributes`, and a deterministic dedup key so a retried window's duplicates are removable in KQL.
 */
import { hash } from "node:crypto";
import { type SizedRow, sizeRow } from "./batches.ts";

/** The dedup column. Declare it (type string) in the DCR stream. Column names must start with a letter. */
export const EVENT_ID_COLUMN = "CcpEventId";
/** The column a non-object event (string, number, array, null) is wrapped in. */
export const RAW_DATA_COLUMN = "RawData";

export type Row = Record<string, unknown>;

/**
 * JSON with object keys sorted at every depth, so the same event always serializes the same way however
 * its source ordered the keys. Array order is kept (it is data). Follows JSON.stringify for everything else:
 * undefined fields are dropped, non-finite numbers and a bare undefined become null.
 */
export function canonicalJson(value: unknown): string {
  return canonicalForm(value).json;
}

interface CanonicalForm {
  json: string;
  /**
   * False when the event's own JSON may differ in length from `json`: a `toJSON` method (its result is what is
   * sorted), an object that is not plain (a boxed number serializes as `{}` here), or a `__proto__` key
   * (assigning it sets the copy's prototype, so it is not serialized).
   */
  sameLengthAsEvent: boolean;
}

/**
 * A sorted deep copy serialized by one plain `JSON.stringify`: about 40% cheaper than a replacer that sorts,
 * because the engine's fast serializer runs without a call back into JavaScript for every value.
 */
function canonicalForm(value: unknown): CanonicalForm {
  const form = { json: "", sameLengthAsEvent: true };
  form.json = JSON.stringify(sortedCopy(value, "", form)) ?? "null";
  return form;
}

/** What `JSON.stringify` with a key-sorting replacer would serialize for `value` held under `key`. */
function sortedCopy(value: unknown, key: string, form: CanonicalForm): unknown {
  if (value === null || typeof value !== "object") return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === "function") {
    form.sameLengthAsEvent = false;
    return sortedChildren(toJSON.call(value, key), form);
  }
  return sortedChildren(value, form);
}

function sortedChildren(value: unknown, form: CanonicalForm): unknown {
  if (value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item: unknown, index) => sortedCopy(item, String(index), form));
  const prototype: unknown = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) form.sameLengthAsEvent = false;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (key === "__proto__") form.sameLengthAsEvent = false;
    sorted[key] = sortedCopy((value as Record<string, unknown>)[key], key, form);
  }
  return sorted;
}

function hashedId(connectorId: string, canonical: string): string {
  // The one-shot hash: no Hash object per event (about a third cheaper than createHash).
  return hash("sha256", connectorId + canonical, "hex").slice(0, 32);
}

/** `sha256(connectorId + canonicalJson(event))`, first 32 hex characters. */
export function eventId(connectorId: string, event: unknown): string {
  return hashedId(connectorId, canonicalJson(event));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * Top-level fields are kept as they are; nested objects and arrays stay nested (a `dynamic` column in the
 * stream). Add-on attributes are written over same-named event fields (the connector's configuration wins),
 * and the dedup key over both, so a source field called `CcpEventId` cannot forge it.
 */
export function toRow(
  connectorId: string,
  event: unknown,
  addOnAttributes: Readonly<Record<string, string>>,
): Row {
  return rowOf(event, addOnAttributes, eventId(connectorId, event));
}

function rowOf(event: unknown, addOnAttributes: Readonly<Record<string, string>>, id: string): Row {
  const fields = isPlainObject(event) ? event : { [RAW_DATA_COLUMN]: event ?? null };
  return { ...fields, ...addOnAttributes, [EVENT_ID_COLUMN]: id };
}

/**
 * `toRow` and `sizeRow` for every event of one connector, serializing each event once: a row's JSON is the
 * event's own fields (the same bytes as its canonical JSON, in another order) plus the add-ons and the dedup
 * key. Rows where that does not hold (a field the add-ons replace, a non-object event) are serialized.
 */
export function rowSizer(
  connectorId: string,
  addOnAttributes: Readonly<Record<string, string>>,
): (event: unknown) => SizedRow {
  const added = { ...addOnAttributes, [EVENT_ID_COLUMN]: "0".repeat(32) };
  const addedKeys = Object.keys(added);
  // `,"name":"value"` for each added field; one comma fewer when the event has no fields of its own.
  const addedBytes = Buffer.byteLength(JSON.stringify(added)) - 1;
  return (event) => {
    const canonical = canonicalForm(event);
    const row = rowOf(event, addOnAttributes, hashedId(connectorId, canonical.json));
    const exact =
      canonical.sameLengthAsEvent &&
      isPlainObject(event) &&
      !addedKeys.some((key) => Object.hasOwn(event, key));
    if (!exact) return sizeRow(row);
    const ownBytes = canonical.json === "{}" ? 1 : Buffer.byteLength(canonical.json);
    return { row, bytes: ownBytes + addedBytes };
  };
}
