/**
 * The engine's HTTP client on undici: one pooled dispatcher for the process, a per-request timeout,
 * retries with exponential backoff and full jitter, Retry-After / rate-limit reset headers on 429, a
 * client-side QPS budget, and a cap on any single wait.
 *
 * `send` resolves with 1xx–3xx responses and throws a typed error otherwise (after retries), so every
 * caller handles failures the same way. Error messages carry the method, a safe URL and a short body
 * excerpt; never header values.
 */
import { Agent, type Dispatcher, request } from "undici";
import type { RequestConfig } from "../definition/schema.ts";
import { systemClock } from "./clock.ts";
import { HttpStatusError, NetworkError, RateLimitedError, TimeoutError } from "./errors.ts";
import { excerpt, safeUrl } from "./redact.ts";
import type {
  Clock,
  HttpClient,
  HttpResponse,
  Logger,
  OutgoingRequest,
  RequestBody,
  SendOptions,
} from "./types.ts";

export { createFakeClock, type FakeClock, systemClock } from "./clock.ts";
export { HttpStatusError, NetworkError, RateLimitedError, TimeoutError } from "./errors.ts";

export type RateLimitConfig = NonNullable<RequestConfig["rateLimitConfig"]>;

export interface HttpClientOptions {
  clock?: Clock;
  /** Requests per second across every request sent through this client (one client per connector). */
  rateLimitQPS?: number;
  rateLimitConfig?: RateLimitConfig;
  /** The longest single wait (backoff, Retry-After, reset, QPS) before failing with RateLimitedError. */
  maxWaitMs?: number;
  dispatcher?: Dispatcher;
  logger?: Logger;
  /** Values to redact from URLs and body excerpts in errors and logs. */
  secrets?: readonly string[];
  /** First backoff step; attempt n waits random(0, min(maxBackoffMs, base·2ⁿ)). */
  backoffBaseMs?: number;
  maxBackoffMs?: number;
  /** Jitter source, replaceable for deterministic tests. */
  random?: () => number;
}

export const DEFAULT_TIMEOUT_MS = 20_000;
export const DEFAULT_RETRY_COUNT = 3;
export const DEFAULT_MAX_WAIT_MS = 5 * 60_000;
const USER_AGENT = "ccp-poller";

let sharedAgent: Agent | undefined;

/** The process-wide pooled dispatcher: connections to an upstream are reused across connectors and runs. */
export function sharedDispatcher(): Dispatcher {
  sharedAgent ??= new Agent({ keepAliveTimeout: 10_000, connections: 16 });
  return sharedAgent;
}

export function createHttpClient(options: HttpClientOptions = {}): HttpClient {
  const clock = options.clock ?? systemClock;
  const maxWaitMs = options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const clientSecrets = options.secrets ?? [];
  const random = options.random ?? Math.random;
  const backoffBaseMs = options.backoffBaseMs ?? 1000;
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  const budget = options.rateLimitQPS ? createQpsBudget(options.rateLimitQPS, clock) : undefined;

  async function send(req: OutgoingRequest, sendOptions: SendOptions = {}): Promise<HttpResponse> {
    const retryCount = sendOptions.retryCount ?? DEFAULT_RETRY_COUNT;
    const timeoutMs = sendOptions.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const secrets = [...clientSecrets, ...(sendOptions.secrets ?? [])];
    // Only errors and retries name the URL: most requests never need its redacted form.
    let safe: string | undefined;
    const url = () => {
      safe ??= safeUrl(req.url, secrets);
      return safe;
    };
    const serialized = serializeBody(req.body);
    const headers: Record<string, string> = { "user-agent": USER_AGENT, ...req.headers };
    if (serialized && headers["content-type"] === undefined) headers["content-type"] = serialized.contentType;

    for (let attempt = 0; ; attempt++) {
      if (budget) await waitCapped(budget.reserve(), undefined);
      let failure: HttpStatusError | TimeoutError | NetworkError;
      let serverWaitMs: number | undefined;
      try {
        const response = await sendOnce(
          req,
          headers,
          serialized?.payload,
          timeoutMs,
          url,
          sendOptions.signal,
        );
        if (response.status < 400) return response;
        const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
        failure = new HttpStatusError(
          response.status,
          req.method,
          url(),
          excerpt(response.body, secrets),
          retryable,
        );
        if (!retryable) throw failure;
        serverWaitMs = serverRequestedWait(response, options.rateLimitConfig, clock.now());
      } catch (error) {
        if (!(error instanceof TimeoutError || error instanceof NetworkError)) throw error;
        failure = error;
      }
      if (attempt >= retryCount) throw failure;
      const waitMs = serverWaitMs ?? random() * Math.min(maxBackoffMs, backoffBaseMs * 2 ** attempt);
      options.logger?.warn("retrying request", {
        method: req.method,
        url: url(),
        attempt: attempt + 1,
        of: retryCount + 1,
        reason: failure instanceof HttpStatusError ? `HTTP ${failure.status}` : failure.kind,
        waitMs: Math.round(waitMs),
      });
      await waitCapped(waitMs, failure instanceof HttpStatusError ? failure.status : undefined);
    }

    async function waitCapped(ms: number, status: number | undefined): Promise<void> {
      if (ms > maxWaitMs) throw new RateLimitedError(req.method, url(), ms, maxWaitMs, status);
      if (ms > 0) await clock.sleep(ms, sendOptions.signal);
    }
  }

  async function sendOnce(
    req: OutgoingRequest,
    headers: Record<string, string>,
    payload: string | undefined,
    timeoutMs: number,
    url: () => string,
    callerSignal: AbortSignal | undefined,
  ): Promise<HttpResponse> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
    try {
      const response = await request(req.url, {
        method: req.method,
        headers,
        body: payload,
        signal,
        dispatcher: options.dispatcher ?? sharedDispatcher(),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      return { status: response.statusCode, headers: flattenHeaders(response.headers), body, url: req.url };
    } catch (error) {
      if (callerSignal?.aborted) throw callerSignal.reason;
      const code = errorCode(error);
      if (timeout.aborted || code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
        throw new TimeoutError(req.method, url(), timeoutMs);
      }
      throw new NetworkError(req.method, url(), code, error);
    }
  }

  return { send };
}

/** Serializes the structured body; `undefined` when there is none. */
export function serializeBody(
  body: RequestBody | undefined,
): { payload: string; contentType: string } | undefined {
  if (!body) return undefined;
  switch (body.type) {
    case "json":
      return { payload: JSON.stringify(body.value), contentType: "application/json" };
    case "form":
      return {
        payload: new URLSearchParams(body.value).toString(),
        contentType: "application/x-www-form-urlencoded",
      };
    case "text":
      return { payload: body.text, contentType: body.contentType };
  }
}

function flattenHeaders(raw: Record<string, string | string[] | undefined>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return headers;
}

function errorCode(error: unknown): string {
  if (error && typeof error === "object") {
    const { code, name } = error as { code?: unknown; name?: unknown };
    if (typeof code === "string") return code;
    if (typeof name === "string") return name;
  }
  return "unknown error";
}

/**
 * How long the server asked us to wait, or undefined to use backoff. `Retry-After` (delta seconds or an
 * HTTP date) always counts; the `rateLimitConfig` reset header counts on 429 unless
 * `useResetOrRetryAfterHeaders` is false. A reset header of format `Integer` is delta seconds, except
 * that values above 10⁹ are taken as epoch seconds (what Okta and GitHub actually send).
 */
export function serverRequestedWait(
  response: HttpResponse,
  config: RateLimitConfig | undefined,
  now: Date,
): number | undefined {
  if (config?.retryStrategy?.useResetOrRetryAfterHeaders === false) return undefined;
  const retryAfter = parseRetryAfter(response.headers["retry-after"], now);
  if (retryAfter !== undefined) return retryAfter;
  const reset = config?.extraction?.headers?.reset;
  if (response.status !== 429 || !reset) return undefined;
  const value = Number(response.headers[reset.name.toLowerCase()]);
  if (!Number.isFinite(value)) return undefined;
  const epochSeconds = reset.format === "UnixTimeSeconds" || value > 1e9;
  return Math.max(0, epochSeconds ? value * 1000 - now.getTime() : value * 1000);
}

export function parseRetryAfter(value: string | undefined, now: Date): number | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now.getTime());
}

/**
 * A bucket of capacity one refilled at `qps`: each request reserves the next free slot, so concurrent
 * requests of one connector are spaced 1/qps apart. Returns how long the caller must wait.
 */
function createQpsBudget(qps: number, clock: Clock): { reserve(): number } {
  const intervalMs = 1000 / qps;
  let nextFree = Number.NEGATIVE_INFINITY;
  return {
    reserve() {
      const now = clock.now().getTime();
      const at = Math.max(now, nextFree);
      nextFree = at + intervalMs;
      return at - now;
    },
  };
}
