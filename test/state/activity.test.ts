/** The hourly activity kept in the watermark row: rolled by the clock, stored compactly, judged for silent drops. */
import { describe, expect, it } from "vitest";
import {
  type Activity,
  activityHours,
  decodeActivityHours,
  encodeActivityHours,
  type HourBucket,
  hourlySeries,
  hourMs,
  noActivity,
  recordActivity,
  silentDrop,
} from "../../src/state/activity.ts";

const t0 = Date.parse("2026-03-01T00:00:00Z");
const at = (hours: number, minutes = 0) => new Date(t0 + hours * hourMs + minutes * 60_000);

describe("recordActivity", () => {
  it("adds the events of every write in an hour and keeps the largest lag seen", () => {
    let activity = recordActivity(noActivity, at(0, 5), 40, 3);
    activity = recordActivity(activity, at(0, 10), 0, 7);
    activity = recordActivity(activity, at(0, 55), 2, 1);
    activity = recordActivity(activity, at(1, 0), 0, undefined);
    expect(activity.hours).toEqual([
      { hour: t0, accepted: 42, maxLagMinutes: 7 },
      { hour: t0 + hourMs, accepted: 0, maxLagMinutes: undefined },
    ]);
    // Data last arrived with the write that accepted some, not with the later empty ones.
    expect(activity.lastDataAt).toEqual(at(0, 55));
  });

  it("keeps 14 days of hours and drops older ones as the clock moves on", () => {
    let activity: Activity = noActivity;
    for (let hour = 0; hour < activityHours + 30; hour += 1)
      activity = recordActivity(activity, at(hour), 1, 0);
    expect(activity.hours).toHaveLength(activityHours);
    expect(activity.hours[0]?.hour).toBe(at(30).getTime());
    // A write from an instance whose clock is behind lands in its hour but never widens the span.
    const late = recordActivity(activity, at(-5), 9, 0);
    expect(late.hours).toHaveLength(activityHours);
    expect(late.hours.some((bucket) => bucket.accepted === 9)).toBe(false);
    expect(recordActivity(activity, at(100), 9, 0).hours.find((b) => b.hour === at(100).getTime())).toEqual({
      hour: at(100).getTime(),
      accepted: 10,
      maxLagMinutes: 0,
    });
  });
});

describe("encodeActivityHours / decodeActivityHours", () => {
  it("round-trips buckets with gaps and unknown lags, and no buckets as an empty string", () => {
    const hours: HourBucket[] = [
      { hour: t0, accepted: 1234, maxLagMinutes: 5 },
      { hour: t0 + 3 * hourMs, accepted: 0, maxLagMinutes: undefined },
      { hour: t0 + 4 * hourMs, accepted: Number.MAX_SAFE_INTEGER, maxLagMinutes: 20_000 },
    ];
    const text = encodeActivityHours(hours);
    expect(text).toBe(`${(t0 / hourMs).toString(36)}:ya.5,,,0,2gosa7pa2gv.ffk`);
    expect(decodeActivityHours(text)).toEqual(hours);
    expect(encodeActivityHours([])).toBe("");
    expect(decodeActivityHours("")).toEqual([]);
  });

  it("reads a hand-edited value that does not parse as no buckets rather than failing the row", () => {
    for (const text of ["garbage", "abc:1,x!,2", "abc:1.", "abc:1.2.3", `1:${"1,".repeat(activityHours)}1`]) {
      expect(decodeActivityHours(text), text).toEqual([]);
    }
  });

  it("stays far below the 64 KiB property limit: at most 8,070 characters, about 2,000 for a busy connector", () => {
    const full = (accepted: number, lag: number) =>
      Array.from({ length: activityHours }, (_, i) => ({
        hour: t0 + i * hourMs,
        accepted,
        maxLagMinutes: lag,
      }));
    const worst = encodeActivityHours(full(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER));
    expect(worst.length).toBeLessThanOrEqual(8_070);
    expect(encodeActivityHours(full(40_000, 12)).length).toBeLessThan(2_100);
  });
});

describe("hourlySeries", () => {
  it("lays the buckets out hour by hour over the 14 days up to now, null where nothing ran", () => {
    const now = at(activityHours + 9, 30);
    const activity: Activity = {
      lastDataAt: at(activityHours + 9),
      hours: [
        { hour: at(9).getTime(), accepted: 5, maxLagMinutes: 1 }, // just too old
        { hour: at(10).getTime(), accepted: 6, maxLagMinutes: 2 },
        { hour: at(activityHours + 9).getTime(), accepted: 7, maxLagMinutes: undefined },
      ],
    };
    const series = hourlySeries(activity, now);
    expect(series.from).toEqual(at(10));
    expect(series.accepted).toHaveLength(activityHours);
    expect(series.accepted[0]).toBe(6);
    expect(series.maxLagMinutes[0]).toBe(2);
    expect(series.accepted.at(-1)).toBe(7);
    expect(series.maxLagMinutes.at(-1)).toBeNull();
    expect(series.accepted.filter((value) => value !== null)).toEqual([6, 7]);
  });
});

describe("silentDrop", () => {
  /**
   * `days` of history where each hour of the day has its usual volume (600 by day, 30 at night), ending with
   * `recent`: the last 3 full hours (21:00–24:00 UTC, night) and the current one (00:20).
   */
  function seriesWith(recent: [number | null, number | null, number | null, number | null], days = 14) {
    const usual = (hourOfDay: number) => (hourOfDay >= 8 && hourOfDay < 20 ? 600 : 30);
    const first = activityHours - 3;
    let activity: Activity = noActivity;
    for (let hour = activityHours - days * 24; hour < first; hour += 1)
      activity = recordActivity(activity, at(hour), usual(at(hour).getUTCHours()), 2);
    recent.forEach((value, i) => {
      if (value !== null) activity = recordActivity(activity, at(first + i), value, 2);
    });
    return hourlySeries(activity, at(activityHours, 20));
  }

  it("marks a Healthy connector that took nothing in the last full hours", () => {
    expect(silentDrop(seriesWith([0, 0, 0, 0]), true)).toBe(
      "0 events accepted in the last 3 full hours; usually 90 (median of 13 previous days)",
    );
    // Hours with no run at all count as nothing accepted too.
    expect(silentDrop(seriesWith([null, null, null, null]), true)).toMatch(/^0 events accepted/);
  });

  it("marks volume under 10% of the same hours on earlier days, and not 10% or more", () => {
    expect(silentDrop(seriesWith([3, 3, 2, 0]), true)).toMatch(/^8 events accepted/);
    expect(silentDrop(seriesWith([3, 3, 3, 0]), true)).toBeUndefined();
  });

  it("compares with the same hours of the day, so a quiet night is not a drop", () => {
    // 90 events in 3 night hours is 5% of 3 daytime hours, but exactly the usual night.
    expect(silentDrop(seriesWith([30, 30, 30, 30]), true)).toBeUndefined();
  });

  it("leaves the current hour out: it has only just begun", () => {
    expect(silentDrop(seriesWith([30, 30, 30, 0]), true)).toBeUndefined();
    expect(silentDrop(seriesWith([0, 0, 0, 5000]), true)).toMatch(/^0 events/);
  });

  it("does not judge connectors that are not Healthy, have under 3 earlier days, or a tiny usual volume", () => {
    expect(silentDrop(seriesWith([0, 0, 0, 0]), false)).toBeUndefined();
    expect(silentDrop(seriesWith([0, 0, 0, 0], 3), true)).toBeUndefined();
    expect(silentDrop(seriesWith([0, 0, 0, 0], 4), true)).toMatch(/median of 3 previous days/);
    const tiny = seriesWith([0, 0, 0, 0]);
    const scaled = { ...tiny, accepted: tiny.accepted.map((v) => (v === null ? null : Math.min(v, 3))) };
    expect(silentDrop(scaled, true)).toBeUndefined();
  });
});
