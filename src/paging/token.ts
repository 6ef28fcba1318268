import { EngineError } from "../engine/errors.ts";
import type { Placement } from "../engine/request.ts";
import { followUp, hasNextFlag, pagingPlacement, readToken, withPageSize } from "./shared.ts";
import type { PagingConfigOf, PagingContext, PagingSession, PagingStrategy } from "./types.ts";

type TokenConfig = PagingConfigOf<"NextPageToken"> | PagingConfigOf<"PersistentToken">;

/** Where the token goes: `nextPageParaName` (query or body per pagingInfoPlacement) and/or `nextPageRequestHeader`. */
export function tokenPlacements(config: TokenConfig | PagingConfigOf<"NextPageUrl">): Placement[] {
  const placements: Placement[] = [];
  if (config.nextPageParaName) placements.push(pagingPlacement(config, config.nextPageParaName));
  if (config.nextPageRequestHeader) placements.push({ in: "header", name: config.nextPageRequestHeader });
  return placements;
}

function tokenSession(persistent: boolean) {
  return (config: TokenConfig, context: PagingContext): PagingSession => {
    const placements = tokenPlacements(config);
    if (placements.length === 0) {
      throw new EngineError(
        "paging",
        `${config.pagingType} paging needs paging.nextPageParaName or paging.nextPageRequestHeader to send the token`,
      );
    }
    const base = withPageSize(config, context.request);
    const carrying = (token: string) =>
      followUp(
        config,
        base,
        placements.map((placement) => ({ placement, value: token })),
      );
    // Persistent: the last non-empty token, which the server uses as its position (S1).
    let cursor = persistent ? context.cursor : undefined;
    return {
      first: () => (cursor ? carrying(cursor) : base),
      next(page) {
        const token = readToken(
          page,
          config.nextPageTokenJsonPath,
          config.nextPageTokenResponseHeader,
          config.tokenTransform,
        );
        if (token && persistent) cursor = token;
        if (!token || !hasNextFlag(page, config.hasNextFlagJsonPath)) return undefined;
        return carrying(token);
      },
      ...(persistent ? { cursor: () => cursor } : {}),
    };
  };
}

/** A token from the body or a response header, sent back on the next request until none comes. */
export const nextPageTokenPaging: PagingStrategy<PagingConfigOf<"NextPageToken">> = {
  start: tokenSession(false),
};

/** As NextPageToken, and the last token survives across windows. */
export const persistentTokenPaging: PagingStrategy<PagingConfigOf<"PersistentToken">> = {
  start: tokenSession(true),
};
