/**
 * Replay: re-polls a past range `[from, to)` into the sink without touching the live watermark. No lease is
 * taken and nothing is written to the connector's row, so a replay can run next to the timer; the rows it
 * sends are duplicates of what the live run sent for the same range, told apart downstream by the sink's
 * dedup key. Windows have the connector's own size (the last one may be shorter), oldest first, and the replay
 * stops at the first failed window so `--from` can resume exactly there.
 */
import type { Connector } from "../definition/schema.ts";
import type { Window } from "../engine/types.ts";
import { formatWindow } from "../state/index.ts";
import { deliverWindow, windowReport } from "./deliver-window.ts";
import type { RunnerDeps, WindowReport } from "./types.ts";

export interface ReplayOptions {
  from: Date;
  to: Date;
  signal?: AbortSignal;
  onWindow?: (report: WindowReport) => void;
}

export interface ReplayReport {
  connectorId: string;
  outcome: "replayed" | "failed";
  windows: WindowReport[];
  /** Windows not attempted after a failure. */
  windowsPending: number;
  accepted: number;
  /** Everything before this instant was re-sent and accepted; undefined when the first window failed. */
  replayedThrough: Date | undefined;
  error?: string;
}

/** Why a replay cannot run; nothing was polled or sent. */
export class ReplayRefusedError extends Error {
  override name = "ReplayRefusedError";
}

/** Log Analytics replaces a TimeGenerated older than this with the time the row was received. */
export const timeGeneratedMaxAgeMs = 2 * 24 * 3600_000;

const MINUTE = 60_000;

/**
 * The windows of a replay, or a refusal: Persistent* paging resumes from a stored cursor that belongs to the
 * live watermark, so a past range cannot be re-read without moving it; an incomplete window would miss late
 * events.
 */
export function planReplayWindows(connector: Connector, from: Date, to: Date, now: Date): Window[] {
  const { pagingType } = connector.properties.paging;
  if (pagingType.startsWith("Persistent")) {
    throw new ReplayRefusedError(
      `Connector "${connector.id}" uses ${pagingType} paging: its position is a cursor stored with the live watermark, not a time range, so a past range cannot be replayed. Use reset to move the watermark instead.`,
    );
  }
  if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from.getTime() >= to.getTime()) {
    throw new ReplayRefusedError(
      `Replay range: expected --from earlier than --to (ISO times), got ${String(from)} → ${String(to)}.`,
    );
  }
  const { queryWindowInMin, queryWindowDelayInMin } = connector.properties.request;
  const latestEnd = now.getTime() - queryWindowDelayInMin * MINUTE;
  if (to.getTime() > latestEnd) {
    throw new ReplayRefusedError(
      `Replay range: --to ${to.toISOString()} is after ${new Date(latestEnd).toISOString()}, the end of the latest complete window (now minus queryWindowDelayInMin ${queryWindowDelayInMin}); the live run covers that time.`,
    );
  }
  const size = queryWindowInMin * MINUTE;
  const windows: Window[] = [];
  for (let start = from.getTime(); start < to.getTime(); start += size) {
    windows.push({ start: new Date(start), end: new Date(Math.min(start + size, to.getTime())) });
  }
  return windows;
}

/** True when rows of the range would get a rewritten TimeGenerated in Log Analytics. */
export function olderThanTimeGeneratedLimit(from: Date, now: Date): boolean {
  return now.getTime() - from.getTime() > timeGeneratedMaxAgeMs;
}

export async function replayRange(
  deps: Pick<RunnerDeps, "engine" | "sink" | "clock" | "logger">,
  connector: Connector,
  options: ReplayOptions,
): Promise<ReplayReport> {
  const windows = planReplayWindows(connector, options.from, options.to, deps.clock.now());
  const report: ReplayReport = {
    connectorId: connector.id,
    outcome: "replayed",
    windows: [],
    windowsPending: 0,
    accepted: 0,
    replayedThrough: undefined,
  };
  for (const [index, window] of windows.entries()) {
    const result = await replayWindow(deps, connector, window, options.signal);
    report.windows.push(result);
    options.onWindow?.(result);
    deps.logger[result.outcome === "committed" ? "info" : "warn"]("replay window", {
      connectorId: connector.id,
      window: formatWindow(window),
      outcome: result.outcome === "committed" ? "replayed" : "failed",
      pages: result.counts.pages,
      fetched: result.counts.fetched,
      sent: result.counts.sent,
      accepted: result.counts.accepted,
      durationMs: result.counts.durationMs,
      ...(result.error !== undefined ? { lastError: result.error } : {}),
    });
    if (result.outcome === "failed") {
      report.outcome = "failed";
      report.windowsPending = windows.length - index;
      if (result.error !== undefined) report.error = result.error;
      break;
    }
    report.accepted += result.counts.accepted;
    report.replayedThrough = window.end;
  }
  return report;
}

async function replayWindow(
  deps: Pick<RunnerDeps, "engine" | "sink" | "clock">,
  connector: Connector,
  window: Window,
  signal: AbortSignal | undefined,
): Promise<WindowReport> {
  return windowReport(
    connector,
    window,
    await deliverWindow(deps, connector, window, signal ? { signal } : {}),
  );
}
