import { isJsonPath } from "../engine/jsonpath.ts";
import { followLink, linkFromHeader, readToken, requestFor, withPageSize } from "./shared.ts";
import type { PageResult, PagingConfigOf, PagingContext, PagingSession, PagingStrategy } from "./types.ts";

type LinkHeaderConfig = PagingConfigOf<"LinkHeader"> | PagingConfigOf<"PersistentLinkHeader">;

/**
 * The next link: the RFC 8288 `Link` header's entry whose rel is `linkHeaderRelLinkName`; when the response has
 * none, `linkHeaderTokenJsonPath` (the legacy docs: used "if the LinkHeader isn't defined in the response
 * header"), read from the body when it is a JSONPath, else as the name of another link header (Meraki writes
 * `"Link"` there). A value that is neither (an ARM concat put a host before `$.…`) finds nothing by itself, and
 * validate warns about it (link-path-not-jsonpath).
 */
function nextLink(config: LinkHeaderConfig, page: PageResult): string | undefined {
  const fromLink = linkFromHeader(page.response.headers.link, config.linkHeaderRelLinkName);
  const source = config.linkHeaderTokenJsonPath;
  if (fromLink !== undefined || !source) return fromLink;
  if (isJsonPath(source)) return readToken(page, source, undefined);
  return linkFromHeader(page.response.headers[source.toLowerCase()], config.linkHeaderRelLinkName);
}

function linkHeaderSession(persistent: boolean) {
  return (config: LinkHeaderConfig, context: PagingContext): PagingSession => {
    // Persistent: the last next link seen, so the next window resumes the server-side cursor.
    let cursor = persistent ? context.cursor : undefined;
    return {
      first: () =>
        cursor
          ? requestFor(context.request, followLink(cursor, context.request.url, context.allowedOrigins))
          : withPageSize(config, context.request),
      next(page) {
        const link = nextLink(config, page);
        if (!link) return undefined;
        const url = followLink(link, page.response.url, context.allowedOrigins);
        if (persistent) cursor = url.href;
        // The reference ends a window only when no next link is left: an empty page (a filtered one) may still
        // lead to more. Polling APIs (Okta) answer a caught-up request with an empty page linking to that same
        // request, to be polled later: that is the end, not a loop.
        if (page.events.length === 0 && sameRequestUrl(url, page.request.url)) return undefined;
        return requestFor(context.request, url);
      },
      ...(persistent ? { cursor: () => cursor } : {}),
    };
  };
}

/** The same resource and query, whatever the parameter order. */
function sameRequestUrl(a: URL, b: URL): boolean {
  const canonical = (url: URL) => {
    const copy = new URL(url.href);
    copy.searchParams.sort();
    return copy.href;
  };
  return canonical(a) === canonical(b);
}

/** Follows `rel="next"` links within the window, until none is left or an empty page links to itself. */
export const linkHeaderPaging: PagingStrategy<PagingConfigOf<"LinkHeader">> = {
  start: linkHeaderSession(false),
};

/** As LinkHeader, and the last next link survives across windows (S1: APIs with a server-side cursor). */
export const persistentLinkHeaderPaging: PagingStrategy<PagingConfigOf<"PersistentLinkHeader">> = {
  start: linkHeaderSession(true),
};
