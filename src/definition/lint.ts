/** Known traps: definitions that validate but do not behave the way their author probably expects. */
import { armExpressionBody } from "./arm.ts";
import type { JsonPathSegment } from "./errors.ts";
import { isBodyJsonPath, isRecord } from "./keys.ts";
import { lintNested } from "./lint-nested.ts";
import type { ConnectorProperties } from "./schema.ts";

export interface LintFinding {
  path: JsonPathSegment[];
  code: string;
  message: string;
}

/** Runtime tokens the engine fills in; anything else written `{_Like_This}` is almost certainly a typo. */
export const runtimeTokens = [
  "_QueryWindowStartTime",
  "_QueryWindowEndTime",
  "_QueryWindowStartDay",
  "_QueryWindowEndDay",
  "_APIKeyName",
  "_APIKey",
] as const;

export function lintProperties(p: ConnectorProperties): LintFinding[] {
  const findings: LintFinding[] = [];
  const add = (path: JsonPathSegment[], code: string, message: string) =>
    findings.push({ path, code, message });
  const { request, paging, auth } = p;

  if (paging.pagingType === "PersistentToken" || paging.pagingType === "PersistentLinkHeader") {
    add(
      ["paging", "pagingType"],
      "persistent-paging-single-runner",
      `${paging.pagingType} keeps one server-side cursor: only one runner may poll this connector at a time (the lease enforces it; never run two apps against it)`,
    );
  }
  if (paging.pagingType === "LinkHeader" || paging.pagingType === "PersistentLinkHeader") {
    const source = paging.linkHeaderTokenJsonPath;
    // `Link` itself (Meraki) reads the same either way: both end up at the Link header.
    if (source && !source.startsWith("$") && source.toLowerCase() !== "link" && !isUnbound(source)) {
      const suffix = source.indexOf("$");
      add(
        ["paging", "linkHeaderTokenJsonPath"],
        "link-path-not-jsonpath",
        `linkHeaderTokenJsonPath ${JSON.stringify(source)} does not start with $: ccp-poller reads it as the name of a response header carrying RFC 8288 links (none by that name, so paging stops after the first page); native CCP reads this field as a JSONPath into the body (reference §4.2) and follows the Link header when one comes` +
          (suffix > 0
            ? `. If the next link is in the body, write the path alone: ${JSON.stringify(source.slice(suffix))}`
            : ""),
      );
    }
  }
  // A range (offsetEndParaName) is written on every page, the first included, and carries pageSize as its
  // end; names written as JSONPaths go to the JSON body whatever pagingInfoPlacement says.
  const offsetRange = paging.pagingType === "Offset" && paging.offsetEndParaName !== undefined;
  const offsetInBody = paging.pagingType === "Offset" && isBodyJsonPath(paging.offsetParaName);
  if (
    paging.pagingType === "Offset" &&
    !offsetRange &&
    !Object.keys(request.queryParameters ?? {}).includes(paging.offsetParaName)
  ) {
    add(
      ["paging", "offsetParaName"],
      "offset-first-call",
      `the native CCP sends no ${paging.offsetParaName} on a window's first request (ccp-poller sends ${paging.offsetParaName}=0); unless the API treats a missing offset as the start, the two paths will differ`,
    );
  }
  if (
    paging.pageSize !== undefined &&
    paging.pageSizeParameterName === undefined &&
    paging.pagingType !== "None" &&
    !offsetRange
  ) {
    add(
      ["paging", "pageSize"],
      "page-size-not-sent",
      "pageSize is set without pageSizeParameterName, so it is never sent",
    );
  }
  const needsBody = request.httpMethod === "POST" && request.queryParametersTemplate !== undefined;
  if (
    needsBody &&
    paging.pagingType !== "None" &&
    paging.pagingInfoPlacement === "QueryString" &&
    !offsetInBody
  ) {
    add(
      ["paging", "pagingInfoPlacement"],
      "post-paging-placement",
      "POST with a body template: paging values go to the query string (pagingInfoPlacement QueryString); set RequestBody if the API reads them from the body",
    );
  }
  if (request.httpMethod === "GET" && paging.pagingInfoPlacement === "RequestBody") {
    add(
      ["paging", "pagingInfoPlacement"],
      "get-paging-in-body",
      "GET requests have no body: paging values placed in the RequestBody are lost",
    );
  }
  if (request.httpMethod === "GET" && request.isPostPayloadJson) {
    add(
      ["request", "isPostPayloadJson"],
      "get-with-json-body",
      "isPostPayloadJson is ignored on a GET request (no body is sent)",
    );
  }
  if ((request.startTimeAttributeName === undefined) !== (request.endTimeAttributeName === undefined)) {
    const [present, missing] =
      request.startTimeAttributeName === undefined
        ? ["endTimeAttributeName", "start"]
        : ["startTimeAttributeName", "end"];
    add(
      ["request", present],
      "half-open-window",
      `only ${present} is set: the window ${missing} is not sent, so consecutive windows can return the same events (duplicates) or miss late ones`,
    );
  }
  if (auth.type !== "None") {
    const endpoints: [JsonPathSegment[], string | undefined][] = [
      [["request", "apiEndpoint"], request.apiEndpoint],
      [
        ["auth", "tokenEndpoint"],
        auth.type === "OAuth2" || auth.type === "JwtToken" ? auth.tokenEndpoint : undefined,
      ],
      [["auth", "sessionLoginRequestUri"], auth.type === "Session" ? auth.sessionLoginRequestUri : undefined],
      [["paging", "nextPageUrl"], paging.pagingType === "NextPageUrl" ? paging.nextPageUrl : undefined],
    ];
    for (const [path, url] of endpoints) {
      if (url === undefined || !/^http:\/\//i.test(url) || isLoopback(url)) continue;
      add(
        path,
        "plain-http-credentials",
        `${path.at(-1)} is plain http:// and ${auth.type} auth puts credentials on these requests: they cross the network unencrypted. ccp-poller sends them anyway; native CCP polls https endpoints (every documented example and shipped connector does). Use https://`,
      );
    }
  }
  if (/['"]$/.test(request.apiEndpoint)) {
    add(
      ["request", "apiEndpoint"],
      "endpoint-stray-quote",
      "apiEndpoint ends with a quote character, which is sent as part of the path",
    );
  }
  if (
    auth.type === "APIKey" &&
    auth.isApiKeyInPostPayload &&
    !(request.queryParametersTemplate ?? "").includes("{_APIKey}")
  ) {
    add(
      ["auth", "isApiKeyInPostPayload"],
      "api-key-body-without-template",
      "isApiKeyInPostPayload is set but queryParametersTemplate has no {_APIKey}: CCP does not document where the key goes then",
    );
  }
  p.response.eventsJsonPaths.forEach((path, i) => {
    if (path.trim() === "")
      add(
        ["response", "eventsJsonPaths", i],
        "empty-events-path",
        'an empty eventsJsonPath selects nothing; use "$" for the whole body',
      );
  });
  scanStrings(p, [], (text, path) => {
    if (/(?:^|[.$])@odata\./i.test(text)) {
      add(
        path,
        "odata-path",
        `${JSON.stringify(text)}: write OData keys bracketed, e.g. $['@odata.nextLink'] (a dot splits the key)`,
      );
    }
    // Only request and paging values are sent; `{{x}}` left by structure-only validation is a placeholder.
    if (path[0] === "request" || path[0] === "paging") {
      for (const m of text.matchAll(/(?<!\{)\{([A-Za-z][\w.-]*)\}(?!\})/g)) {
        add(
          path,
          "literal-token",
          `${m[0]} is not a CCP runtime token: ccp-poller, like native CCP, sends it as written. If the API should get a value there, use one of ${runtimeTokens.map((t) => `{${t}}`).join(", ")}`,
        );
      }
    }
    for (const m of text.matchAll(/\{(_[A-Za-z]+)\}/g)) {
      const token = m[1] as string;
      if (!(runtimeTokens as readonly string[]).includes(token)) {
        const suggestion = closestToken(token);
        add(
          path,
          "unknown-runtime-token",
          `{${token}} is not a runtime token and is sent literally${suggestion ? ` (did you mean {${suggestion}}?)` : ""}`,
        );
      }
    }
  });
  findings.push(...lintNested(p));
  return findings;
}

/** Credentials to this machine never cross a network (local fakes, the demo). */
function isLoopback(url: string): boolean {
  try {
    const host = new URL(url).hostname;
    return host === "localhost" || host === "[::1]" || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** Left unbound by structure-only validation: a `{{placeholder}}` or an ARM expression. */
function isUnbound(text: string): boolean {
  return text.includes("{{") || armExpressionBody(text) !== undefined;
}

function scanStrings(
  value: unknown,
  path: JsonPathSegment[],
  visit: (text: string, path: JsonPathSegment[]) => void,
): void {
  if (typeof value === "string") visit(value, path);
  else if (Array.isArray(value))
    for (const [i, item] of value.entries()) scanStrings(item, [...path, i], visit);
  else if (isRecord(value)) for (const [k, v] of Object.entries(value)) scanStrings(v, [...path, k], visit);
}

function closestToken(token: string): string | undefined {
  const lower = token.toLowerCase();
  return runtimeTokens.find((t) => {
    const known = t.toLowerCase();
    return known.startsWith(lower.slice(0, 14)) && Math.abs(known.length - lower.length) <= 2;
  });
}
