/** Turning measured runs into the result file's summaries, target checks and the printed table. */
import type { HotFunction } from "./profile.ts";
import type { Side, WorkerResult } from "./types.ts";
import { connectorWindows, totalEvents, type Workload } from "./workloads.ts";

const MB = 1_000_000;

export interface SideSummary {
  /** Medians over the runs (each metric on its own). */
  eventsPerSec: number;
  mbPerSec: number;
  wallMs: number;
  /** Median time spent on watermark-table calls (0 for the baseline). */
  stateMs: number;
  cpuMs: number;
  cpuMsPer1000Events: number;
  peakRssMb: number;
  /** RSS when the measured part began: what the process holds before any event moves. */
  startRssMb: number;
  peakHeapMb: number;
  /** The largest peak RSS of any run: what a memory target is checked against. */
  maxPeakRssMb: number;
}

export interface TargetCheck {
  target: string;
  value: number;
  met: boolean;
}

export interface WorkloadResult {
  key: string;
  title: string;
  paging: Workload["paging"];
  events: number;
  connectors: number;
  connectorWindows: number;
  runs: Record<Side, WorkerResult[]>;
  baseline: SideSummary;
  ccpPoller: SideSummary;
  /** ccp-poller events/s ÷ baseline events/s (medians). */
  ratio: number;
  /** ccp-poller's CPU per 1,000 events over the hand loop's. */
  cpuRatio: number;
  /** The hand loop that asks for the next page right after parsing one and never waits at a window's end, and ccp-poller against it. */
  eagerBaseline?: SideSummary;
  eagerRatio?: number;
  /** Per connector-window, in ms, from the medians: what windows, state and the SDK add to the hand loop. */
  perConnectorWindow: {
    /** ccp-poller wall − baseline wall. */
    wallOverheadMs: number;
    /** ccp-poller wall − eager baseline wall: also counts waiting for a window's uploads before the next's. */
    wallOverheadVsEagerMs?: number;
    /** Of which waiting on watermark-table calls (HTTP to Table Storage / Azurite). */
    stateMs: number;
    /** Wall overhead beyond that HTTP time: what the (d) target is about. */
    overheadBeyondHttpMs: number;
    /** ccp-poller CPU − baseline CPU. */
    cpuOverheadMs: number;
  };
  targets: TargetCheck[];
  /** Top functions by self time in one extra, profiled ccp-poller run; empty when profiling was off. */
  profile: HotFunction[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? upper) + upper) / 2;
}

const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

export function summarizeSide(runs: readonly WorkerResult[]): SideSummary {
  const of = (metric: (run: WorkerResult) => number) => round(median(runs.map(metric)));
  return {
    eventsPerSec: of((run) => run.events / (run.wallMs / 1000)),
    mbPerSec: of((run) => run.bytes / MB / (run.wallMs / 1000)),
    wallMs: of((run) => run.wallMs),
    stateMs: of((run) => run.stateMs),
    cpuMs: of((run) => run.cpuMs),
    cpuMsPer1000Events: of((run) => (run.cpuMs / run.events) * 1000),
    peakRssMb: of((run) => run.peakRssBytes / MB),
    startRssMb: of((run) => run.startRssBytes / MB),
    peakHeapMb: of((run) => run.peakHeapBytes / MB),
    maxPeakRssMb: round(Math.max(...runs.map((run) => run.peakRssBytes / MB))),
  };
}

export interface ScalePoint {
  connectors: number;
  wallMsPerConnector: number;
  startRssMb: number;
  peakRssMb: number;
}

export interface ScaleResult {
  points: ScalePoint[];
  /** Peak RSS added per connector between the two sizes. */
  peakRssKbPerConnector: number;
  /** Wall time per connector at the larger size over the smaller's: about 1 when nothing is super-linear. */
  wallPerConnectorGrowth: number;
  targets: TargetCheck[];
}

export function summarizeScale(runs: readonly { connectors: number; run: WorkerResult }[]): ScaleResult {
  const points = runs.map(({ connectors, run }) => ({
    connectors,
    wallMsPerConnector: round(run.wallMs / connectors, 3),
    startRssMb: round(run.startRssBytes / MB),
    peakRssMb: round(run.peakRssBytes / MB),
  }));
  const [small, large] = [points[0], points.at(-1)];
  if (small === undefined || large === undefined || small === large)
    throw new Error("the scale check needs two sizes");
  const growth = round(large.wallMsPerConnector / small.wallMsPerConnector, 3);
  return {
    points,
    peakRssKbPerConnector: round(
      ((large.peakRssMb - small.peakRssMb) * 1000) / (large.connectors - small.connectors),
      1,
    ),
    wallPerConnectorGrowth: growth,
    targets: [
      {
        target: "wall time per connector at the larger size ≤ 1.5× the smaller's (nothing super-linear)",
        value: growth,
        met: growth <= 1.5,
      },
    ],
  };
}

export function formatScale(scale: ScaleResult): string {
  const lines = scale.points.map(
    (point) =>
      `scale: ${point.connectors} connectors: ${point.wallMsPerConnector} ms per connector, RSS ${point.startRssMb}→${point.peakRssMb} MB`,
  );
  lines.push(`scale: peak RSS per added connector ${scale.peakRssKbPerConnector} KB`);
  for (const check of scale.targets)
    lines.push(`scale: ${check.target}: ${check.value} — ${check.met ? "met" : "MISSED"}`);
  return lines.join("\n");
}

export function summarizeWorkload(
  workload: Workload,
  runs: Record<Side, WorkerResult[]>,
  profile: HotFunction[],
): WorkloadResult {
  const baseline = summarizeSide(runs.baseline);
  const eager = runs["eager-baseline"].length > 0 ? summarizeSide(runs["eager-baseline"]) : undefined;
  const ccpPoller = summarizeSide(runs["ccp-poller"]);
  const ratio = round(ccpPoller.eventsPerSec / baseline.eventsPerSec, 3);
  const windows = connectorWindows(workload);
  const perConnectorWindow = {
    wallOverheadMs: round((ccpPoller.wallMs - baseline.wallMs) / windows, 3),
    ...(eager === undefined
      ? {}
      : { wallOverheadVsEagerMs: round((ccpPoller.wallMs - eager.wallMs) / windows, 3) }),
    stateMs: round(ccpPoller.stateMs / windows, 3),
    overheadBeyondHttpMs: round((ccpPoller.wallMs - ccpPoller.stateMs - baseline.wallMs) / windows, 3),
    cpuOverheadMs: round((ccpPoller.cpuMs - baseline.cpuMs) / windows, 3),
  };
  const cpuRatio = round(ccpPoller.cpuMsPer1000Events / baseline.cpuMsPer1000Events, 3);
  // Issue 18's targets. CPU is what Flex Consumption's instance concurrency buys, so it is a target of its own.
  const targets: TargetCheck[] = [];
  if (workload.key === "a" || workload.key === "b" || workload.key === "c") {
    targets.push({ target: "wall ratio ≥ 0.95", value: ratio, met: ratio >= 0.95 });
    targets.push({
      target: "CPU per 1,000 events ≤ 1.3× the hand loop's",
      value: cpuRatio,
      met: cpuRatio <= 1.3,
    });
  }
  if (workload.key === "c") {
    const rss = ccpPoller.maxPeakRssMb;
    targets.push({ target: "peak RSS < 200 MB (largest of all runs)", value: rss, met: rss < 200 });
  }
  if (workload.key === "d") {
    const overhead = perConnectorWindow.wallOverheadMs;
    targets.push({
      target: "wall overhead per connector-window, table time included, < 5 ms",
      value: overhead,
      met: overhead < 5,
    });
  }
  return {
    key: workload.key,
    title: workload.title,
    paging: workload.paging,
    events: totalEvents(workload),
    connectors: workload.connectors,
    connectorWindows: connectorWindows(workload),
    runs,
    baseline,
    ccpPoller,
    ratio,
    cpuRatio,
    ...(eager === undefined
      ? {}
      : { eagerBaseline: eager, eagerRatio: round(ccpPoller.eventsPerSec / eager.eventsPerSec, 3) }),
    perConnectorWindow,
    targets,
    profile,
  };
}

/** The table the issue asks for, one row per workload and side, then targets and profiles. */
export function formatTable(results: readonly WorkloadResult[]): string {
  const header = [
    "workload",
    "side",
    "events/s",
    "MB/s",
    "ratio",
    "CPU ms/1k ev",
    "RSS MB start→peak",
    "peak heap MB",
    "wall s",
  ];
  const rows: string[][] = [];
  for (const result of results) {
    const sides: [Side, SideSummary, number | undefined][] = [
      ["baseline", result.baseline, undefined],
      ...(result.eagerBaseline
        ? [["eager-baseline", result.eagerBaseline, undefined] as [Side, SideSummary, undefined]]
        : []),
      ["ccp-poller", result.ccpPoller, result.ratio],
    ];
    for (const [side, summary, ratio] of sides) {
      rows.push([
        side === "baseline" ? `(${result.key}) ${result.events.toLocaleString("en-US")} ev` : "",
        side,
        Math.round(summary.eventsPerSec).toLocaleString("en-US"),
        summary.mbPerSec.toFixed(1),
        ratio === undefined
          ? ""
          : `${ratio.toFixed(2)}${result.eagerRatio === undefined ? "" : ` (${result.eagerRatio.toFixed(2)} eager)`}`,
        summary.cpuMsPer1000Events.toFixed(1),
        `${summary.startRssMb.toFixed(0)}→${summary.peakRssMb.toFixed(0)}`,
        summary.peakHeapMb.toFixed(0),
        (summary.wallMs / 1000).toFixed(2),
      ]);
    }
  }
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join(" | ")} |`;
  const out = [
    line(header),
    `|${widths.map((width, column) => (column < 2 ? `:${"-".repeat(width + 1)}` : `${"-".repeat(width + 1)}:`)).join("|")}|`,
    ...rows.map(line),
    "",
  ];
  for (const result of results) {
    for (const check of result.targets) {
      out.push(`(${result.key}) ${check.target}: ${check.value} — ${check.met ? "met" : "MISSED"}`);
    }
    if (result.key === "d") {
      const per = result.perConnectorWindow;
      out.push(
        `(d) per connector-window: wall +${per.wallOverheadMs} ms over the hand loop` +
          (per.wallOverheadVsEagerMs === undefined
            ? ""
            : ` (+${per.wallOverheadVsEagerMs} ms over the eager one)`) +
          `, ${per.stateMs} ms waiting on the watermark table; CPU +${per.cpuOverheadMs} ms`,
      );
    }
  }
  for (const result of results) {
    if (result.profile.length === 0) continue;
    out.push("", `(${result.key}) ccp-poller profile, top ${result.profile.length} by self time:`);
    for (const hot of result.profile) {
      out.push(`  ${hot.selfPercent.toFixed(1).padStart(5)}%  ${hot.function}  ${hot.location}`);
    }
  }
  return out.join("\n");
}
