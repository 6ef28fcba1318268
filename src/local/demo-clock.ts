/**
 * The demo's clock: demo time runs `speed` times faster than real time from the moment it is created, so a
 * 5-minute query window completes every few real seconds. Waits (retry backoff, Retry-After) shrink by the
 * same factor, so the whole engine sees a consistent, faster world.
 */
import { systemClock } from "../engine/clock.ts";
import type { Clock } from "../engine/types.ts";

export function createAcceleratedClock(speed: number, startAt: Date = new Date()): Clock {
  if (!(speed >= 1)) throw new RangeError(`Clock speed must be at least 1, got ${speed}.`);
  const realStart = Date.now();
  const demoStart = startAt.getTime();
  return {
    now: () => new Date(demoStart + (Date.now() - realStart) * speed),
    sleep: (ms, signal) => systemClock.sleep(ms / speed, signal),
  };
}
