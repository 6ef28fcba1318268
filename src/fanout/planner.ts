/**
 * The fan-out planner (the timer in POLL_MODE=fanout): reads every watermark row and range row once, decides
 * per connector what is due, and enqueues one message per connector-window range. Idempotent: a range that is
 * queued (its message has not expired) or leased by a worker is never enqueued again, and a connector whose
 * own lease is live (a serial run, a fold) is left alone.
 *
 * Serial work (one message, the connector's own runner under its lease) for short backlogs and for paging
 * with a persistent cursor; parallel ranges of FANOUT_RANGE_WINDOWS windows only for a longer backlog of a
 * connector without one, since a cursor cannot be shared between instances.
 */
import type { Connector } from "../definition/schema.ts";
import { redact } from "../engine/redact.ts";
import type { Engine, Window } from "../engine/types.ts";
import { isPersistentPaging } from "../paging/index.ts";
import type { WatermarkRow } from "../state/index.ts";
import { foldRanges } from "./fold.ts";
import { encodeWorkMessage, type WorkMessage } from "./queue.ts";
import { isAccepted, isLive, type NewRange, type RangeRow, rangeKeyOf } from "./ranges.ts";
import type { FanoutRuntime } from "./runtime.ts";

export interface ConnectorPlan {
  /** Why nothing is done for the connector this tick. */
  skip?: "disabled" | "leased" | "queued" | "deferred";
  /** Range rows the watermark already covers (or a serial run that ended without deleting its row). */
  remove: RangeRow[];
  /** Accepted ranges exist: try to fold them into the watermark. */
  fold: boolean;
  /** Unfinished ranges whose message expired and whose worker is gone: enqueue them again. */
  requeue: RangeRow[];
  create: NewRange[];
}

export interface PlanReport {
  connectors: number;
  /** Messages sent this tick (new and re-queued ranges). */
  enqueued: WorkMessage[];
  folded: number;
  skipped: Partial<Record<NonNullable<ConnectorPlan["skip"]>, number>>;
  durationMs: number;
}

/** How far back one tick plans: enough for a long outage's backlog without unbounded messages. */
const maxPlannedWindows = 10_000;
/** Table and queue calls in flight at once while planning: they are short and I/O bound. */
const planConcurrency = 16;

/** What is due for one connector, from its rows alone (no I/O): the planner's whole decision. */
export function planConnector(
  connector: Connector,
  row: WatermarkRow,
  ranges: readonly RangeRow[],
  now: Date,
  options: {
    engine: Pick<Engine, "planWindows">;
    rangeWindows: number;
    messageTtlSeconds: number;
    initialLookbackMin?: number;
  },
): ConnectorPlan {
  const plan: ConnectorPlan = { remove: [], fold: false, requeue: [], create: [] };
  if (row.disabledReason !== "") return { ...plan, skip: "disabled" };
  if (row.leaseUntil !== undefined && row.leaseUntil > now) return { ...plan, skip: "leased" };
  // The upstream asked not to be called before then (a long Retry-After, recorded by an inline run).
  if (row.notBefore !== undefined && row.notBefore > now) return { ...plan, skip: "deferred" };
  const committed = row.committedThrough;
  for (const range of ranges) {
    const covered = committed !== undefined && range.end <= committed;
    if (covered || (range.mode === "serial" && !isLive(range, now))) plan.remove.push(range);
  }
  const current = ranges.filter((range) => !plan.remove.includes(range));
  if (current.some((range) => range.mode === "serial")) return { ...plan, skip: "queued" };

  plan.fold = current.some(isAccepted);
  plan.requeue = current.filter((range) => !isAccepted(range) && !isLive(range, now));
  const windows = options.engine
    .planWindows(connector, committed ?? current[0]?.start, {
      now,
      maxWindows: maxPlannedWindows,
      ...(options.initialLookbackMin !== undefined ? { initialLookbackMin: options.initialLookbackMin } : {}),
    })
    .filter((window) => !current.some((range) => window.start < range.end && range.start < window.end));
  const first = windows[0];
  const last = windows.at(-1);
  if (first === undefined || last === undefined) return plan;

  const queuedUntil = new Date(now.getTime() + options.messageTtlSeconds * 1000);
  const persistent = isPersistentPaging(connector.properties.paging.pagingType);
  if (current.length === 0 && (persistent || windows.length <= options.rangeWindows)) {
    plan.create.push({
      connectorId: connector.id,
      mode: "serial",
      start: first.start,
      end: last.end,
      queuedUntil,
    });
    return plan;
  }
  if (persistent) return plan;
  for (const run of contiguousRuns(windows)) {
    for (let index = 0; index < run.length; index += options.rangeWindows) {
      const chunk = run.slice(index, index + options.rangeWindows);
      const start = chunk[0]?.start;
      const end = chunk.at(-1)?.end;
      if (start && end)
        plan.create.push({ connectorId: connector.id, mode: "parallel", start, end, queuedUntil });
    }
  }
  return plan;
}

export async function planFanout(
  fanout: FanoutRuntime,
  connectors: readonly Connector[],
): Promise<PlanReport> {
  const { deps, store, logger, runOptions } = fanout.runtime;
  const started = deps.clock.now();
  const report: PlanReport = {
    connectors: connectors.length,
    enqueued: [],
    folded: 0,
    skipped: {},
    durationMs: 0,
  };
  const [rows, allRanges] = await Promise.all([store.list(), fanout.ranges.listAll()]);
  const rowsById = new Map(rows.map((row) => [row.connectorId, row]));
  const rangesById = new Map<string, RangeRow[]>();
  for (const range of allRanges)
    rangesById.set(range.connectorId, [...(rangesById.get(range.connectorId) ?? []), range]);
  const ttl = fanout.settings.messageTtlSeconds;

  const send = async (message: WorkMessage) => {
    await fanout.queues.work.sendMessage(encodeWorkMessage(message), { messageTimeToLive: ttl });
    report.enqueued.push(message);
  };

  const planOne = async (connector: Connector) => {
    const known = rowsById.get(connector.id);
    const row =
      known !== undefined && known.definitionHash === connector.definitionHash
        ? known
        : await store.register(connector);
    const now = deps.clock.now();
    const plan = planConnector(connector, row, rangesById.get(connector.id) ?? [], now, {
      engine: deps.engine,
      rangeWindows: fanout.settings.rangeWindows,
      messageTtlSeconds: ttl,
      ...(runOptions.initialLookbackMin !== undefined
        ? { initialLookbackMin: runOptions.initialLookbackMin }
        : {}),
    });
    if (plan.skip !== undefined) report.skipped[plan.skip] = (report.skipped[plan.skip] ?? 0) + 1;
    for (const range of plan.remove) await fanout.ranges.remove(range);
    if (plan.fold) {
      report.folded += (
        await foldRanges({ ...deps, ranges: fanout.ranges }, connector, deps.owner, leaseTtl(fanout))
      ).folded;
    }
    const queuedUntil = new Date(now.getTime() + ttl * 1000);
    for (const range of plan.requeue) {
      if (await fanout.ranges.requeue(range, queuedUntil)) await send(messageOf(range));
    }
    if (plan.create.length > 0) {
      await fanout.ranges.createAll(plan.create);
      for (const range of plan.create)
        await send(messageOf({ ...range, rangeKey: rangeKeyOf(range.connectorId, range.start) }));
    }
  };

  let next = 0;
  const worker = async () => {
    for (let index = next++; index < connectors.length; index = next++) {
      const connector = connectors[index] as Connector;
      try {
        await planOne(connector);
      } catch (error) {
        // One connector's trouble (a conflicting write, a refused message) never stops the others' planning.
        logger.error("fan-out planning failed for a connector", {
          connectorId: connector.id,
          lastError: redact(
            error instanceof Error ? `${error.name}: ${error.message}` : String(error),
            connector.secrets,
          ),
        });
      }
    }
  };
  await Promise.all(
    Array.from({ length: Math.min(planConcurrency, Math.max(1, connectors.length)) }, worker),
  );
  report.durationMs = deps.clock.now().getTime() - started.getTime();
  return report;
}

export function leaseTtl(fanout: Pick<FanoutRuntime, "runtime">): number {
  return fanout.runtime.runOptions.leaseTtlMs ?? 5 * 60_000;
}

export function messageOf(
  range: Pick<RangeRow, "connectorId" | "rangeKey" | "mode" | "start" | "end">,
): WorkMessage {
  return {
    connectorId: range.connectorId,
    rangeKey: range.rangeKey,
    mode: range.mode,
    start: range.start.toISOString(),
    end: range.end.toISOString(),
  };
}

/** Splits windows (in order) wherever one does not start at the previous one's end (a range sits between). */
function contiguousRuns(windows: readonly Window[]): Window[][] {
  const runs: Window[][] = [];
  for (const window of windows) {
    const run = runs.at(-1);
    const previous = run?.at(-1);
    if (run !== undefined && previous !== undefined && previous.end.getTime() === window.start.getTime())
      run.push(window);
    else runs.push([window]);
  }
  return runs;
}
