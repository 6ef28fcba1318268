import { firstJsonPath } from "../engine/jsonpath.ts";
import { placeValue } from "../engine/request.ts";
import { followUp, hasNextFlag, pagingPlacement, withPageSize } from "./shared.ts";
import type { PagingConfigOf, PagingStrategy } from "./types.ts";

/**
 * Page numbers from 1 (0 with `zeroBasedIndexing`). Stops when `hasNextFlagJsonPath` is false, the current
 * page (from `pageNumberJsonPath`, else counted) is the last of `pageCountJsonPath`, the events seen reach
 * `totalResultsJsonPath`, a page is empty, or a page is shorter than `pageSize`.
 */
export const countBasedPaging: PagingStrategy<PagingConfigOf<"CountBasedPaging">> = {
  start(config, context) {
    const placement = pagingPlacement(config, config.pageNumberParaName);
    const firstPage = config.zeroBasedIndexing ? 0 : 1;
    const numberAt = (document: unknown, path: string | undefined) => {
      const value = path ? Number(firstJsonPath(document, path)) : Number.NaN;
      return Number.isFinite(value) ? value : undefined;
    };
    return {
      first: () => placeValue(withPageSize(config, context.request), placement, firstPage),
      next(page) {
        if (page.events.length === 0 || !hasNextFlag(page, config.hasNextFlagJsonPath)) return undefined;
        if (config.pageSize !== undefined && page.events.length < config.pageSize) return undefined;
        const current = numberAt(page.document, config.pageNumberJsonPath) ?? firstPage + page.number - 1;
        const pageCount = numberAt(page.document, config.pageCountJsonPath);
        if (pageCount !== undefined && current >= pageCount - 1 + firstPage) return undefined;
        const total = numberAt(page.document, config.totalResultsJsonPath);
        if (total !== undefined && page.eventsSoFar >= total) return undefined;
        return followUp(config, withPageSize(config, context.request), [{ placement, value: current + 1 }]);
      },
    };
  },
};
