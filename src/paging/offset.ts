import { isBodyJsonPath } from "../definition/keys.ts";
import { EngineError } from "../engine/errors.ts";
import { type Placement, placeValue } from "../engine/request.ts";
import { followUp, pagingPlacement, withPageSize } from "./shared.ts";
import type { PagingConfigOf, PagingStrategy } from "./types.ts";

type OffsetConfig = PagingConfigOf<"Offset">;

/**
 * `offsetParaName` = events received so far in this window, starting at 0 (§9 A19: 0-based, per window).
 * Stops on an empty page, or a page shorter than `pageSize` when one is set.
 *
 * Range form (`offsetEndParaName`, Cortex XDR's `search_from`/`search_to`): every page, the first included,
 * writes `from = offset` and `to = offset + pageSize`, so `pageSize` is required. A name written as a JSONPath
 * (`$.request_data.search_from`) is a place in the JSON body whatever `pagingInfoPlacement` says: a query
 * parameter has no path.
 */
export const offsetPaging: PagingStrategy<OffsetConfig> = {
  start(config, context) {
    const placement = placementOf(config, config.offsetParaName);
    const end = config.offsetEndParaName;
    if (end !== undefined && config.pageSize === undefined) {
      throw new EngineError(
        "paging",
        "paging.offsetEndParaName needs paging.pageSize: each page asks for the range offset .. offset + pageSize",
      );
    }
    const values = (offset: number) => [
      { placement, value: offset },
      ...(end === undefined
        ? []
        : [{ placement: placementOf(config, end), value: offset + (config.pageSize ?? 0) }]),
    ];
    return {
      first: () =>
        values(0).reduce(
          (request, { placement: at, value }) => placeValue(request, at, value),
          withPageSize(config, context.request),
        ),
      next(page) {
        const short = config.pageSize !== undefined && page.events.length < config.pageSize;
        if (page.events.length === 0 || short) return undefined;
        return followUp(config, withPageSize(config, context.request), values(page.eventsSoFar));
      },
    };
  },
};

function placementOf(config: OffsetConfig, name: string): Placement {
  return isBodyJsonPath(name) ? { in: "body", name } : pagingPlacement(config, name);
}
