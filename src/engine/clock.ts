import { setTimeout as delay } from "node:timers/promises";
import type { Clock } from "./types.ts";

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: async (ms, signal) => {
    if (ms > 0) await delay(ms, undefined, signal ? { signal } : undefined);
    else signal?.throwIfAborted();
  },
};

/** A clock for tests: `sleep` advances time at once and records the requested durations. */
export interface FakeClock extends Clock {
  /** Every `sleep` duration requested, in order. */
  readonly sleeps: number[];
  advance(ms: number): void;
  set(at: Date | string): void;
}

export function createFakeClock(start: Date | string = "2026-01-01T00:00:00Z"): FakeClock {
  let current = new Date(start).getTime();
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => new Date(current),
    advance(ms) {
      current += ms;
    },
    set(at) {
      current = new Date(at).getTime();
    },
    async sleep(ms, signal) {
      signal?.throwIfAborted();
      sleeps.push(ms);
      current += Math.max(0, ms);
      // Yield like a real timer so concurrent callers interleave.
      await Promise.resolve();
    },
  };
}
