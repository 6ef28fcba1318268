/**
 * Records of a nested step's response (reference §7.2 step 2): the matches of `eventsJsonPaths`, a list
 * contributing its items. Unlike a single-step page, one object at a plain path is a record (a detail
 * call's `$.ds_connection`, ESET's whole `$` body) and a record need not be an object (CrowdStrike's ids):
 * the placeholder query reads it. What a leaf step sends must still be event objects (`leafEvents`).
 */
import type { ResponseConfig } from "../definition/schema.ts";
import { EngineError } from "../engine/errors.ts";
import { queryJsonPath } from "../engine/jsonpath.ts";

export function extractRecords(config: ResponseConfig, document: unknown): unknown[] {
  const records: unknown[] = [];
  for (const path of config.eventsJsonPaths) {
    for (const match of queryJsonPath(document, path)) {
      if (match === null || match === undefined) continue;
      if (Array.isArray(match)) records.push(...match);
      else if (config.convertChildPropertiesToArray && typeof match === "object")
        records.push(...Object.values(match));
      else records.push(match);
    }
  }
  return records;
}

/** The records a step sends as events: each must be an object, as the sink stores fields of objects. */
export function leafEvents(stepKey: string, records: unknown[]): Record<string, unknown>[] {
  const odd = records.findIndex(
    (record) => typeof record !== "object" || record === null || Array.isArray(record),
  );
  if (odd >= 0) {
    throw new EngineError(
      "response-format",
      `step ${stepKey}: record ${odd + 1} is ${Array.isArray(records[odd]) ? "a list" : `a ${typeof records[odd]}`}, expected event objects (check its eventsJsonPaths)`,
    );
  }
  return records as Record<string, unknown>[];
}
