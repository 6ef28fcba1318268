import { describe, expect, it } from "vitest";
import { planWindows } from "../../src/engine/windows.ts";
import { makeConnector } from "./connector.ts";

const connector = (request: Record<string, unknown> = {}) =>
  makeConnector({
    request: { apiEndpoint: "https://api.example.test/", queryWindowInMin: 10, ...request },
    response: { eventsJsonPaths: ["$"] },
  });
const iso = (windows: { start: Date; end: Date }[]) =>
  windows.map((w) => `${w.start.toISOString()}/${w.end.toISOString()}`);

describe("planWindows", () => {
  it("first run: one window ending at the latest whole minute", () => {
    const windows = planWindows(connector(), undefined, { now: new Date("2026-01-01T12:34:56Z") });
    expect(iso(windows)).toEqual(["2026-01-01T12:24:00.000Z/2026-01-01T12:34:00.000Z"]);
  });

  it("first run with a longer look-back plans consecutive windows", () => {
    const windows = planWindows(connector(), undefined, {
      now: new Date("2026-01-01T12:30:00Z"),
      initialLookbackMin: 30,
    });
    expect(iso(windows)).toEqual([
      "2026-01-01T12:00:00.000Z/2026-01-01T12:10:00.000Z",
      "2026-01-01T12:10:00.000Z/2026-01-01T12:20:00.000Z",
      "2026-01-01T12:20:00.000Z/2026-01-01T12:30:00.000Z",
    ]);
  });

  it("continues exactly from the watermark and leaves the incomplete window for later", () => {
    const windows = planWindows(connector(), new Date("2026-01-01T12:00:00Z"), {
      now: new Date("2026-01-01T12:25:00Z"),
    });
    expect(iso(windows)).toEqual([
      "2026-01-01T12:00:00.000Z/2026-01-01T12:10:00.000Z",
      "2026-01-01T12:10:00.000Z/2026-01-01T12:20:00.000Z",
    ]);
  });

  it("lags behind now by queryWindowDelayInMin", () => {
    const windows = planWindows(connector({ queryWindowDelayInMin: 15 }), new Date("2026-01-01T12:00:00Z"), {
      now: new Date("2026-01-01T12:25:00Z"),
    });
    expect(iso(windows)).toEqual(["2026-01-01T12:00:00.000Z/2026-01-01T12:10:00.000Z"]);
  });

  it("catches up oldest first within the per-run budget, and the next run resumes without a gap", () => {
    const now = new Date("2026-01-02T00:00:00Z");
    const first = planWindows(connector(), new Date("2026-01-01T00:00:00Z"), { now, maxWindows: 3 });
    expect(iso(first)).toEqual([
      "2026-01-01T00:00:00.000Z/2026-01-01T00:10:00.000Z",
      "2026-01-01T00:10:00.000Z/2026-01-01T00:20:00.000Z",
      "2026-01-01T00:20:00.000Z/2026-01-01T00:30:00.000Z",
    ]);
    const next = planWindows(connector(), first.at(-1)?.end, { now, maxWindows: 1 });
    expect(iso(next)).toEqual(["2026-01-01T00:30:00.000Z/2026-01-01T00:40:00.000Z"]);
  });

  it("plans nothing when the watermark is already current", () => {
    expect(
      planWindows(connector(), new Date("2026-01-01T12:20:00Z"), { now: new Date("2026-01-01T12:29:59Z") }),
    ).toEqual([]);
  });
});
