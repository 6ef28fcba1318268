import { withPageSize } from "./shared.ts";
import type { PagingConfigOf, PagingStrategy } from "./types.ts";

/** One request per window. */
export const nonePaging: PagingStrategy<PagingConfigOf<"None">> = {
  start: (config, { request }) => ({ first: () => withPageSize(config, request), next: () => undefined }),
};
