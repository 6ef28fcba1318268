/**
 * Reads window bounds the way an API that follows the definition would: in the declared `queryTimeFormat`
 * (reference §3.4), written from the reference's token list, not from the engine's renderer. A bound that is
 * not in that format is a defect the simulated API refuses.
 */

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

export interface TimeReader {
  /** The instant a bound denotes, or undefined when the text is not in the declared format. */
  parse(text: string): Date | undefined;
  /** The smallest step the format can express, in ms (a date-only format cannot say which minute). */
  resolutionMs: number;
  /** A regex source matching one bound, for finding bounds inside larger strings (filters, intervals). */
  pattern: string;
}

export function timeReader(format: string): TimeReader {
  if (format === "UnixTimestamp") {
    return {
      parse: (t) => (/^\d{1,12}$/.test(t) ? new Date(Number(t) * 1000) : undefined),
      resolutionMs: 1000,
      pattern: "\\d{1,12}",
    };
  }
  if (format === "UnixTimestampInMills") {
    return {
      parse: (t) => (/^\d{1,15}$/.test(t) ? new Date(Number(t)) : undefined),
      resolutionMs: 1,
      pattern: "\\d{1,15}",
    };
  }
  return dotNetReader(format);
}

type Field =
  | "year"
  | "year2"
  | "month"
  | "day"
  | "hour"
  | "hour12"
  | "minute"
  | "second"
  | "fraction"
  | "ampm"
  | "offset";

interface Token {
  source: string;
  field?: Field;
  resolutionMs?: number;
}

/** .NET custom date format tokens (reference §3.4); any other character is a literal. */
function tokenize(format: string): Token[] {
  const tokens: Token[] = [];
  const literal = (text: string) => tokens.push({ source: escapeRegex(text) });
  for (let i = 0; i < format.length; ) {
    const ch = format[i] as string;
    let run = 1;
    while (format[i + run] === ch) run++;
    switch (ch) {
      case "y":
        tokens.push(
          run >= 4 ? { source: "(\\d{4})", field: "year" } : { source: "(\\d{2})", field: "year2" },
        );
        break;
      case "M":
        tokens.push({ source: run >= 2 ? "(\\d{2})" : "(\\d{1,2})", field: "month", resolutionMs: 28 * DAY });
        break;
      case "d":
        tokens.push({ source: run >= 2 ? "(\\d{2})" : "(\\d{1,2})", field: "day", resolutionMs: DAY });
        break;
      case "H":
      case "h":
        tokens.push({
          source: run >= 2 ? "(\\d{2})" : "(\\d{1,2})",
          field: ch === "H" ? "hour" : "hour12",
          resolutionMs: 60 * MINUTE,
        });
        break;
      case "m":
        tokens.push({ source: run >= 2 ? "(\\d{2})" : "(\\d{1,2})", field: "minute", resolutionMs: MINUTE });
        break;
      case "s":
        tokens.push({ source: run >= 2 ? "(\\d{2})" : "(\\d{1,2})", field: "second", resolutionMs: 1000 });
        break;
      case "f":
      case "F":
        tokens.push({
          source: ch === "f" ? `(\\d{${run}})` : `(\\d{0,${run}})`,
          field: "fraction",
          resolutionMs: Math.max(1, 1000 / 10 ** run),
        });
        break;
      case "t":
        tokens.push({ source: "(AM|PM|A|P)", field: "ampm" });
        break;
      case "K":
      case "z":
        tokens.push({ source: "(Z|[+-]\\d{2}(?::?\\d{2})?)", field: "offset" });
        break;
      case "'":
      case '"': {
        const end = format.indexOf(ch, i + 1);
        const close = end === -1 ? format.length : end;
        literal(format.slice(i + 1, close));
        i = close + 1;
        continue;
      }
      case "\\":
        literal(format[i + 1] ?? "");
        i += 2;
        continue;
      default:
        literal(format.slice(i, i + run));
    }
    i += run;
  }
  return tokens;
}

function dotNetReader(format: string): TimeReader {
  const tokens = tokenize(format);
  const regex = new RegExp(`^${tokens.map((t) => t.source).join("")}$`);
  const fields = tokens.filter((t) => t.field !== undefined).map((t) => t.field as Field);
  const resolutionMs = Math.min(...tokens.map((t) => t.resolutionMs ?? Number.POSITIVE_INFINITY));
  return {
    resolutionMs: Number.isFinite(resolutionMs) ? resolutionMs : DAY,
    pattern: tokens.map((t) => t.source.replace(/^\((?!\?)/, "(?:")).join(""),
    parse(text) {
      const match = regex.exec(text);
      if (match === null) return undefined;
      const parts: Partial<Record<Field, string>> = {};
      fields.forEach((field, index) => {
        parts[field] = match[index + 1];
      });
      const year =
        parts.year !== undefined
          ? Number(parts.year)
          : parts.year2 !== undefined
            ? 2000 + Number(parts.year2)
            : 1970;
      let hour = Number(parts.hour ?? parts.hour12 ?? 0);
      if (parts.ampm !== undefined && parts.hour12 !== undefined)
        hour = (hour % 12) + (parts.ampm.startsWith("P") ? 12 : 0);
      const fraction = parts.fraction ? Number(`0.${parts.fraction}`) * 1000 : 0;
      const utc = Date.UTC(
        year,
        Number(parts.month ?? 1) - 1,
        Number(parts.day ?? 1),
        hour,
        Number(parts.minute ?? 0),
        Number(parts.second ?? 0),
        Math.floor(fraction),
      );
      return new Date(utc - offsetMs(parts.offset));
    },
  };
}

function offsetMs(offset: string | undefined): number {
  if (offset === undefined || offset === "Z") return 0;
  const match = /^([+-])(\d{2}):?(\d{2})?$/.exec(offset);
  if (match === null) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3] ?? 0);
  return (match[1] === "-" ? -1 : 1) * minutes * MINUTE;
}

export function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
