/**
 * Switchable failures of the Logs Ingestion stand-in, so tests can prove the sink's retry, split and
 * at-least-once behaviour against a real server instead of a mocked SDK.
 */

export type FaultKind =
  /** 429 with `Retry-After` (seconds, as the service sends it) and optionally `retry-after-ms`. */
  | { kind: "throttle"; retryAfterSeconds?: number; retryAfterMs?: number }
  /** A 5xx with a service-shaped error body. */
  | { kind: "serverError"; status?: number }
  /** Waits before handling the call (the call then succeeds unless the client gave up). */
  | { kind: "slow"; delayMs: number }
  /**
   * Destroys the socket without an answer. `afterStore` first stores the rows, so the client sees a
   * failure for rows that did land: the ambiguous case that makes at-least-once produce duplicates.
   */
  | { kind: "dropConnection"; afterStore?: boolean };

export type Fault = FaultKind & {
  /** Calls to let through untouched before the fault starts (`skip: 2, times: 1` fails the 3rd call). */
  skip?: number;
  /** How many calls the fault hits; absent = every call until it is cleared. */
  times?: number;
};

/** Decides, call by call, which fault (if any) applies. Counting starts when the fault is set. */
export class FaultSwitch {
  #fault: Fault | undefined;
  #seen = 0;

  set(fault: Fault | undefined): void {
    this.#fault = fault;
    this.#seen = 0;
  }

  /** Consumes one call and returns the fault that hits it. */
  next(): FaultKind | undefined {
    const fault = this.#fault;
    if (fault === undefined) return undefined;
    const index = this.#seen++;
    const skip = fault.skip ?? 0;
    if (index < skip) return undefined;
    if (fault.times !== undefined && index >= skip + fault.times) return undefined;
    return fault;
  }
}

const FAULT_KINDS = new Set(["throttle", "serverError", "slow", "dropConnection"]);

/** Checks a fault that arrived as JSON (command line or the control endpoint). */
export function parseFault(value: unknown): Fault | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== "object" || !FAULT_KINDS.has(String((value as { kind?: unknown }).kind))) {
    throw new Error(`Expected a fault { kind: ${[...FAULT_KINDS].join(" | ")}, … } or null`);
  }
  return value as Fault;
}
