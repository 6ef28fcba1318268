import { EngineError } from "../engine/errors.ts";
import { followLink, followUp, hasNextFlag, readToken, requestFor } from "./shared.ts";
import { tokenPlacements } from "./token.ts";
import type { PagingConfigOf, PagingStrategy } from "./types.ts";

/**
 * Two shapes (reference §4.2, §9 A18):
 * - the token *is* the next URL (Graph `@odata.nextLink`, Salesforce `nextRecordsUrl`): absolute, or relative
 *   to `nextPageUrl` when set (Salesforce's base URL), else to the URL just fetched;
 * - with `nextPageParaName`/`nextPageRequestHeader`: request `nextPageUrl` (or the endpoint) carrying the token.
 * `nextPageUrlQueryParameters` are added to every next request. Next URLs must stay on the connector's origin.
 */
export const nextPageUrlPaging: PagingStrategy<PagingConfigOf<"NextPageUrl">> = {
  start(config, context) {
    if (config.nextPageUrlQueryParametersTemplate !== undefined) {
      throw new EngineError(
        "paging",
        "paging.nextPageUrlQueryParametersTemplate is not supported yet: how the token enters the template is undocumented",
      );
    }
    const placements = tokenPlacements(config);
    const nextBase = config.nextPageUrl
      ? followLink(config.nextPageUrl, context.request.url, context.allowedOrigins)
      : undefined;
    const withExtraParams = (url: URL) => {
      const copy = new URL(url.href);
      for (const [name, value] of Object.entries(config.nextPageUrlQueryParameters ?? {})) {
        copy.searchParams.set(name, value);
      }
      return copy;
    };
    return {
      first: () => context.request,
      next(page) {
        if (!hasNextFlag(page, config.hasNextFlagJsonPath)) return undefined;
        const token = readToken(
          page,
          config.nextPageTokenJsonPath,
          config.nextPageTokenResponseHeader,
          config.tokenTransform,
        );
        if (!token) return undefined;
        if (placements.length > 0) {
          const url = withExtraParams(nextBase ?? context.request.url);
          return followUp(
            config,
            { ...context.request, url },
            placements.map((placement) => ({ placement, value: token })),
          );
        }
        const url = followLink(token, nextBase ?? page.response.url, context.allowedOrigins);
        return requestFor(context.request, withExtraParams(url));
      },
    };
  },
};
