/** Shared setup for auth tests: real HTTP client on a fake clock, and the "no secret anywhere" check. */
import { expect } from "vitest";
import { createFakeClock, createHttpClient, type FakeClock } from "../../src/engine/http.ts";
import type { AuthDeps, OutgoingRequest } from "../../src/engine/types.ts";

export function authDeps(clock: FakeClock = createFakeClock()): AuthDeps & { clock: FakeClock } {
  // No jitter and a zero backoff: token-endpoint retries happen at once and deterministically.
  return { clock, http: createHttpClient({ clock, random: () => 0 }) };
}

export function get(url: string): OutgoingRequest {
  return { method: "GET", url: new URL(url), headers: {} };
}

/** The rejection of `promise` (fails the test if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail("expected a rejection"),
    (error: unknown) => error,
  );
}

/** Asserts that none of the secrets appears in the error's string form, stack or JSON. */
export function expectNoSecrets(error: unknown, secrets: readonly string[]): void {
  const stack = error instanceof Error ? (error.stack ?? "") : "";
  const surfaces = [String(error), stack, JSON.stringify(error)];
  for (const secret of secrets) {
    for (const surface of surfaces) expect(surface).not.toContain(secret);
  }
}

export function formFields(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}
