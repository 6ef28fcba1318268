/**
 * Errors that leave the engine. Each has a stable `kind` the state store records as the window's error kind,
 * and a message that names what failed without header values or secrets.
 */
export type EngineErrorKind =
  | "http-status"
  | "timeout"
  | "network"
  | "rate-limited"
  | "response-format"
  | "response-status"
  | "paging"
  | "request";

export class EngineError extends Error {
  readonly kind: EngineErrorKind;
  constructor(kind: EngineErrorKind, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.kind = kind;
    this.name = new.target.name;
  }
}

export class HttpStatusError extends EngineError {
  constructor(
    readonly status: number,
    readonly method: string,
    /** Safe form (see `safeUrl`). */
    readonly url: string,
    readonly bodyExcerpt: string,
    readonly retryable: boolean,
  ) {
    super("http-status", `${method} ${url} returned HTTP ${status}${bodyExcerpt ? `: ${bodyExcerpt}` : ""}`);
  }
}

export class TimeoutError extends EngineError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly timeoutMs: number,
  ) {
    super("timeout", `${method} ${url} timed out after ${timeoutMs} ms`);
  }
}

export class NetworkError extends EngineError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly code: string,
    cause?: unknown,
  ) {
    super("network", `${method} ${url} failed: ${code}`, { cause });
  }
}

/** A wait (Retry-After, reset header, QPS budget) exceeds the cap: fail the window instead of sleeping for hours. */
export class RateLimitedError extends EngineError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly requestedWaitMs: number,
    readonly maxWaitMs: number,
    /** The throttling status, or undefined when the client's own QPS budget asked for the wait. */
    readonly status?: number,
  ) {
    const reason = status === undefined ? "would have to wait" : `returned HTTP ${status} and asked to wait`;
    super(
      "rate-limited",
      `${method} ${url} ${reason} ${formatDuration(requestedWaitMs)}, more than the ` +
        `${formatDuration(maxWaitMs)} cap; the window will be retried on a later run`,
    );
  }
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)} ms`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${(minutes / 60).toFixed(1)} h`;
}
