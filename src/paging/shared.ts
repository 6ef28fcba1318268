/** Helpers the paging strategies share: reading tokens and flags, placing paging values, following links. */
import type { PagingConfig } from "../definition/schema.ts";
import { EngineError } from "../engine/errors.ts";
import { firstJsonPath } from "../engine/jsonpath.ts";
import { safeUrl } from "../engine/redact.ts";
import { type Placement, placeValue } from "../engine/request.ts";
import type { OutgoingRequest } from "../engine/types.ts";
import type { PageResult } from "./types.ts";

/** Where paging parameters (token, offset, page number, page size) go, per `pagingInfoPlacement`. */
export function pagingPlacement(config: PagingConfig, name: string): Placement {
  return { in: config.pagingInfoPlacement === "RequestBody" ? "body" : "query", name };
}

/** Adds the page size parameter when both `pageSize` and `pageSizeParameterName` are set. */
export function withPageSize(config: PagingConfig, request: OutgoingRequest): OutgoingRequest {
  if (config.pageSize === undefined || !config.pageSizeParameterName) return request;
  return placeValue(request, pagingPlacement(config, config.pageSizeParameterName), config.pageSize);
}

/**
 * The request for a follow-up page carrying the paging parameters. With `pagingQueryParamOnly` the query
 * string keeps only the paging parameters (S1: "omits all other query parameters except paging ones").
 */
export function followUp(
  config: PagingConfig,
  base: OutgoingRequest,
  values: Array<{ placement: Placement; value: string | number }>,
): OutgoingRequest {
  let request = base;
  if (config.pagingQueryParamOnly) {
    const url = new URL(base.url.href);
    url.search = "";
    request = withPageSize(config, { ...base, url });
  }
  for (const { placement, value } of values) request = placeValue(request, placement, value);
  return request;
}

type TokenTransform = Extract<PagingConfig, { pagingType: "NextPageToken" }>["tokenTransform"];

/**
 * A token from the body (`jsonPath`) or else a response header; undefined when absent or empty. A
 * `tokenTransform` keeps one part of it: `.split(sliceDelimiter)[stringIndex]`, as .NET's Split would. A
 * token without that part fails the window rather than ending paging, which would drop pages unseen.
 */
export function readToken(
  page: PageResult,
  jsonPath: string | undefined,
  header: string | undefined,
  transform?: TokenTransform,
): string | undefined {
  const token = rawToken(page, jsonPath, header);
  if (token === undefined || transform === undefined) return token;
  const parts = token.split(transform.sliceDelimiter);
  const part = parts[transform.stringIndex];
  if (part === undefined) {
    throw new EngineError(
      "paging",
      `paging.tokenTransform: the next-page token split on ${JSON.stringify(transform.sliceDelimiter)} has ${parts.length} part(s), no part ${transform.stringIndex}`,
    );
  }
  return part === "" ? undefined : part;
}

function rawToken(
  page: PageResult,
  jsonPath: string | undefined,
  header: string | undefined,
): string | undefined {
  const raw = jsonPath
    ? firstJsonPath(page.document, jsonPath)
    : header
      ? page.response.headers[header.toLowerCase()]
      : undefined;
  if (raw === undefined || raw === null) return undefined;
  const token = typeof raw === "string" ? raw : typeof raw === "object" ? JSON.stringify(raw) : String(raw);
  return token === "" ? undefined : token;
}

/**
 * `hasNextFlagJsonPath`: an explicit false (`false`, `"false"`, `0`) stops paging. A missing flag does not:
 * the token still decides, and the loop guard catches an API that never stops.
 */
export function hasNextFlag(page: PageResult, path: string | undefined): boolean {
  if (!path) return true;
  const flag = firstJsonPath(page.document, path);
  return !(
    flag === false ||
    flag === 0 ||
    (typeof flag === "string" && flag.trim().toLowerCase() === "false")
  );
}

/**
 * Resolves a next-page link against `base` and refuses other origins: a next link pointing elsewhere
 * would send the connector's credentials to a host the definition never named.
 */
export function followLink(link: string, base: URL, allowedOrigins: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(link, base);
  } catch {
    throw new EngineError("paging", `the next-page link ${JSON.stringify(link.slice(0, 200))} is not a URL`);
  }
  if (!allowedOrigins.includes(url.origin)) {
    throw new EngineError(
      "paging",
      `the next-page link ${safeUrl(url)} leaves the connector's origin (${allowedOrigins.join(", ")}); not followed`,
    );
  }
  return url;
}

/** A GET-or-same-method request to `url` with the base headers: next links already carry their query. */
export function requestFor(base: OutgoingRequest, url: URL): OutgoingRequest {
  return { method: base.method, url, headers: base.headers, ...(base.body ? { body: base.body } : {}) };
}

/** RFC 8288 `Link` header: the URL of the entry whose rel is `rel` (`rel=next` and `next` both accepted). */
export function linkFromHeader(header: string | undefined, rel: string): string | undefined {
  if (!header) return undefined;
  const wanted = rel.replace(/^rel=/i, "").replace(/"/g, "").toLowerCase();
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[^;,]+(?:=(?:"[^"]*"|[^;,]*))?)*)/g)) {
    const params = match[2] ?? "";
    const relParam = /;\s*rel\s*=\s*(?:"([^"]*)"|([^;,\s]*))/i.exec(params);
    const rels = (relParam?.[1] ?? relParam?.[2] ?? "").toLowerCase().split(/\s+/);
    if (rels.includes(wanted)) return match[1];
  }
  return undefined;
}
