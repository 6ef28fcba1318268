/** The paging registry: one strategy per CCP `pagingType` (reference §4). */
import type { PagingType } from "../definition/schema.ts";
import { countBasedPaging } from "./count-based.ts";
import { linkHeaderPaging, persistentLinkHeaderPaging } from "./link-header.ts";
import { nextPageUrlPaging } from "./next-page-url.ts";
import { nonePaging } from "./none.ts";
import { offsetPaging } from "./offset.ts";
import { nextPageTokenPaging, persistentTokenPaging } from "./token.ts";
import type { PagingConfigOf, PagingStrategy } from "./types.ts";

export type { PageResult, PagingContext, PagingSession, PagingStrategy } from "./types.ts";

export const pagingStrategies: { [K in PagingType]: PagingStrategy<PagingConfigOf<K>> } = {
  None: nonePaging,
  LinkHeader: linkHeaderPaging,
  PersistentLinkHeader: persistentLinkHeaderPaging,
  NextPageToken: nextPageTokenPaging,
  PersistentToken: persistentTokenPaging,
  NextPageUrl: nextPageUrlPaging,
  Offset: offsetPaging,
  CountBasedPaging: countBasedPaging,
};

/** Whether the paging type keeps a cursor across windows (the runner must not overlap such windows). */
export function isPersistentPaging(type: PagingType): boolean {
  return type === "PersistentToken" || type === "PersistentLinkHeader";
}
