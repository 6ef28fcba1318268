/**
 * The paging contract: one strategy per CCP `pagingType`. A strategy computes *which* value the next request
 * carries; `placeValue` (src/engine/request.ts) decides *where* it goes. The engine owns the loop, the loop
 * guard (repeated request, page cap) and sending.
 */
import type { PagingConfig } from "../definition/schema.ts";
import type { HttpResponse, OutgoingRequest } from "../engine/types.ts";

/** What a strategy sees of a decoded page. */
export interface PageResult {
  /** 1-based within the window. */
  number: number;
  request: OutgoingRequest;
  response: HttpResponse;
  /** The parsed body, for JSONPath lookups of tokens, flags and counts. */
  document: unknown;
  events: readonly unknown[];
  /** Events in this window so far, this page included. */
  eventsSoFar: number;
}

export interface PagingContext {
  /** The window's base request: time parameters, query parameters, template body, page size. */
  request: OutgoingRequest;
  /** Persistent* paging: the cursor committed with the previous window. */
  cursor?: string;
  /** Origin(s) next-page URLs may point to: the API endpoint's (and `nextPageUrl`'s). */
  allowedOrigins: readonly string[];
}

/** One window's paging state. */
export interface PagingSession {
  first(): OutgoingRequest;
  /** The next request, or undefined when the window is complete. */
  next(page: PageResult): OutgoingRequest | undefined;
  /** Persistent* only: the cursor to store once every page so far has been accepted. */
  cursor?(): string | undefined;
}

export interface PagingStrategy<C extends PagingConfig = PagingConfig> {
  start(config: C, context: PagingContext): PagingSession;
}

export type PagingConfigOf<T extends PagingConfig["pagingType"]> = Extract<PagingConfig, { pagingType: T }>;
