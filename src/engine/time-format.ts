/**
 * Renders window bounds with `request.queryTimeFormat`: `UnixTimestamp` (seconds), `UnixTimestampInMills`
 * (milliseconds) or a .NET custom date format, always in UTC (reference §3.4).
 *
 * Numbers come straight from the instant's UTC fields (luxon's `toFormat` cost about a third of a millisecond a
 * window, per page); names (`ddd`, `MMM`, `tt`) are rendered by luxon, in en-US. Fractions (`f`/`F`) come from
 * the millisecond value: digits beyond the third are zeros, because a JavaScript Date has millisecond precision.
 * `K` renders `Z` (the instant is in UTC), `zzz` `+00:00`. `'literal'`, `"literal"` and `\x` are copied as
 * text; every other character is verbatim.
 */
import { DateTime } from "luxon";

type Render = (instant: Date) => string;
type Part = { literal: string } | { render: Render };

const pad = (value: number, width: number): string => String(value).padStart(width, "0");
const number =
  (field: (instant: Date) => number, width: number): Render =>
  (instant) =>
    pad(field(instant), width);
const named =
  (token: string): Render =>
  (instant) =>
    DateTime.fromJSDate(instant, { zone: "utc" }).setLocale("en-US").toFormat(token);

const year = (instant: Date) => instant.getUTCFullYear();
const month = (instant: Date) => instant.getUTCMonth() + 1;
const day = (instant: Date) => instant.getUTCDate();
const hour = (instant: Date) => instant.getUTCHours();
const hour12 = (instant: Date) => instant.getUTCHours() % 12 || 12;
const minute = (instant: Date) => instant.getUTCMinutes();
const second = (instant: Date) => instant.getUTCSeconds();

/** .NET specifier letter → renderer by run length (longest run listed last; longer runs clamp). */
const specifiers: Record<string, Render[]> = {
  y: [(instant) => String(year(instant) % 100), (instant) => pad(year(instant) % 100, 2), number(year, 4)],
  M: [number(month, 1), number(month, 2), named("LLL"), named("LLLL")],
  d: [number(day, 1), number(day, 2), named("ccc"), named("cccc")],
  H: [number(hour, 1), number(hour, 2)],
  h: [number(hour12, 1), number(hour12, 2)],
  m: [number(minute, 1), number(minute, 2)],
  s: [number(second, 1), number(second, 2)],
  t: [(instant) => named("a")(instant).charAt(0), named("a")],
  K: [() => "Z"],
  z: [() => "+0", () => "+00", () => "+00:00"],
};

function fraction(digits: number, trimZeros: boolean): Render {
  return (instant) => {
    const text = pad(instant.getUTCMilliseconds(), 3).padEnd(7, "0").slice(0, digits);
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
  let text = "";
  for (const part of compileDotNetFormat(format))
    text += "literal" in part ? part.literal : part.render(instant);
  return text;
}

/** Whether a rendered value is a bare number (Unix formats), so JSON bodies can carry it unquoted. */
export function isNumericFormat(format: string): boolean {
  return format === "UnixTimestamp" || format === "UnixTimestampInMills";
}
