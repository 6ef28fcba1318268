/**
 * Renders window bounds with `request.queryTimeFormat`: `UnixTimestamp` (seconds), `UnixTimestampInMills`
 * (milliseconds) or a .NET custom date format, always in UTC (reference §3.4).
 *
 * .NET tokens are translated one by one into luxon `toFormat` tokens so luxon does the calendar work.
 * Fractions (`f`/`F`) come from the millisecond value: digits beyond the third are zeros, because a
 * JavaScript Date has millisecond precision. `K` renders `Z` (the instant is a UTC DateTime), `zzz`
 * `+00:00`. `'literal'`, `"literal"` and `\x` are copied as text; every other character is verbatim.
 */
import { DateTime } from "luxon";

type Part = { literal: string } | { render: (dt: DateTime) => string };

const luxon =
  (token: string) =>
  (dt: DateTime): string =>
    dt.toFormat(token);

/** .NET specifier letter → renderer by run length (longest run listed last; longer runs clamp). */
const specifiers: Record<string, Array<(dt: DateTime) => string>> = {
  y: [(dt) => String(dt.year % 100), luxon("yy"), luxon("yyyy"), luxon("yyyy")],
  M: [luxon("L"), luxon("LL"), luxon("LLL"), luxon("LLLL")],
  d: [luxon("d"), luxon("dd"), luxon("ccc"), luxon("cccc")],
  H: [luxon("H"), luxon("HH")],
  h: [luxon("h"), luxon("hh")],
  m: [luxon("m"), luxon("mm")],
  s: [luxon("s"), luxon("ss")],
  t: [(dt) => dt.toFormat("a").charAt(0), luxon("a")],
  K: [() => "Z"],
  z: [() => "+0", () => "+00", luxon("ZZ")],
};

function fraction(digits: number, trimZeros: boolean): (dt: DateTime) => string {
  return (dt) => {
    const text = dt.toFormat("SSS").padEnd(7, "0").slice(0, digits);
    return trimZeros ? text.replace(/0+$/, "") : text;
  };
}

const compiled = new Map<string, Part[]>();

function compileDotNetFormat(format: string): Part[] {
  const cached = compiled.get(format);
  if (cached) return cached;
  const parts: Part[] = [];
  let i = 0;
  while (i < format.length) {
    const ch = format.charAt(i);
    if (ch === "'" || ch === '"') {
      const close = format.indexOf(ch, i + 1);
      const end = close < 0 ? format.length : close;
      parts.push({ literal: format.slice(i + 1, end) });
      i = end + 1;
      continue;
    }
    if (ch === "\\") {
      parts.push({ literal: format.charAt(i + 1) });
      i += 2;
      continue;
    }
    if (ch === "%") {
      i += 1; // `%d` marks a single-letter custom format; the letter follows.
      continue;
    }
    let run = 1;
    while (format.charAt(i + run) === ch) run++;
    if (ch === "f" || ch === "F") {
      parts.push({ render: fraction(Math.min(run, 7), ch === "F") });
    } else {
      const renderers = specifiers[ch];
      const render = renderers?.[Math.min(run, renderers.length) - 1];
      parts.push(render ? { render } : { literal: ch.repeat(run) });
    }
    i += run;
  }
  compiled.set(format, parts);
  return parts;
}

export function renderTime(instant: Date, format: string): string {
  if (format === "UnixTimestamp") return String(Math.floor(instant.getTime() / 1000));
  if (format === "UnixTimestampInMills") return String(instant.getTime());
  const dt = DateTime.fromJSDate(instant, { zone: "utc" }).setLocale("en-US");
  return compileDotNetFormat(format)
    .map((part) => ("literal" in part ? part.literal : part.render(dt)))
    .join("");
}

/** Whether a rendered value is a bare number (Unix formats), so JSON bodies can carry it unquoted. */
export function isNumericFormat(format: string): boolean {
  return format === "UnixTimestamp" || format === "UnixTimestampInMills";
}
