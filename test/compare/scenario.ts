/**
 * Jira audit rows for both sides of a compare, with seeded differences. Three 5-minute windows from 10:00
 * (the shipped jira-audit connector's queryWindowInMin), four records each: ids 1–4, 5–8, 9–12.
 * func rows are what ccp-poller sends (`toRow`, hashed CcpEventId); ccp rows carry the native path's
 * `jira-audit:<id>` dedup key, so CcpEventId differs on every record, as it does in Azure.
 */
import { toRow } from "../../src/sink/rows.ts";
import { type JiraRecord, jiraRecords } from "../fakes/jira.ts";

export const FROM = "2026-01-01T10:00:00.000Z";
export const TO = "2026-01-01T10:15:00.000Z";
export const WINDOW_STARTS = [
  "2026-01-01T10:00:00.000Z",
  "2026-01-01T10:05:00.000Z",
  "2026-01-01T10:10:00.000Z",
];

export type Seed = "missingPage" | "duplicatedPage" | "transformedField" | "shiftedBoundary";

export interface SeededRows {
  func: Record<string, unknown>[];
  ccp: Record<string, unknown>[];
}

function records(): JiraRecord[] {
  return jiraRecords(12, "2026-01-01T10:00:30Z", 75).map((record) => ({
    ...record,
    objectItem: { id: `user-${record.id}`, name: `User ${record.id}`, typeName: "USER" },
  }));
}

const funcRow = (record: JiraRecord) => toRow("jira-audit", record, {});
const ccpRow = (record: JiraRecord) => ({ ...record, CcpEventId: `jira-audit:${record.id}` });

/** Both sides hold every record; each seed then breaks one thing. */
export function seededRows(...seeds: Seed[]): SeededRows {
  const all = records();
  let func = all.map(funcRow);
  // The same records, objects serialized in another key order: not a difference.
  let ccp = all.map((record) => ccpRow({ ...record, objectItem: reversedKeys(record.objectItem) }));
  if (seeds.includes("missingPage")) {
    // The native side lost the page holding ids 3 and 4 (a page of 2, first window).
    ccp = ccp.filter((row) => row.id !== 3 && row.id !== 4);
  }
  if (seeds.includes("duplicatedPage")) {
    // ccp-poller retried a window and sent the page with ids 5 and 6 again.
    func = [...func, ...func.filter((row) => row.id === 5 || row.id === 6)];
  }
  if (seeds.includes("transformedField")) {
    // The native path changed one field of id 9.
    ccp = ccp.map((row) => (row.id === 9 ? { ...row, summary: "USER CREATED 9" } : row));
  }
  if (seeds.includes("shiftedBoundary")) {
    // id 13 happened at 10:09:59.600; the native side rounded it to the second, into the next window.
    const record: JiraRecord = { id: 13, summary: "User created 13", created: "2026-01-01T10:09:59.600Z" };
    func = [...func, funcRow(record)];
    ccp = [...ccp, ccpRow({ ...record, created: "2026-01-01T10:10:00.000Z" })];
  }
  return { func, ccp };
}

function reversedKeys(value: unknown): unknown {
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).reverse());
}
