/**
 * One place that turns `@azure/data-tables` failures into the state layer's vocabulary. The SDK leaves
 * `RestError.code` undefined for table errors, so branch on `statusCode` only.
 */
import { StateError, StateUnavailableError } from "./errors.ts";

/** Statuses the store branches on itself (missing row, row exists, etag changed); they pass through as is. */
const expectedStatuses = new Set([404, 409, 412]);

/** HTTP status of a table error, or undefined when no response arrived (refused, DNS, timeout). */
export function tableStatus(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "statusCode" in error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    return typeof status === "number" ? status : undefined;
  }
  return undefined;
}

function isUnavailable(error: unknown): boolean {
  if (error instanceof StateUnavailableError) return false;
  if (typeof error === "object" && error !== null && (error as { name?: unknown }).name === "AbortError") {
    return false;
  }
  const status = tableStatus(error);
  return status === undefined ? isTransportError(error) : status === 408 || status >= 500;
}

function isTransportError(error: unknown): boolean {
  // The SDK's RestError without a status, or a raw socket error: both mean the service was not reached.
  const shape = error as { name?: unknown; code?: unknown };
  return shape?.name === "RestError" || (typeof shape?.code === "string" && /^E[A-Z]+/.test(shape.code));
}

/** Runs one table call; "storage is down" becomes a `StateUnavailableError`, everything else passes through. */
export async function tableCall<T>(tableUrl: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const status = tableStatus(error);
    if (status !== undefined && status < 500 && status !== 408 && !expectedStatuses.has(status)) {
      throw new StateError(
        `Table Storage refused to ${what}: HTTP ${status} ${serviceCode(error)} (table ${withoutQuery(tableUrl)}).`,
      );
    }
    if (!isUnavailable(error)) throw error;
    const reason =
      status === undefined
        ? ((error as { code?: unknown }).code ?? (error as Error).message ?? "no response")
        : `HTTP ${status}`;
    // No `cause`: the SDK's error carries the signed request, which has no place in logs.
    throw new StateUnavailableError(
      `Table Storage at ${withoutQuery(tableUrl)} is unavailable (${String(reason)}) while trying to ${what}. Retry later; the row's etag guards against a write that landed anyway.`,
      withoutQuery(tableUrl),
    );
  }
}

/** The service's own error code (`RestError.code` is undefined for table errors). */
function serviceCode(error: unknown): string {
  const details = (error as { details?: { odataError?: { code?: unknown } } }).details;
  const code = details?.odataError?.code;
  return typeof code === "string" ? code : "";
}

/** A SAS token would sit in the query string. */
function withoutQuery(url: string): string {
  return url.split("?")[0] ?? url;
}
