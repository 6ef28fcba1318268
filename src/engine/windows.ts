/**
 * Window planning (reference §3.2, §9 A8/A9).
 *
 * Windows are half-open `[start, end)`, exactly `queryWindowInMin` long and consecutive: each starts where
 * the previous ended, so nothing is skipped and nothing is asked for twice. A window is only issued once
 * it is complete, i.e. `end ≤ now − queryWindowDelayInMin`. The first run starts `initialLookbackMin`
 * (default: one window) before the latest complete minute; bounds therefore always fall on whole
 * minutes, which every second-, millisecond- or minute-precision time format renders exactly.
 *
 * After an outage the backlog is caught up oldest first, in windows of the same size, at most
 * `maxWindows` per run (default 60) so one run never outlives its host; the next run continues.
 */
import type { Connector } from "../definition/schema.ts";
import type { Window } from "./types.ts";

export const DEFAULT_MAX_WINDOWS = 60;
const MINUTE = 60_000;

export interface PlanOptions {
  now: Date;
  initialLookbackMin?: number;
  maxWindows?: number;
}

export function planWindows(
  connector: Connector,
  committedThrough: Date | undefined,
  options: PlanOptions,
): Window[] {
  const { queryWindowInMin, queryWindowDelayInMin } = connector.properties.request;
  const size = queryWindowInMin * MINUTE;
  const latestEnd = options.now.getTime() - queryWindowDelayInMin * MINUTE;
  const maxWindows = options.maxWindows ?? DEFAULT_MAX_WINDOWS;
  let start =
    committedThrough?.getTime() ??
    Math.floor(latestEnd / MINUTE) * MINUTE - (options.initialLookbackMin ?? queryWindowInMin) * MINUTE;

  const windows: Window[] = [];
  while (windows.length < maxWindows && start + size <= latestEnd) {
    windows.push({ start: new Date(start), end: new Date(start + size) });
    start += size;
  }
  return windows;
}
