/**
 * How a source event becomes a Logs Ingestion row: the event's own fields, the connector's
 * `addOnAttributes`, and a deterministic dedup key so a retried window's duplicates are removable in KQL.
 */
import { createHash } from "node:crypto";

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
  const json: string | undefined = JSON.stringify(value, (_key, item: unknown) => {
    if (item === null || typeof item !== "object" || Array.isArray(item)) return item;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(item).sort()) sorted[key] = (item as Record<string, unknown>)[key];
    return sorted;
  });
  return json ?? "null";
}

/** `sha256(connectorId + canonicalJson(event))`, first 32 hex characters. */
export function eventId(connectorId: string, event: unknown): string {
  return createHash("sha256")
    .update(connectorId + canonicalJson(event))
    .digest("hex")
    .slice(0, 32);
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
  const fields = isPlainObject(event) ? event : { [RAW_DATA_COLUMN]: event ?? null };
  return { ...fields, ...addOnAttributes, [EVENT_ID_COLUMN]: eventId(connectorId, event) };
}
