import { describe, expect, it } from "vitest";
import { renderTime } from "../../src/engine/time-format.ts";

const instant = new Date("2024-03-05T07:08:09.123Z");

describe("renderTime", () => {
  it.each([
    ["UnixTimestamp", "1709622489"],
    ["UnixTimestampInMills", "1709622489123"],
    ["yyyy-MM-ddTHH:mm:ssZ", "2024-03-05T07:08:09Z"],
    ["yyyy-MM-ddTHH:mm:ss.fffZ", "2024-03-05T07:08:09.123Z"],
    ["yyyy-MM-ddTHH:mm:ss.fffffffZ", "2024-03-05T07:08:09.1230000Z"],
    ["yyyy-MM-ddTHH:mm:ss.000000+00:00", "2024-03-05T07:08:09.000000+00:00"],
    ["yyyy-MM-ddTHH:mm:ss'Z'", "2024-03-05T07:08:09Z"],
    ["yyyy-MM-dd", "2024-03-05"],
    ["MM/dd/yyyy HH:mm:ss", "03/05/2024 07:08:09"],
    ["M/d/yy h:m:s tt", "3/5/24 7:8:9 AM"],
    ["yyyy-MM-ddTHH:mm:ss.FFFFK", "2024-03-05T07:08:09.123Z"],
    ["yyyy-MM-ddTHH:mm:sszzz", "2024-03-05T07:08:09+00:00"],
    ["dddd, MMMM d", "Tuesday, March 5"],
    ["\\d\\a\\y dd 'at' HH", "day 05 at 07"],
  ])("%s → %s", (format, expected) => {
    expect(renderTime(instant, format)).toBe(expected);
  });

  it.each([
    ["2024-03-05T00:15:00Z", "12:15 AM"],
    ["2024-03-05T12:15:00Z", "12:15 PM"],
    ["2024-03-05T13:05:00Z", "01:05 PM"],
  ])("renders %s on a 12-hour clock as %s", (at, expected) => {
    expect(renderTime(new Date(at), "hh:mm tt")).toBe(expected);
  });

  it("renders in UTC whatever the host time zone", () => {
    expect(renderTime(new Date("2024-12-31T23:30:00Z"), "yyyy-MM-dd HH:mm")).toBe("2024-12-31 23:30");
  });
});
