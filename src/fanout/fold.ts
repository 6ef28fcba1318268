/**
 * Folding: the only way fanned-out work moves a connector's watermark. Under the connector's own lease, the
 * accepted ranges that continue CommittedThrough without a gap are committed as one window, and their rows
 * deleted. A range that is not fully accepted stops the fold, so a worker that died mid-range leaves a hole the
 * watermark cannot pass: the range is polled again (from its AcceptedThrough) and folded later.
 */
import type { Connector } from "../definition/schema.ts";
import type { Clock, Logger } from "../engine/types.ts";
import { LeaseLostError, type WatermarkStore } from "../state/index.ts";
import { isAccepted, type RangeRow, type RangeStore } from "./ranges.ts";

export interface FoldDeps {
  store: WatermarkStore;
  ranges: RangeStore;
  clock: Pick<Clock, "now">;
  logger: Logger;
}

export interface FoldResult {
  /** undefined when the connector's lease was held elsewhere: whoever holds it, or the next planner tick, folds. */
  committedThrough: Date | undefined;
  folded: number;
}

export async function foldRanges(
  deps: FoldDeps,
  connector: Pick<Connector, "id" | "secrets">,
  owner: string,
  leaseTtlMs: number,
): Promise<FoldResult> {
  // A suffix of its own, so a fold never "re-acquires" a serial run's lease held by the same process.
  const lease = await deps.store.acquireLease(connector.id, `${owner}:fold`, leaseTtlMs, {
    secrets: connector.secrets,
  });
  if (lease === undefined) return { committedThrough: undefined, folded: 0 };
  try {
    const row = await lease.read();
    const ranges = (await deps.ranges.list(connector.id)).filter((range) => range.mode === "parallel");
    const committed = row.committedThrough;
    // Already covered: an earlier fold crashed before deleting them, or an operator reset the watermark.
    const covered = ranges.filter((range) => committed !== undefined && range.end <= committed);
    const open = ranges.filter((range) => !covered.includes(range));
    const from = committed ?? open[0]?.start;
    let through = from;
    const foldable: RangeRow[] = [];
    for (const range of open) {
      if (through === undefined || range.start.getTime() !== through.getTime() || !isAccepted(range)) break;
      foldable.push(range);
      through = range.end;
    }
    if (from !== undefined && through !== undefined && foldable.length > 0) {
      const sum = (pick: (range: RangeRow) => number) => foldable.reduce((total, r) => total + pick(r), 0);
      const deadLettered = sum((range) => range.deadLettered);
      if (deadLettered > 0) {
        const location = foldable.findLast((range) => range.deadLetterLocation !== "")?.deadLetterLocation;
        await lease.recordDeadLetter(deadLettered, location ?? "");
      }
      await lease.commitWindow(
        { start: from, end: through },
        {
          fetched: sum((range) => range.counts.fetched),
          extracted: sum((range) => range.counts.fetched),
          sent: sum((range) => range.counts.sent),
          accepted: sum((range) => range.counts.accepted),
          pages: 0,
          durationMs: 0,
        },
      );
      deps.logger.info("fan-out ranges folded", {
        connectorId: connector.id,
        ranges: foldable.length,
        committedThrough: through.toISOString(),
      });
    }
    // Deleted only after the commit: a crash in between leaves rows the next fold recognises as covered.
    for (const range of [...covered, ...foldable]) await deps.ranges.remove(range);
    return { committedThrough: through, folded: foldable.length };
  } catch (error) {
    if (error instanceof LeaseLostError) return { committedThrough: undefined, folded: 0 };
    throw error;
  } finally {
    await lease.release();
  }
}
