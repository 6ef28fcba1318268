import { placeValue } from "../engine/request.ts";
import { followUp, pagingPlacement, withPageSize } from "./shared.ts";
import type { PagingConfigOf, PagingStrategy } from "./types.ts";

/**
 * `offsetParaName` = events received so far in this window, starting at 0 (§9 A19: 0-based, per window).
 * Stops on an empty page, or a page shorter than `pageSize` when one is set.
 */
export const offsetPaging: PagingStrategy<PagingConfigOf<"Offset">> = {
  start(config, context) {
    const placement = pagingPlacement(config, config.offsetParaName);
    return {
      first: () => placeValue(withPageSize(config, context.request), placement, 0),
      next(page) {
        const short = config.pageSize !== undefined && page.events.length < config.pageSize;
        if (page.events.length === 0 || short) return undefined;
        return followUp(config, withPageSize(config, context.request), [
          { placement, value: page.eventsSoFar },
        ]);
      },
    };
  },
};
