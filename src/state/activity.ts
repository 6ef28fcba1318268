/**
 * Ingestion over time, kept inside the watermark row so the status page can chart 14 days without reading the
 * run history: one bucket per UTC hour (events accepted, the largest lag a write saw), rolled forward by the
 * writes the lease already makes (commit and fail), so keeping it costs no table call.
 *
 * Stored as one compact string column (`encodeActivityHours`): at most 336 hourly entries of base-36 numbers,
 * so at most 8,070 characters (16 KB in UTF-16, a quarter of the 64 KiB property limit) and 2,000–2,600
 * characters (4–5 KB) for a connector taking thousands to hundreds of thousands of events an hour.
 */

export const hourMs = 3_600_000;
/** 14 days of hours, the span the native connector page charts. */
export const activityHours = 14 * 24;

export interface HourBucket {
  /** Start of the UTC hour, in milliseconds since the epoch. */
  hour: number;
  /** Events the sink accepted in writes made during this hour. */
  accepted: number;
  /** The largest lag (minutes CommittedThrough was behind) a write saw in this hour; undefined before any commit. */
  maxLagMinutes: number | undefined;
}

export interface Activity {
  /** The last write that had events accepted. */
  lastDataAt: Date | undefined;
  /** Hours with at least one write, oldest first, none more than `activityHours` before the newest. */
  hours: readonly HourBucket[];
}

export const noActivity: Activity = { lastDataAt: undefined, hours: [] };

const hourOf = (time: Date | number): number => Math.floor(new Date(time).getTime() / hourMs) * hourMs;

/** Adds one write (a committed window or a failed attempt) to the hour of `now`; older hours drop off. */
export function recordActivity(
  activity: Activity,
  now: Date,
  accepted: number,
  lagMinutes: number | undefined,
): Activity {
  const hour = hourOf(now);
  const existing = activity.hours.find((bucket) => bucket.hour === hour);
  const bucket: HourBucket = {
    hour,
    accepted: (existing?.accepted ?? 0) + accepted,
    maxLagMinutes: maxOf(existing?.maxLagMinutes, lagMinutes),
  };
  const hours = [...activity.hours.filter((other) => other.hour !== hour), bucket].sort(
    (a, b) => a.hour - b.hour,
  );
  // Relative to the newest hour, not `now`: a writer whose clock is behind never keeps more than 14 days.
  const oldest = (hours.at(-1)?.hour ?? hour) - (activityHours - 1) * hourMs;
  return {
    lastDataAt: accepted > 0 ? now : activity.lastDataAt,
    hours: hours.filter((other) => other.hour >= oldest),
  };
}

function maxOf(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined ? b : b === undefined ? a : Math.max(a, b);
}

/**
 * `<first hour>:<entry>,<entry>,…`, one entry per hour from the first to the last bucket: empty when the hour
 * had no write, else `<accepted>` or `<accepted>.<max lag minutes>`, all in base 36 (hours since the epoch
 * for the first hour). Empty string for no buckets.
 */
export function encodeActivityHours(hours: readonly HourBucket[]): string {
  const first = hours[0];
  const last = hours.at(-1);
  if (first === undefined || last === undefined) return "";
  const byHour = new Map(hours.map((bucket) => [bucket.hour, bucket]));
  const entries: string[] = [];
  for (let hour = first.hour; hour <= last.hour; hour += hourMs) {
    const bucket = byHour.get(hour);
    entries.push(
      bucket === undefined
        ? ""
        : bucket.maxLagMinutes === undefined
          ? bucket.accepted.toString(36)
          : `${bucket.accepted.toString(36)}.${bucket.maxLagMinutes.toString(36)}`,
    );
  }
  return `${(first.hour / hourMs).toString(36)}:${entries.join(",")}`;
}

/**
 * The buckets back from `encodeActivityHours`. A value that does not parse (a hand edit) reads as no buckets:
 * the chart is only a view, so it must never stop a connector from running; the next write starts it again.
 */
export function decodeActivityHours(text: string): HourBucket[] {
  const match = /^([0-9a-z]+):(.*)$/.exec(text);
  if (match === null) return [];
  const firstHour = parseBase36(match[1] ?? "");
  const entries = (match[2] ?? "").split(",");
  if (firstHour === undefined || entries.length > activityHours) return [];
  const hours: HourBucket[] = [];
  for (const [index, entry] of entries.entries()) {
    if (entry === "") continue;
    const [acceptedText = "", lagText, ...rest] = entry.split(".");
    const accepted = parseBase36(acceptedText);
    const maxLagMinutes = lagText === undefined ? undefined : parseBase36(lagText);
    if (accepted === undefined || (lagText !== undefined && maxLagMinutes === undefined) || rest.length > 0)
      return [];
    hours.push({ hour: (firstHour + index) * hourMs, accepted, maxLagMinutes });
  }
  return hours;
}

function parseBase36(text: string): number | undefined {
  if (!/^[0-9a-z]{1,11}$/.test(text)) return undefined;
  const value = Number.parseInt(text, 36);
  return Number.isSafeInteger(value) ? value : undefined;
}

/** The 14 days up to the hour of `now`, one entry per hour; null where the hour had no write. */
export interface HourlySeries {
  /** Start of the first hour; the last entry is the hour holding `now`. */
  from: Date;
  accepted: (number | null)[];
  maxLagMinutes: (number | null)[];
}

export function hourlySeries(activity: Activity, now: Date): HourlySeries {
  const from = hourOf(now) - (activityHours - 1) * hourMs;
  const accepted: (number | null)[] = new Array(activityHours).fill(null);
  const maxLagMinutes: (number | null)[] = new Array(activityHours).fill(null);
  for (const bucket of activity.hours) {
    const index = (bucket.hour - from) / hourMs;
    if (index < 0 || index >= activityHours) continue;
    accepted[index] = bucket.accepted;
    maxLagMinutes[index] = bucket.maxLagMinutes ?? null;
  }
  return { from: new Date(from), accepted, maxLagMinutes };
}

/** The silent-drop rule's numbers; `silentDropRule` says them in words. */
export const silentDropPolicy = { recentHours: 3, belowFraction: 0.1, minDays: 3, minUsual: 10 } as const;

export const silentDropRule =
  `Silent drop: a Healthy connector that accepted less than ${silentDropPolicy.belowFraction * 100}% of its usual volume ` +
  `in the last ${silentDropPolicy.recentHours} full hours, usual being the median for the same hours of the day on ` +
  `the previous days that had runs then (needs at least ${silentDropPolicy.minDays} such days and a median of at ` +
  `least ${silentDropPolicy.minUsual} events).`;

/**
 * Why a connector is marked as a silent drop (`silentDropRule`), or undefined. Same hours of the day, because
 * most sources are quieter at night than at noon. The current hour is left out: it has only just begun.
 */
export function silentDrop(series: HourlySeries, healthy: boolean): string | undefined {
  const { recentHours, belowFraction, minDays, minUsual } = silentDropPolicy;
  if (!healthy) return undefined;
  const end = series.accepted.length - 1; // the current hour, excluded
  const sumOf = (from: number) => {
    const slice = series.accepted.slice(from, from + recentHours);
    return slice.every((value) => value === null)
      ? undefined
      : slice.reduce<number>((a, v) => a + (v ?? 0), 0);
  };
  const recent = sumOf(end - recentHours) ?? 0;
  const days: number[] = [];
  for (let from = end - recentHours - 24; from >= 0; from -= 24) {
    const day = sumOf(from);
    if (day !== undefined) days.push(day);
  }
  if (days.length < minDays) return undefined;
  const usual = median(days);
  if (usual < minUsual || recent >= usual * belowFraction) return undefined;
  return `${recent} events accepted in the last ${recentHours} full hours; usually ${usual} (median of ${days.length} previous days)`;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}
