/** The benchmark's workloads (issue 9), the sizes each mode runs them at, and the dataset both sides read. */

/** Every dataset starts here; windows are planned from it, so both sides ask for the same instants. */
export const DATASET_START = Date.parse("2026-01-01T00:00:00Z");
export const BENCH_API_KEY = "test-api-key-bench-0000";
export const MINUTE = 60_000;
/** Events per upstream page, on both sides. */
export const PAGE_SIZE = 1000;

/** `yyyy-MM-ddTHH:mm:ssZ`, the bench definitions' queryTimeFormat. */
export const timeParameter = (at: number): string => new Date(at).toISOString().replace(/\.\d{3}Z$/, "Z");

export type PagingKind = "offset" | "token";

export interface Workload {
  /** `a`…`d`, as the issue names them. */
  key: string;
  title: string;
  paging: PagingKind;
  /** Events per connector, spread evenly over `spanMin` minutes from DATASET_START. */
  eventsPerConnector: number;
  spanMin: number;
  /** The connector's queryWindowInMin. */
  windowMin: number;
  connectors: number;
  /**
   * The hand loop asks for each connector-window separately when true (scheduling overhead is the point),
   * and for the whole span in one query otherwise ("no windows").
   */
  baselinePerWindow: boolean;
}

export type Mode = "full" | "quick" | "smoke";

export function workloadsFor(mode: Mode): Workload[] {
  const scale = { full: 1, quick: 0.1, smoke: 0.01 }[mode];
  const connectors = { full: 50, quick: 10, smoke: 3 }[mode];
  const events = (full: number) => Math.round(full * scale);
  return [
    {
      key: "a",
      title: "Offset paging, pages of 1,000",
      paging: "offset",
      eventsPerConnector: events(200_000),
      spanMin: 100,
      windowMin: 10,
      connectors: 1,
      baselinePerWindow: false,
    },
    {
      key: "b",
      title: "NextPageToken paging, pages of 1,000",
      paging: "token",
      eventsPerConnector: events(200_000),
      spanMin: 100,
      windowMin: 10,
      connectors: 1,
      baselinePerWindow: false,
    },
    {
      key: "c",
      title: "One window of all events",
      paging: "offset",
      eventsPerConnector: events(1_000_000),
      spanMin: 60,
      windowMin: 60,
      connectors: 1,
      baselinePerWindow: false,
    },
    {
      key: "d",
      title: `${connectors} connectors × 4 small windows`,
      paging: "offset",
      eventsPerConnector: 200,
      spanMin: 20,
      windowMin: 5,
      connectors,
      baselinePerWindow: true,
    },
  ];
}

/**
 * The scale check: the timer path over many connectors of one small window each, ccp-poller alone (the hand
 * loop keeps nothing per connector), at two sizes, so per-connector memory and time can be compared.
 */
export function scaleWorkloads(mode: Mode): Workload[] {
  const sizes = { full: [100, 1000], quick: [20, 200], smoke: [2, 4] }[mode];
  return sizes.map((connectors) => ({
    key: `scale-${connectors}`,
    title: `${connectors} connectors × 1 window of 20 events`,
    paging: "offset",
    eventsPerConnector: 20,
    spanMin: 5,
    windowMin: 5,
    connectors,
    baselinePerWindow: true,
  }));
}

export function totalEvents(workload: Workload): number {
  return workload.eventsPerConnector * workload.connectors;
}

export function connectorWindows(workload: Workload): number {
  return (workload.spanMin / workload.windowMin) * workload.connectors;
}
