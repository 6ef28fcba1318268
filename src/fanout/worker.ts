/**
 * The queue worker: one work message, polled with the same runner as the inline timer. A serial message runs
 * `pollConnector` under the connector's lease; a parallel range runs `pollWindows` under the range's lease and
 * then folds what is contiguous into the watermark. A failure throws, so the host makes the message visible
 * again after host.json's visibilityTimeout; on the last attempt before the poison queue the failure is first
 * written to the watermark row (LastError, Failing), where the status page and `status` show it.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { Connector } from "../definition/schema.ts";
import { redact } from "../engine/redact.ts";
import type { Window } from "../engine/types.ts";
import {
  type ConnectorRunReport,
  pollConnector,
  pollWindows,
  type WindowsOutcome,
} from "../runner/poll-connector.ts";
import { LeaseLostError } from "../state/index.ts";
import { foldRanges } from "./fold.ts";
import { leaseTtl, messageOf } from "./planner.ts";
import { encodeWorkMessage, parseWorkMessage, type WorkMessage } from "./queue.ts";
import type { RangeRow } from "./ranges.ts";
import type { FanoutRuntime } from "./runtime.ts";

export interface Delivery {
  /** 1 on the first delivery; the host's `triggerMetadata.dequeueCount`. */
  dequeueCount: number;
}

export type WorkOutcome =
  | ConnectorRunReport["outcome"]
  | "unknown-connector"
  | "already-done"
  | "range-leased-elsewhere";

export interface WorkResult {
  message: WorkMessage;
  outcome: WorkOutcome;
  windowsCommitted: number;
}

export class FanoutWorkFailedError extends Error {
  override name = "FanoutWorkFailedError";
}

export class FanoutPoisonedError extends Error {
  override name = "FanoutPoisonedError";
}

export async function handleWorkMessage(
  fanout: FanoutRuntime,
  body: unknown,
  delivery: Delivery,
): Promise<WorkResult> {
  const message = parseWorkMessage(body);
  const { connectors, logger } = fanout.runtime;
  const connector = connectors.find((candidate) => candidate.id === message.connectorId);
  if (connector === undefined) {
    // Its definition was removed or no longer loads: nothing to poll; the planner stops planning it too.
    logger.warn("work message for a connector that is not loaded", { connectorId: message.connectorId });
    return { message, outcome: "unknown-connector", windowsCommitted: 0 };
  }
  const range = await fanout.ranges.get(message.rangeKey);
  if (range === undefined) return { message, outcome: "already-done", windowsCommitted: 0 };

  const outcome =
    range.mode === "serial"
      ? await runSerial(fanout, connector, range)
      : await runParallel(fanout, connector, range);
  const windowsCommitted = outcome.windowsCommitted;
  if (outcome.outcome === "failed") {
    const error = outcome.error ?? "the window failed";
    if (delivery.dequeueCount >= fanout.settings.maxDequeueCount)
      await recordPoison(fanout, connector, range, error, delivery);
    throw new FanoutWorkFailedError(
      `Connector "${connector.id}", range ${message.start} → ${message.end} (attempt ${delivery.dequeueCount} of ${fanout.settings.maxDequeueCount}): ${error}`,
    );
  }
  logger.info("work message done", {
    connectorId: connector.id,
    range: `${message.start} → ${message.end}`,
    mode: message.mode,
    outcome: outcome.outcome,
    windowsCommitted,
  });
  return { message, outcome: outcome.outcome, windowsCommitted };
}

function deadlines(fanout: FanoutRuntime): { deadline: Date; hardDeadline?: Date } {
  const { deps, runOptions } = fanout.runtime;
  const now = deps.clock.now().getTime();
  const deadline = new Date(now + runOptions.budgetMs);
  return runOptions.graceMs === undefined
    ? { deadline }
    : { deadline, hardDeadline: new Date(deadline.getTime() + runOptions.graceMs) };
}

async function runSerial(
  fanout: FanoutRuntime,
  connector: Connector,
  range: RangeRow,
): Promise<{ outcome: WorkOutcome; windowsCommitted: number; error?: string }> {
  const { deps, runOptions } = fanout.runtime;
  const { budgetMs: _budget, graceMs: _grace, concurrency: _concurrency, ...perConnector } = runOptions;
  const report = await pollConnector(deps, connector, { ...perConnector, ...deadlines(fanout) });
  // Kept while the message is retried, so the planner does not queue the connector a second time meanwhile.
  if (report.outcome !== "failed") await fanout.ranges.remove(range);
  return report;
}

async function runParallel(
  fanout: FanoutRuntime,
  connector: Connector,
  range: RangeRow,
): Promise<{ outcome: WorkOutcome; windowsCommitted: number; error?: string }> {
  const { deps, store } = fanout.runtime;
  const base = await store.get(connector.id);
  if (base === undefined) return { outcome: "already-done", windowsCommitted: 0 };
  const lease = await fanout.ranges.acquire(
    range.rangeKey,
    deps.owner,
    leaseTtl(fanout),
    base,
    connector.secrets,
  );
  if (lease === undefined) {
    await retryAfterLease(fanout, range);
    return { outcome: "range-leased-elsewhere", windowsCommitted: 0 };
  }
  let result: WindowsOutcome;
  try {
    const windows = rangeWindows(lease.range, connector.properties.request.queryWindowInMin);
    // Health records describe the connector's row, which only the fold writes; a range attempt sends none.
    const { health: _health, ...rangeDeps } = deps;
    result = await pollWindows(rangeDeps, connector, lease, windows, undefined, deadlines(fanout));
  } catch (error) {
    if (!(error instanceof LeaseLostError)) throw error;
    result = {
      outcome: "lease-lost",
      windowsCommitted: 0,
      windowsPending: 0,
      accepted: 0,
      error: error.message,
    };
  } finally {
    await lease.release();
  }
  if (result.outcome === "budget-exhausted") {
    // Handed back to the planner at its next tick, from the range's AcceptedThrough.
    const current = await fanout.ranges.get(range.rangeKey);
    if (current !== undefined) await fanout.ranges.requeue(current, undefined);
  }
  await foldRanges({ ...deps, ranges: fanout.ranges }, connector, deps.owner, leaseTtl(fanout));
  return result;
}

/**
 * Another worker holds the range (still polling it, or dead with its lease not yet run out: a redelivered
 * message can arrive before that). Instead of failing (which would spend the message's attempts and end in the
 * poison queue), this message completes and a new one becomes visible just after the lease ends: the holder
 * will have finished (the range row is gone) or the range is taken over from its AcceptedThrough.
 */
async function retryAfterLease(fanout: FanoutRuntime, range: RangeRow): Promise<void> {
  const current = await fanout.ranges.get(range.rangeKey);
  if (current === undefined) return;
  const now = fanout.runtime.deps.clock.now().getTime();
  const waitSeconds = Math.max(1, Math.ceil(((current.leaseUntil?.getTime() ?? now) - now) / 1000) + 1);
  // The row is left alone: a write would change its etag and cost a live holder its lease.
  await fanout.queues.work.sendMessage(encodeWorkMessage(messageOf(current)), {
    visibilityTimeout: waitSeconds,
    messageTimeToLive: waitSeconds + fanout.settings.messageTtlSeconds,
  });
}

/** The range's windows not yet accepted, on the connector's window grid. */
function rangeWindows(range: RangeRow, windowMinutes: number): Window[] {
  const size = windowMinutes * 60_000;
  const windows: Window[] = [];
  for (let start = range.acceptedThrough.getTime(); start + size <= range.end.getTime(); start += size) {
    windows.push({ start: new Date(start), end: new Date(start + size) });
  }
  return windows;
}

/** The last attempt failed: the message goes to the poison queue, and the watermark row says so. */
async function recordPoison(
  fanout: FanoutRuntime,
  connector: Connector,
  range: RangeRow,
  error: string,
  delivery: Delivery,
): Promise<void> {
  const { deps, store, logger } = fanout.runtime;
  const text = `Work message for ${range.start.toISOString()} → ${range.end.toISOString()} failed ${delivery.dequeueCount} times and moves to the poison queue ${fanout.queues.poison.name}: ${error}`;
  await fanout.ranges.markPoisoned(range.rangeKey, text);
  for (let attempt = 1; attempt <= 5; attempt += 1) {
    const lease = await store.acquireLease(connector.id, `${deps.owner}:poison`, leaseTtl(fanout), {
      secrets: connector.secrets,
    });
    if (lease !== undefined) {
      try {
        const row = await lease.read();
        const current = (await fanout.ranges.get(range.rangeKey)) ?? range;
        const window = current.windowInFlight ??
          row.windowInFlight ?? { start: current.acceptedThrough, end: current.end };
        await lease.failWindow(window, new FanoutPoisonedError(text), zeroCounts);
        return;
      } catch (caught) {
        if (!(caught instanceof LeaseLostError)) throw caught;
      } finally {
        await lease.release();
      }
    }
    // Another worker's fold holds the row for a moment: try again shortly (real time, not the run's clock).
    await delay(100 * attempt);
  }
  logger.error("could not record the poisoned work message on the watermark row", {
    connectorId: connector.id,
    lastError: redact(text, connector.secrets),
  });
}

const zeroCounts = { fetched: 0, extracted: 0, sent: 0, accepted: 0, pages: 0, durationMs: 0 };
