/**
 * Builds a window's base request from `properties.request` (reference §3.3, §3.5), and `placeValue`, the
 * one helper that decides where a paging or auth value goes.
 *
 * Where runtime tokens are expanded (§9 A11):
 * - `{_QueryWindowStartTime}` / `{_QueryWindowEndTime}`: window bounds in `queryTimeFormat`;
 *   `{_QueryWindowStartDay}` / `{_QueryWindowEndDay}` (undocumented, used by Zoom): the bounds as
 *   `yyyy-MM-dd`. Expanded in `apiEndpoint`, `queryParameters`, `headers` and `queryParametersTemplate`.
 * - `{_APIKeyName}` / `{_APIKey}` (from the authenticator): only in `queryParametersTemplate`, as documented.
 * Any other `{_Name}` is an error naming the file and field, never sent as-is (a typo like `{_QueryWindowEnday}`
 * would otherwise be silently sent to the API).
 *
 * Placement (§9 A13, A15): start/end and interval attributes go in the query string, also for POST, and so
 * do `queryParameters`, except on a non-GET request with `isPostPayloadJson` and no template, where they
 * are the JSON body. `queryParametersTemplate` is parsed leniently (JSON5, single quotes) after
 * substitution and becomes the body: JSON when `isPostPayloadJson`, a declared JSON `Content-Type` or an
 * offset written to a JSONPath of the body, otherwise form fields from its top-level keys (a template that is not an object is sent as form text).
 * For GET, a template's top-level keys go to the query string instead, since GET has no body.
 */
import JSON5 from "json5";
import { isBodyJsonPath } from "../definition/keys.ts";
import type { Connector } from "../definition/schema.ts";
import { EngineError } from "./errors.ts";
import { isJsonPath, isRecord, withJsonPathValue } from "./jsonpath.ts";
import { substituteQuoted } from "./quoted-template.ts";
import { isNumericFormat, renderTime } from "./time-format.ts";
import type { OutgoingRequest, RequestBody, Window } from "./types.ts";

export interface RequestContext {
  window: Window;
  /** `Authenticator.templateVariables`: `_APIKeyName`, `_APIKey`. */
  templateVariables: Readonly<Record<string, string>>;
}

/** Where a paging or auth value goes. Body names may be member-chain JSONPaths (`$.variables.after`). */
export interface Placement {
  in: "query" | "header" | "body";
  name: string;
}

const TOKEN = /\{(_[A-Za-z]+)\}/g;
const TEMPLATE_ONLY = ["_APIKeyName", "_APIKey"];
/** `application/json`, `application/vnd.api+json`, with or without parameters. */
const JSON_MEDIA_TYPE = /^\s*application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

export function windowVariables(connector: Connector, window: Window): Record<string, string> {
  const format = connector.properties.request.queryTimeFormat;
  return {
    _QueryWindowStartTime: renderTime(window.start, format),
    _QueryWindowEndTime: renderTime(window.end, format),
    _QueryWindowStartDay: renderTime(window.start, "yyyy-MM-dd"),
    _QueryWindowEndDay: renderTime(window.end, "yyyy-MM-dd"),
  };
}

export function buildRequest(connector: Connector, context: RequestContext): OutgoingRequest {
  const config = connector.properties.request;
  const times = windowVariables(connector, context.window);
  const expand = (text: string, field: string, encode: (value: string) => string = (v) => v) =>
    text.replace(TOKEN, (token, name: string) => encode(lookup(connector, times, name, token, field)));

  const url = parseEndpoint(connector, expand(config.apiEndpoint, "request.apiEndpoint", encodeURIComponent));
  const { start, end } = { start: times._QueryWindowStartTime, end: times._QueryWindowEndTime };
  if (config.startTimeAttributeName) url.searchParams.set(config.startTimeAttributeName, start ?? "");
  if (config.endTimeAttributeName) url.searchParams.set(config.endTimeAttributeName, end ?? "");
  if (config.queryTimeIntervalAttributeName) {
    const interval = `${config.queryTimeIntervalPrepend ?? ""}${start}${config.queryTimeIntervalDelimiter ?? ""}${end}`;
    url.searchParams.set(config.queryTimeIntervalAttributeName, interval);
  }
  // CrowdStrike ships `"queryParametersTemplate": ""` on a GET: blank means no template.
  const hasTemplate = Boolean(config.queryParametersTemplate?.trim());
  // CCP's *PostPayloadJson flags put "the query parameters, in JSON format, in the POST payload" (S3:
  // IsTokenEndpointPostPayloadJson, Session IsPostPayloadJson): without a template they are the JSON body.
  const parametersAsBody =
    config.isPostPayloadJson &&
    config.httpMethod !== "GET" &&
    !hasTemplate &&
    config.queryParameters !== undefined;
  let body: RequestBody | undefined;
  if (parametersAsBody) {
    const expandDeep = (value: unknown, field: string): unknown => {
      if (typeof value === "string") return expand(value, field);
      if (Array.isArray(value)) return value.map((item, i) => expandDeep(item, `${field}[${i}]`));
      if (isRecord(value))
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, expandDeep(v, `${field}.${k}`)]));
      return value;
    };
    body = { type: "json", value: expandDeep(config.queryParameters, "request.queryParameters") };
  } else {
    for (const [name, value] of Object.entries(config.queryParameters ?? {})) {
      url.searchParams.set(name, expand(stringify(value), `request.queryParameters.${name}`));
    }
  }

  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers ?? {})) {
    headers[name.toLowerCase()] = expand(value, `request.headers.${name}`);
  }

  let request: OutgoingRequest = { method: config.httpMethod, url, headers, ...(body ? { body } : {}) };
  if (hasTemplate) {
    request = applyTemplate(connector, request, { ...times, ...context.templateVariables });
  }
  if (
    !request.body &&
    request.method !== "GET" &&
    connector.properties.paging.pagingInfoPlacement === "RequestBody"
  ) {
    request.body = config.isPostPayloadJson ? { type: "json", value: {} } : { type: "form", value: {} };
  }
  return request;
}

function applyTemplate(
  connector: Connector,
  request: OutgoingRequest,
  variables: Record<string, string>,
): OutgoingRequest {
  const config = connector.properties.request;
  const field = "request.queryParametersTemplate";
  const template = config.queryParametersTemplate ?? "";
  const numeric = isNumericFormat(config.queryTimeFormat);
  // A Content-Type the definition declares is what the API reads: a JSON one makes the body JSON even
  // without isPostPayloadJson, rather than form fields under a JSON label.
  // So does an offset written to a JSONPath of the body (Cortex XDR's `$.request_data.search_from`): a form
  // field has no path.
  const json =
    config.isPostPayloadJson ||
    JSON_MEDIA_TYPE.test(request.headers["content-type"] ?? "") ||
    offsetInJsonBody(connector);
  const text = substituteQuoted(template, /\{(_[A-Za-z]+)\}/y, (token, name) => {
    const value = variables[name];
    if (value === undefined) throw unknownToken(connector, token, field);
    return { value, bare: numeric && name.startsWith("_QueryWindow") && name.endsWith("Time") };
  });

  let parsed: unknown;
  try {
    parsed = JSON5.parse(text);
  } catch (error) {
    if (json) {
      throw new EngineError(
        "request",
        `${connector.source.file}: ${field} is not valid JSON after substitution (${(error as Error).message}); ` +
          "expected a JSON or single-quoted JSON object",
      );
    }
    return { ...request, body: { type: "text", text, contentType: "application/x-www-form-urlencoded" } };
  }
  if (request.method === "GET") {
    if (!isRecord(parsed)) return request;
    const url = new URL(request.url.href);
    for (const [name, value] of Object.entries(parsed)) url.searchParams.set(name, stringify(value));
    return { ...request, url };
  }
  if (json) return { ...request, body: { type: "json", value: parsed } };
  if (!isRecord(parsed))
    return { ...request, body: { type: "text", text, contentType: "application/x-www-form-urlencoded" } };
  return {
    ...request,
    body: {
      type: "form",
      value: Object.fromEntries(Object.entries(parsed).map(([k, v]) => [k, stringify(v)])),
    },
  };
}

function offsetInJsonBody(connector: Connector): boolean {
  const paging = connector.properties.paging;
  return (
    paging.pagingType === "Offset" &&
    [paging.offsetParaName, paging.offsetEndParaName].some(
      (name) => name !== undefined && isBodyJsonPath(name),
    )
  );
}

function lookup(
  connector: Connector,
  variables: Record<string, string>,
  name: string,
  token: string,
  field: string,
): string {
  const value = variables[name];
  if (value !== undefined) return value;
  if (TEMPLATE_ONLY.includes(name)) {
    throw new EngineError(
      "request",
      `${connector.source.file}: ${field} uses ${token}, which is only expanded in request.queryParametersTemplate`,
    );
  }
  throw unknownToken(connector, token, field);
}

function unknownToken(connector: Connector, token: string, field: string): EngineError {
  return new EngineError(
    "request",
    `${connector.source.file}: ${field} uses the unknown runtime token ${token}; expected one of ` +
      "{_QueryWindowStartTime}, {_QueryWindowEndTime}, {_QueryWindowStartDay}, {_QueryWindowEndDay}" +
      (field.endsWith("Template") ? ", {_APIKeyName}, {_APIKey}" : ""),
  );
}

function parseEndpoint(connector: Connector, endpoint: string): URL {
  try {
    return new URL(endpoint);
  } catch {
    throw new EngineError(
      "request",
      `${connector.source.file}: request.apiEndpoint is not an absolute URL after binding (got ${JSON.stringify(endpoint.slice(0, 100))})`,
    );
  }
}

/** Query and form values are strings: numbers and booleans as written, objects as JSON. */
export function stringify(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === null || typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** Returns a copy of `request` with `value` placed at `placement`. */
export function placeValue(
  request: OutgoingRequest,
  placement: Placement,
  value: string | number,
): OutgoingRequest {
  switch (placement.in) {
    case "query": {
      const url = new URL(request.url.href);
      url.searchParams.set(placement.name, String(value));
      return { ...request, url };
    }
    case "header":
      return { ...request, headers: { ...request.headers, [placement.name.toLowerCase()]: String(value) } };
    case "body": {
      const body =
        request.body ??
        (isJsonPath(placement.name) ? { type: "json", value: {} } : { type: "form", value: {} });
      if (body.type === "json") {
        const placed = isJsonPath(placement.name)
          ? withJsonPathValue(body.value, placement.name, value)
          : { ...(isRecord(body.value) ? body.value : {}), [placement.name]: value };
        return { ...request, body: { type: "json", value: placed } };
      }
      if (body.type === "form") {
        const name = isJsonPath(placement.name) ? placement.name.replace(/^\$\.?/, "") : placement.name;
        return { ...request, body: { type: "form", value: { ...body.value, [name]: String(value) } } };
      }
      throw new EngineError(
        "request",
        `cannot place ${placement.name} in a text request body; use a JSON or form queryParametersTemplate`,
      );
    }
  }
}
