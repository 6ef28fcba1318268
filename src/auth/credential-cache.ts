/**
 * Caches one fetched credential (access token, JWT, session id) until shortly before it expires, and makes
 * concurrent callers share a single in-flight fetch. The fetch itself is not tied to any caller's signal: one
 * caller giving up must not fail the others waiting on the same token.
 */
import type { Clock } from "../engine/types.ts";

export interface Credential {
  value: string;
  /** Absent: valid until the server answers 401. */
  lifetimeMs?: number;
}

export interface CredentialCache {
  /** The cached credential, or a fresh one when there is none or it is about to expire. */
  get(signal?: AbortSignal): Promise<string>;
  /** Discards the cached credential and fetches a new one (joins a fetch already under way). */
  refresh(signal?: AbortSignal): Promise<string>;
}

/** Renew this long before the stated expiry, so a request never leaves with a token that dies in flight. */
const MAX_SAFETY_MARGIN_MS = 60_000;

export function createCredentialCache(
  fetchCredential: () => Promise<Credential>,
  clock: Clock,
): CredentialCache {
  let cached: { value: string; renewAt: number } | undefined;
  let inFlight: Promise<string> | undefined;

  const fetchShared = (): Promise<string> => {
    inFlight ??= fetchCredential()
      .then((credential) => {
        cached = { value: credential.value, renewAt: renewAt(clock.now().getTime(), credential.lifetimeMs) };
        return credential.value;
      })
      .finally(() => {
        inFlight = undefined;
      });
    return inFlight;
  };

  return {
    get(signal) {
      if (cached !== undefined && clock.now().getTime() < cached.renewAt)
        return Promise.resolve(cached.value);
      return untilAborted(fetchShared(), signal);
    },
    refresh(signal) {
      cached = undefined;
      return untilAborted(fetchShared(), signal);
    },
  };
}

function renewAt(nowMs: number, lifetimeMs: number | undefined): number {
  if (lifetimeMs === undefined) return Number.POSITIVE_INFINITY;
  return nowMs + lifetimeMs - Math.min(MAX_SAFETY_MARGIN_MS, lifetimeMs / 10);
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
