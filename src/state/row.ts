/**
 * The watermark row: its typed form, the plain columns an on-call reads in Storage Explorer, the one status
 * rule, and the guards that keep every value readable and well inside Table Storage's limits.
 *
 * Times are ISO strings; counts are plain numbers (Int32, or Double above 2^31 — never Int64, which the SDK
 * returns as BigInt); cleared values are empty strings, so every column is always present on every row.
 */
import type { Window } from "../engine/types.ts";
import { type Activity, decodeActivityHours, encodeActivityHours, noActivity } from "./activity.ts";
import { StateError, StateValueTooLargeError } from "./errors.ts";

export type WatermarkStatus = "Healthy" | "Lagging" | "Failing" | "Disabled";

/** What one window (or one attempt of it) did. */
export interface WindowCounts {
  fetched: number;
  extracted: number;
  sent: number;
  accepted: number;
  pages: number;
  durationMs: number;
}

export interface TotalCounts {
  fetched: number;
  sent: number;
  accepted: number;
}

export interface WatermarkRow {
  connectorId: string;
  definitionFile: string;
  definitionHash: string;
  /** When `register` last saw a different hash than the row held. */
  definitionChangedAt: Date | undefined;
  /** `queryWindowInMin` / `queryWindowDelayInMin` of the definition: the status rule needs them. */
  windowMinutes: number;
  delayMinutes: number;
  /** Non-empty = disabled (by the definition's `isActive: false` or by an operator), and why. */
  disabledReason: string;
  /** Derived from the other fields and the time of reading (see `deriveStatus`). */
  status: WatermarkStatus;
  statusReason: string;
  /** Everything before this instant is accepted by the sink. Undefined until the first commit. */
  committedThrough: Date | undefined;
  lagMinutes: number | undefined;
  windowInFlight: Window | undefined;
  windowAttempts: number;
  lastSuccessAt: Date | undefined;
  consecutiveFailures: number;
  lastErrorAt: Date | undefined;
  lastErrorKind: string;
  lastError: string;
  /** The upstream asked (429 with a long Retry-After) not to be called before this instant; runs skip until then. */
  notBefore: Date | undefined;
  lastWindow: WindowCounts;
  /** Everything the sink accepted, including duplicates from retried windows. */
  totals: TotalCounts;
  /** Persistent* paging: the cursor that goes with `committedThrough`. */
  cursor: string | undefined;
  deadLetterCount: number;
  deadLetterLocation: string;
  leaseOwner: string | undefined;
  leaseUntil: Date | undefined;
  updatedAt: Date | undefined;
  /** The last status sent as a health record (src/health): empty until the first one. Survives restarts. */
  healthLastStatus: string;
  healthLastSentAt: Date | undefined;
  /** Why the last health record could not be sent; empty once one is sent again. */
  healthLastError: string;
  /** Run history rows added since history was last pruned: a release prunes once there are enough. */
  historyRowsSincePrune: number;
  /** Events accepted and lag per hour over the last 14 days, and the last time data arrived (./activity.ts). */
  activity: Activity;
}

export interface StatusPolicy {
  /** How often the timer polls (POLL_SCHEDULE): a connector is at most this much further behind between runs. */
  pollIntervalMinutes: number;
}

export const defaultStatusPolicy: StatusPolicy = { pollIntervalMinutes: 5 };

/** Upper bounds, well under the 64 KiB per value (32K UTF-16 characters) the service enforces. */
export const limits = {
  /** The cursor is refused, never truncated: a cut cursor would silently resume from the wrong place. */
  cursorBytes: 32 * 1024,
  errorChars: 1_000,
  textChars: 2_000,
  ownerChars: 256,
} as const;

export type TableEntityValue = string | number | boolean | { value: number; type: "Double" };

export const watermarkPartition = "connector";

const int32Max = 2_147_483_647;

export function emptyRow(connectorId: string): WatermarkRow {
  const zero = { fetched: 0, extracted: 0, sent: 0, accepted: 0, pages: 0, durationMs: 0 };
  return {
    connectorId,
    definitionFile: "",
    definitionHash: "",
    definitionChangedAt: undefined,
    windowMinutes: 5,
    delayMinutes: 0,
    disabledReason: "",
    status: "Healthy",
    statusReason: "",
    committedThrough: undefined,
    lagMinutes: undefined,
    windowInFlight: undefined,
    windowAttempts: 0,
    lastSuccessAt: undefined,
    consecutiveFailures: 0,
    lastErrorAt: undefined,
    lastErrorKind: "",
    lastError: "",
    notBefore: undefined,
    lastWindow: zero,
    totals: { fetched: 0, sent: 0, accepted: 0 },
    cursor: undefined,
    deadLetterCount: 0,
    deadLetterLocation: "",
    leaseOwner: undefined,
    leaseUntil: undefined,
    updatedAt: undefined,
    healthLastStatus: "",
    healthLastSentAt: undefined,
    healthLastError: "",
    historyRowsSincePrune: 0,
    activity: noActivity,
  };
}

/**
 * The one status rule, used when writing a row and again when reading it (so a row nobody has written for a
 * day still shows its true lag):
 * - Disabled when the definition says `isActive: false` or an operator disabled it;
 * - Failing when the last attempt failed (ConsecutiveFailures > 0);
 * - Lagging when CommittedThrough is further behind than a healthy connector ever is, plus one spare window:
 *   lag > delay + 2 × window + poll interval. (Right after a run a healthy connector is at most
 *   delay + window behind — the current window is not complete — and at most one poll interval more just
 *   before the next run.) A connector never committed is not Lagging: it has not started.
 * - Healthy otherwise.
 */
export function deriveStatus(
  row: Pick<
    WatermarkRow,
    | "disabledReason"
    | "consecutiveFailures"
    | "lastErrorKind"
    | "windowInFlight"
    | "windowAttempts"
    | "committedThrough"
    | "windowMinutes"
    | "delayMinutes"
    | "notBefore"
  >,
  now: Date,
  policy: StatusPolicy = defaultStatusPolicy,
): { status: WatermarkStatus; statusReason: string; lagMinutes: number | undefined } {
  const lagMinutes = lagMinutesAt(row.committedThrough, now);
  const lagText = lagMinutes === undefined ? "nothing committed yet" : `${lagMinutes} min behind`;
  if (row.disabledReason !== "") {
    return { status: "Disabled", statusReason: row.disabledReason, lagMinutes };
  }
  if (row.consecutiveFailures > 0) {
    const window =
      row.windowInFlight === undefined
        ? ""
        : ` on window ${formatWindow(row.windowInFlight)} (attempt ${row.windowAttempts})`;
    const paused =
      row.notBefore !== undefined && row.notBefore > now
        ? `; upstream asked to wait until ${row.notBefore.toISOString()}, no request before then`
        : "";
    return {
      status: "Failing",
      statusReason: `${row.consecutiveFailures} consecutive failed attempt(s), last ${row.lastErrorKind || "error"}${window}; ${lagText}${paused}`,
      lagMinutes,
    };
  }
  const threshold = row.delayMinutes + 2 * row.windowMinutes + policy.pollIntervalMinutes;
  if (lagMinutes !== undefined && lagMinutes > threshold) {
    return {
      status: "Lagging",
      statusReason: `${lagText}; more than ${threshold} min (delay ${row.delayMinutes} + 2 windows of ${row.windowMinutes} + poll interval ${policy.pollIntervalMinutes})`,
      lagMinutes,
    };
  }
  return {
    status: "Healthy",
    statusReason: lagMinutes === undefined ? "Not polled yet" : lagText,
    lagMinutes,
  };
}

/** Whole minutes `committedThrough` is behind `now`; undefined before the first commit. */
export function lagMinutesAt(committedThrough: Date | undefined, now: Date): number | undefined {
  return committedThrough === undefined
    ? undefined
    : Math.max(0, Math.floor((now.getTime() - committedThrough.getTime()) / 60_000));
}

const windowArrow = " → ";

export function formatWindow(window: Window): string {
  return `${window.start.toISOString()}${windowArrow}${window.end.toISOString()}`;
}

/** Whether someone other than `owner` holds an unexpired lease (on a watermark row or a fan-out range). */
export function leaseHeldByAnother(
  lease: { leaseOwner: string | undefined; leaseUntil: Date | undefined },
  owner: string,
  now: Date,
): boolean {
  return (
    lease.leaseOwner !== undefined &&
    lease.leaseOwner !== owner &&
    lease.leaseUntil !== undefined &&
    lease.leaseUntil.getTime() > now.getTime()
  );
}

export function sameWindow(a: Window | undefined, b: Window): boolean {
  return a !== undefined && a.start.getTime() === b.start.getTime() && a.end.getTime() === b.end.getTime();
}

/** Cuts descriptive text to `maxChars`, saying so; for values where a shortened text is still true. */
export function limitText(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  const note = ` … (truncated from ${text.length} characters)`;
  return text.slice(0, maxChars - note.length) + note;
}

export function assertCount(value: number, what: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StateError(`${what} must be a whole number from 0 to 2^53 - 1, got ${value}.`);
  }
  return value;
}

export function assertCursorFits(connectorId: string, cursor: string | undefined): void {
  // Table Storage counts strings in UTF-16: two bytes per code unit.
  if (cursor !== undefined && cursor.length * 2 > limits.cursorBytes) {
    throw new StateValueTooLargeError(
      `Connector "${connectorId}": PersistentCursor would be ${cursor.length * 2} bytes, over the ${limits.cursorBytes}-byte limit; refusing to store a truncated cursor. The window is not committed.`,
    );
  }
}

/** RowKey rules of Table Storage: no / \ # ? or control characters, at most 1 KiB. */
export function assertKeyPart(value: string, what: string): void {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused
  if (value === "" || value.length > 512 || /[/\\#?\u0000-\u001f\u007f-\u009f]/.test(value)) {
    throw new StateError(
      `${what} "${limitText(value, 80)}" cannot be a table key: expected 1–512 characters without / \\ # ? or control characters.`,
    );
  }
}

function countValue(value: number): number | { value: number; type: "Double" } {
  // A plain JSON integer above Int32 is not a valid untyped value; Double keeps it a JS number on read.
  return value > int32Max ? { value, type: "Double" } : value;
}

const isoOrEmpty = (date: Date | undefined): string => date?.toISOString() ?? "";

/** A watermark row as its table entity: the keys and one value per column. */
export type WatermarkEntity = Record<string, TableEntityValue> & { partitionKey: string; rowKey: string };

/**
 * The entity stored under `etag`, as read or as written. A write guarded by that etag sends only the columns that
 * differ from it: the stored row is exactly this one, so a Merge of the changes leaves what a Merge of every column
 * would. (A column read back with an Edm type the row does not write never compares equal, so it is sent.)
 */
export interface StoredEntity {
  etag: string;
  entity: Readonly<Record<string, unknown>>;
}

/** A row as read or written, with the entity and etag it is stored as. */
export interface StoredRow extends StoredEntity {
  row: WatermarkRow;
}

/** The row as stored: every column, in an order that reads well top to bottom. */
export function rowToEntity(
  row: WatermarkRow,
  now: Date,
  policy: StatusPolicy = defaultStatusPolicy,
): WatermarkEntity {
  const { status, statusReason, lagMinutes } = deriveStatus(row, now, policy);
  const counts = (prefix: string, source: Partial<WindowCounts>, names: readonly (keyof WindowCounts)[]) =>
    Object.fromEntries(
      names.map((name) => [
        `${prefix}${name.charAt(0).toUpperCase()}${name.slice(1)}`,
        countValue(assertCount(source[name] ?? 0, `${prefix}${name}`)),
      ]),
    );
  return {
    partitionKey: watermarkPartition,
    rowKey: row.connectorId,
    ConnectorId: row.connectorId,
    Status: status,
    StatusReason: limitText(statusReason, limits.textChars),
    CommittedThrough: isoOrEmpty(row.committedThrough),
    LagMinutes: lagMinutes === undefined ? "" : countValue(lagMinutes),
    WindowInFlight: row.windowInFlight === undefined ? "" : formatWindow(row.windowInFlight),
    WindowAttempts: countValue(assertCount(row.windowAttempts, "WindowAttempts")),
    LastSuccessAt: isoOrEmpty(row.lastSuccessAt),
    ConsecutiveFailures: countValue(assertCount(row.consecutiveFailures, "ConsecutiveFailures")),
    LastErrorAt: isoOrEmpty(row.lastErrorAt),
    LastErrorKind: limitText(row.lastErrorKind, 200),
    LastError: limitText(row.lastError, limits.errorChars),
    NotBefore: isoOrEmpty(row.notBefore),
    ...counts("LastWindow", row.lastWindow, [
      "fetched",
      "extracted",
      "sent",
      "accepted",
      "pages",
      "durationMs",
    ]),
    ...counts("Total", row.totals, ["fetched", "sent", "accepted"]),
    PersistentCursor: row.cursor ?? "",
    DeadLetterCount: countValue(assertCount(row.deadLetterCount, "DeadLetterCount")),
    DeadLetterLocation: limitText(row.deadLetterLocation, limits.textChars),
    LeaseOwner: row.leaseOwner ?? "",
    LeaseUntil: isoOrEmpty(row.leaseUntil),
    DefinitionFile: limitText(row.definitionFile, limits.textChars),
    DefinitionHash: limitText(row.definitionHash, 200),
    DefinitionChangedAt: isoOrEmpty(row.definitionChangedAt),
    WindowMinutes: countValue(assertCount(row.windowMinutes, "WindowMinutes")),
    DelayMinutes: countValue(assertCount(row.delayMinutes, "DelayMinutes")),
    DisabledReason: limitText(row.disabledReason, limits.textChars),
    HealthLastStatus: limitText(row.healthLastStatus, 50),
    HealthLastSentAt: isoOrEmpty(row.healthLastSentAt),
    HealthLastError: limitText(row.healthLastError, limits.errorChars),
    HistoryRowsSincePrune: countValue(assertCount(row.historyRowsSincePrune, "HistoryRowsSincePrune")),
    LastDataAt: isoOrEmpty(row.activity.lastDataAt),
    ActivityHours: encodeActivityHours(row.activity.hours),
    UpdatedAt: isoOrEmpty(row.updatedAt),
  };
}

/** Reads a stored row back, tolerating hand edits in Storage Explorer (Int64 counts, times without ms). */
export function entityToRow(
  entity: Readonly<Record<string, unknown>>,
  now: Date,
  policy: StatusPolicy = defaultStatusPolicy,
): WatermarkRow {
  const connectorId = String(entity.rowKey ?? "");
  const where = (column: string) => `Watermark row "${connectorId}", column ${column}`;
  const text = (column: string): string => {
    const value = entity[column];
    return value === undefined || value === null ? "" : String(value);
  };
  const time = (column: string): Date | undefined => {
    const value = text(column);
    if (value === "") return undefined;
    const date = new Date(value);
    if (Number.isNaN(date.getTime())) {
      throw new StateError(
        `${where(column)}: expected an ISO time such as 2026-01-31T00:00:00Z, got "${value}".`,
      );
    }
    return date;
  };
  const count = (column: string): number => {
    const value = entity[column];
    if (value === undefined || value === null || value === "") return 0;
    const number = typeof value === "bigint" || typeof value === "string" ? Number(value) : value;
    if (typeof number !== "number" || !Number.isSafeInteger(number) || number < 0) {
      throw new StateError(
        `${where(column)}: expected a whole number from 0 to 2^53 - 1, got "${String(value)}".`,
      );
    }
    return number;
  };
  const windowInFlight = (): Window | undefined => {
    const value = text("WindowInFlight");
    if (value === "") return undefined;
    const [start, end] = value.split(windowArrow).map((part) => new Date(part));
    if (
      start === undefined ||
      end === undefined ||
      Number.isNaN(start.getTime()) ||
      Number.isNaN(end.getTime())
    ) {
      throw new StateError(
        `${where("WindowInFlight")}: expected "<ISO start>${windowArrow}<ISO end>", got "${value}".`,
      );
    }
    return { start, end };
  };
  const cursor = text("PersistentCursor");
  const leaseOwner = text("LeaseOwner");
  const base: Omit<WatermarkRow, "status" | "statusReason" | "lagMinutes"> = {
    connectorId,
    definitionFile: text("DefinitionFile"),
    definitionHash: text("DefinitionHash"),
    definitionChangedAt: time("DefinitionChangedAt"),
    windowMinutes: count("WindowMinutes"),
    delayMinutes: count("DelayMinutes"),
    disabledReason: text("DisabledReason"),
    committedThrough: time("CommittedThrough"),
    windowInFlight: windowInFlight(),
    windowAttempts: count("WindowAttempts"),
    lastSuccessAt: time("LastSuccessAt"),
    consecutiveFailures: count("ConsecutiveFailures"),
    lastErrorAt: time("LastErrorAt"),
    lastErrorKind: text("LastErrorKind"),
    lastError: text("LastError"),
    notBefore: time("NotBefore"),
    lastWindow: {
      fetched: count("LastWindowFetched"),
      extracted: count("LastWindowExtracted"),
      sent: count("LastWindowSent"),
      accepted: count("LastWindowAccepted"),
      pages: count("LastWindowPages"),
      durationMs: count("LastWindowDurationMs"),
    },
    totals: { fetched: count("TotalFetched"), sent: count("TotalSent"), accepted: count("TotalAccepted") },
    cursor: cursor === "" ? undefined : cursor,
    deadLetterCount: count("DeadLetterCount"),
    deadLetterLocation: text("DeadLetterLocation"),
    leaseOwner: leaseOwner === "" ? undefined : leaseOwner,
    leaseUntil: time("LeaseUntil"),
    updatedAt: time("UpdatedAt"),
    healthLastStatus: text("HealthLastStatus"),
    healthLastSentAt: time("HealthLastSentAt"),
    healthLastError: text("HealthLastError"),
    historyRowsSincePrune: count("HistoryRowsSincePrune"),
    // A row written before these columns existed reads as no activity yet.
    activity: { lastDataAt: time("LastDataAt"), hours: decodeActivityHours(text("ActivityHours")) },
  };
  return { ...base, ...deriveStatus(base, now, policy) };
}
