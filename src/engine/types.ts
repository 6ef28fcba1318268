/**
 * The contracts between the engine, the auth and paging strategies, and the runner that drives them.
 * Everything the engine needs from outside comes in through `EngineDeps`, so tests pass real servers and a
 * fixed clock instead of module mocks.
 */
import type { Connector } from "../definition/schema.ts";

/** A query window. `start` is inclusive, `end` exclusive: consecutive windows share a boundary, never overlap. */
export interface Window {
  start: Date;
  end: Date;
}

export interface Clock {
  now(): Date;
  /** Resolves after `ms` (a fake clock may resolve at once and advance itself). Rejects when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE";

/** A request body kept structured until it is sent, so paging and auth can place values into it. */
export type RequestBody =
  | { type: "json"; value: unknown }
  | { type: "form"; value: Record<string, string> }
  | { type: "text"; text: string; contentType: string };

export interface OutgoingRequest {
  method: HttpMethod;
  url: URL;
  /** Lower-case header names. */
  headers: Record<string, string>;
  body?: RequestBody;
}

export interface HttpResponse {
  status: number;
  /** Lower-case header names; repeated headers joined with ", " except `link`, kept as sent. */
  headers: Record<string, string>;
  body: Buffer;
  /** The URL that was requested (for relative next links). */
  url: URL;
}

export interface SendOptions {
  timeoutMs?: number;
  /** Additional attempts after the first on 408/429/5xx and network errors. */
  retryCount?: number;
  signal?: AbortSignal;
  /** Redacted from this request's errors on top of the client's own (credentials of this request). */
  secrets?: readonly string[];
}

/** The engine's HTTP client (undici underneath): timeouts, retries with backoff, Retry-After, rate budget. */
export interface HttpClient {
  send(request: OutgoingRequest, options?: SendOptions): Promise<HttpResponse>;
}

/** One connector's authenticator, created once per run and reused for every window (tokens are cached). */
export interface Authenticator {
  /** Values the request builder substitutes into `queryParametersTemplate` (`{_APIKeyName}`, `{_APIKey}`). */
  readonly templateVariables: Readonly<Record<string, string>>;
  /** Returns the request with credentials added (headers or body fields). */
  apply(request: OutgoingRequest, signal?: AbortSignal): Promise<OutgoingRequest>;
  /** Called once after a 401: refresh credentials and return true to retry the request, false to fail. */
  onUnauthorized?(signal?: AbortSignal): Promise<boolean>;
  /**
   * Credential values put on requests so far, including those obtained at run time (access tokens, JWTs,
   * session ids) that no definition binds: redacted like bound secrets.
   */
  credentialValues?(): readonly string[];
}

export interface AuthDeps {
  http: HttpClient;
  clock: Clock;
}

/** One per CCP auth type, registered in `src/auth/index.ts`. */
export interface AuthStrategy<C> {
  create(config: C, deps: AuthDeps): Authenticator;
}

export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface EngineDeps {
  clock: Clock;
  /** Shared client for auth token endpoints; each connector's data requests get their own client. */
  http: HttpClient;
  logger: Logger;
  /**
   * Builds each connector's data-request client (its own QPS budget and rate-limit headers). Default:
   * `createHttpClient` from `src/engine/http.ts` with this clock and logger.
   */
  createHttpClient?: (connector: Connector) => HttpClient;
}

/** One page of a window, yielded as soon as it is decoded. */
export interface Page {
  /** 1-based within the window. */
  number: number;
  events: unknown[];
  /** Response body size in bytes, before decompression. */
  bytes: number;
  /**
   * For Persistent* paging: the cursor to store once this page (and every earlier page of the window) has
   * been accepted by the sink. Undefined for other paging types.
   */
  cursor?: string;
}

export interface PollOptions {
  /** Persistent* paging: the cursor committed with the previous window. */
  cursor?: string;
  signal?: AbortSignal;
  /** Loop guard: more pages than this in one window is an error (default 10,000). */
  maxPages?: number;
}

/** What the engine exports to the runner. */
export interface Engine {
  planWindows(
    connector: Connector,
    committedThrough: Date | undefined,
    options: { now: Date; initialLookbackMin?: number; maxWindows?: number },
  ): Window[];
  pollWindow(connector: Connector, window: Window, options?: PollOptions): AsyncIterable<Page>;
}
