/** The one status rule, as a pure function of the row and the time of reading. */
import { describe, expect, it } from "vitest";
import { deriveStatus } from "../../src/state/index.ts";

const now = new Date("2026-03-01T12:00:00Z");
const minutesAgo = (n: number) => new Date(now.getTime() - n * 60_000);

const healthyRow = {
  disabledReason: "",
  consecutiveFailures: 0,
  lastErrorKind: "",
  windowInFlight: undefined,
  windowAttempts: 0,
  committedThrough: minutesAgo(3),
  windowMinutes: 5,
  delayMinutes: 0,
  notBefore: undefined,
};

describe("deriveStatus", () => {
  it("calls a connector that never committed Healthy and not polled yet, not Lagging", () => {
    expect(deriveStatus({ ...healthyRow, committedThrough: undefined }, now)).toEqual({
      status: "Healthy",
      statusReason: "Not polled yet",
      lagMinutes: undefined,
    });
  });

  it("allows delay + 2 windows + the poll interval before calling a connector Lagging", () => {
    const row = { ...healthyRow, windowMinutes: 10, delayMinutes: 15 };
    // 15 + 2 × 10 + 5 = 40 minutes
    expect(deriveStatus({ ...row, committedThrough: minutesAgo(40) }, now).status).toBe("Healthy");
    expect(deriveStatus({ ...row, committedThrough: minutesAgo(41) }, now)).toMatchObject({
      status: "Lagging",
      lagMinutes: 41,
    });
    expect(
      deriveStatus({ ...row, committedThrough: minutesAgo(41) }, now, { pollIntervalMinutes: 60 }).status,
    ).toBe("Healthy");
  });

  it("puts Disabled before Failing, and Failing before Lagging", () => {
    const failingAndLate = {
      ...healthyRow,
      committedThrough: minutesAgo(600),
      consecutiveFailures: 2,
      lastErrorKind: "TimeoutError (timeout)",
      windowInFlight: { start: minutesAgo(600), end: minutesAgo(595) },
      windowAttempts: 2,
    };
    const failing = deriveStatus(failingAndLate, now);
    expect(failing.status).toBe("Failing");
    expect(failing.statusReason).toBe(
      "2 consecutive failed attempt(s), last TimeoutError (timeout) on window 2026-03-01T02:00:00.000Z → 2026-03-01T02:05:00.000Z (attempt 2); 600 min behind",
    );
    expect(
      deriveStatus({ ...failingAndLate, disabledReason: "paused for vendor maintenance" }, now),
    ).toMatchObject({
      status: "Disabled",
      statusReason: "paused for vendor maintenance",
    });
  });
});
