/**
 * What the simulated API accepts as a data request (reference §3): the declared method and path, the
 * declared headers, every declared parameter with its declared value, the window bounds in the declared
 * places and `queryTimeFormat`, and a body that follows `queryParametersTemplate`. Anything the definition
 * does not describe is refused with the field it contradicts.
 */
import JSON5 from "json5";
import type { RequestConfig, SupportedAuthConfig } from "../definition/schema.ts";
import { declaredHeaders } from "./auth.ts";
import { type Call, param, type Rejection, reject } from "./call.ts";
import { isObject } from "./formats.ts";
import { escapeRegex, timeReader } from "./time.ts";

/** Window tokens: the reference's two (§3.3), and the day-precision pair the definition model also knows. */
const windowTokens: Record<string, { side: "start" | "end"; day: boolean }> = {
  "{_QueryWindowStartTime}": { side: "start", day: false },
  "{_QueryWindowEndTime}": { side: "end", day: false },
  "{_QueryWindowStartDay}": { side: "start", day: true },
  "{_QueryWindowEndDay}": { side: "end", day: true },
};
const tokenPattern = /(\{_QueryWindow(?:Start|End)(?:Time|Day)\})/;

/** The window a request asked for; a side left open when the definition gives no bound for it. */
export interface AskedWindow {
  start?: Date;
  end?: Date;
}

export interface RequestReader {
  /** True when the definition sends any window bound at all. */
  filtersTime: boolean;
  read(
    call: Call,
    allowed: { names: readonly string[]; bodyPaths: readonly string[]; authBodyFields: readonly string[] },
  ): AskedWindow | Rejection;
}

export function requestReader(
  request: RequestConfig,
  auth: SupportedAuthConfig,
  path: string,
): RequestReader {
  const time = timeReader(request.queryTimeFormat);
  const dayTime = timeReader("yyyy-MM-dd");
  const DAY = 86_400_000;
  const bound = (text: string, side: "start" | "end", field: string, day = false): Date | Rejection => {
    const reader = day ? dayTime : time;
    const at = reader.parse(text);
    if (at === undefined)
      return reject(
        400,
        field,
        `${JSON.stringify(text)} is not in ${day ? "yyyy-MM-dd (a Day token)" : `queryTimeFormat ${request.queryTimeFormat}`}`,
      );
    // A date-only end bound means "through that day", as date-filtered APIs read it.
    return side === "end" && reader.resolutionMs >= DAY ? new Date(at.getTime() + reader.resolutionMs) : at;
  };
  const template =
    request.queryParametersTemplate === undefined
      ? undefined
      : parseTemplate(request.queryParametersTemplate, auth);
  // Parameters written into apiEndpoint itself are part of what the definition describes.
  const queryParameters = [
    ...new URL(request.apiEndpoint).searchParams.entries(),
    ...Object.entries(request.queryParameters ?? {}),
  ];
  const filtersTime =
    request.startTimeAttributeName !== undefined ||
    request.endTimeAttributeName !== undefined ||
    request.queryTimeIntervalAttributeName !== undefined ||
    queryParameters.some(([, value]) => tokenPattern.test(String(value))) ||
    tokenPattern.test(request.queryParametersTemplate ?? "");

  return {
    filtersTime,
    read(call, allowed) {
      if (call.method !== request.httpMethod)
        return reject(405, "request.httpMethod", `${call.method}, declared ${request.httpMethod}`);
      if (call.url.pathname !== path)
        return reject(404, "request.apiEndpoint", `path ${call.url.pathname}, declared ${path}`);
      const headers = declaredHeaders(call, request.headers, "request.headers");
      if (headers.ok === false) return headers;
      const window: AskedWindow = {};
      const take = (
        side: "start" | "end",
        text: string | undefined,
        field: string,
        day = false,
      ): Rejection | undefined => {
        if (text === undefined) return reject(400, field, "missing");
        const at = bound(text, side, field, day);
        if (at instanceof Date) window[side] = at;
        else return at;
        return undefined;
      };
      const known = new Set<string>([...allowed.names, ...allowed.authBodyFields]);
      for (const [attribute, side] of [
        [request.startTimeAttributeName, "start"],
        [request.endTimeAttributeName, "end"],
      ] as const) {
        if (attribute === undefined) continue;
        known.add(attribute);
        const problem = take(side, param(call, attribute), `request.${side}TimeAttributeName (${attribute})`);
        if (problem) return problem;
      }
      if (request.queryTimeIntervalAttributeName !== undefined) {
        const name = request.queryTimeIntervalAttributeName;
        known.add(name);
        const field = `request.queryTimeIntervalAttributeName (${name})`;
        const pattern = `^${escapeRegex(request.queryTimeIntervalPrepend ?? "")}(${time.pattern})${escapeRegex(request.queryTimeIntervalDelimiter ?? "")}(${time.pattern})$`;
        const match = new RegExp(pattern).exec(param(call, name) ?? "");
        if (match === null)
          return reject(
            400,
            field,
            `expected prepend + start + delimiter + end in ${request.queryTimeFormat}`,
          );
        const problem = take("start", match[1], field) ?? take("end", match[2], field);
        if (problem) return problem;
      }
      // With a template the parameters are its business; otherwise each declared parameter is sent as declared.
      if (template === undefined) {
        for (const [name, declared] of queryParameters) {
          known.add(name);
          // A paging parameter declared here holds its first value; the paging simulation reads it.
          if (allowed.names.includes(name)) continue;
          const field = `request.queryParameters.${name}`;
          const problem = matchValue(textOf(declared), param(call, name), field, (side, text, day) =>
            take(side, text, field, day),
          );
          if (problem) return problem;
        }
      } else {
        const form = /form-urlencoded/i.test(call.headers["content-type"] ?? "");
        const body = !template.json ? call.bodyText : form ? formFields(call.body) : call.body;
        const problem = matchTree(
          template.value,
          body ?? {},
          "request.queryParametersTemplate",
          take,
          new Set(allowed.bodyPaths.map((p) => p.replace(/^\$\.?/, ""))),
        );
        if (problem) return problem;
      }
      for (const name of call.url.searchParams.keys()) {
        if (!known.has(name))
          return reject(
            400,
            "request.queryParameters",
            `query parameter ${name} is not described by the definition`,
          );
      }
      if (template === undefined && isObject(call.body)) {
        for (const name of Object.keys(call.body)) {
          if (!known.has(name))
            return reject(
              400,
              "request.queryParameters",
              `body field ${name} is not described by the definition`,
            );
        }
      }
      return window;
    },
  };
}

/** The template with the API-key built-ins filled in and time tokens kept; JSON5, as its single quotes need (§9 A15). */
function parseTemplate(text: string, auth: SupportedAuthConfig): { value: unknown; json: boolean } {
  const name = auth.type === "APIKey" ? (auth.apiKeyName ?? "Authorization") : "";
  const key = auth.type === "APIKey" ? auth.apiKey : "";
  const filled = quoteBareTokens(text.replaceAll("{_APIKeyName}", name).replaceAll("{_APIKey}", key));
  try {
    return { value: JSON5.parse(filled), json: true };
  } catch {
    return { value: filled, json: false };
  }
}

/** A window token outside any string (`"start":{_QueryWindowStartTime}`, a number) becomes a string to parse. */
function quoteBareTokens(text: string): string {
  let quote: string | undefined;
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quote === undefined && ch === "{") {
      const token = tokenPattern.exec(text.slice(i))?.[1];
      if (token !== undefined && text.startsWith(token, i)) {
        out += JSON.stringify(token);
        i += token.length - 1;
        continue;
      }
    }
    if (ch === "\\") {
      out += ch + (text[i + 1] ?? "");
      i++;
      continue;
    }
    if (ch === '"' || ch === "'") quote = quote === undefined ? ch : quote === ch ? undefined : quote;
    out += ch;
  }
  return out;
}

/** A form-encoded body's fields, with nested values read back from their JSON text. */
function formFields(body: unknown): unknown {
  if (!isObject(body)) return body;
  return Object.fromEntries(
    Object.entries(body).map(([k, v]) => {
      if (typeof v !== "string") return [k, v];
      try {
        const parsed: unknown = JSON.parse(v);
        return [k, typeof parsed === "object" ? parsed : v];
      } catch {
        return [k, v];
      }
    }),
  );
}

const textOf = (value: unknown): string => (typeof value === "string" ? value : JSON.stringify(value));

type Take = (side: "start" | "end", text: string, field: string, day: boolean) => Rejection | undefined;

/** A declared value (possibly with window tokens) against the sent text. */
function matchValue(
  declared: string,
  sent: string | undefined,
  field: string,
  take: (side: "start" | "end", text: string, day: boolean) => Rejection | undefined,
): Rejection | undefined {
  if (sent === undefined) return reject(400, field, "missing");
  const found: { side: "start" | "end"; day: boolean }[] = [];
  const pattern = declared
    .split(tokenPattern)
    .map((part) => {
      const token = windowTokens[part];
      if (token === undefined) return escapeRegex(part);
      found.push(token);
      return "(.+?)";
    })
    .join("");
  const match = new RegExp(`^${pattern}$`).exec(sent);
  if (match === null)
    return reject(400, field, `sent ${JSON.stringify(sent)}, declared ${JSON.stringify(declared)}`);
  for (const [index, token] of found.entries()) {
    const problem = take(token.side, match[index + 1] as string, token.day);
    if (problem) return problem;
  }
  return undefined;
}

function matchTree(
  declared: unknown,
  sent: unknown,
  field: string,
  take: Take,
  pagingPaths: ReadonlySet<string>,
  at = "",
): Rejection | undefined {
  if (isObject(declared)) {
    if (!isObject(sent)) return reject(400, field, `body${at} should be an object like the template`);
    for (const [key, value] of Object.entries(declared)) {
      const here = at === "" ? key : `${at}.${key}`;
      if (pagingPaths.has(here)) continue;
      const problem = matchTree(value, sent[key], field, take, pagingPaths, here);
      if (problem) return problem;
    }
    for (const key of Object.keys(sent)) {
      const here = at === "" ? key : `${at}.${key}`;
      if (!(key in declared) && !pagingPaths.has(here))
        return reject(400, field, `body field ${here} is not in the template`);
    }
    return undefined;
  }
  if (Array.isArray(declared)) {
    if (!Array.isArray(sent) || sent.length !== declared.length)
      return reject(400, field, `body${at} should be the template's array`);
    for (const [index, item] of declared.entries()) {
      const problem = matchTree(item, sent[index], field, take, pagingPaths, `${at}[${index}]`);
      if (problem) return problem;
    }
    return undefined;
  }
  const sentText = sent === undefined || sent === null ? undefined : textOf(sent);
  const where = `${field} (${at || "body"})`;
  return matchValue(textOf(declared), sentText, where, (side, text, day) => take(side, text, where, day));
}
