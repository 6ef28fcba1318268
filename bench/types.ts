/** What bench/run.ts hands a worker process and what the worker reports back. */
import type { Workload } from "./workloads.ts";

/** `eager-baseline`: the hand loop that requests the next page right after parsing one, never waiting at a window's end. */
export type Side = "baseline" | "eager-baseline" | "ccp-poller";

export interface WorkerSpec {
  side: Side;
  workload: Workload;
  upstreamOrigin: string;
  standinEndpoint: string;
  standinCaCertPath: string;
  /** The bearer token the stand-in accepts (not a secret). */
  standinToken: string;
  dcrId: string;
  stream: string;
  /** Azurite's connection string (ccp-poller only). */
  storageConnectionString: string;
  /** Where the bench connector definitions are (the worker runs from the compiled copy). */
  connectorsDir: string;
}

export interface WorkerResult {
  events: number;
  /** Upstream response bytes received. */
  bytes: number;
  wallMs: number;
  /** Time spent waiting on watermark-table calls (ccp-poller; 0 for the baseline, which keeps no state). */
  stateMs: number;
  /** User + system CPU time of the process (zlib's thread pool included). */
  cpuMs: number;
  /** Peak resident set size of this process over its whole life (module loading included). */
  peakRssBytes: number;
  /** Resident set size when the measured part started (modules loaded, clients built). */
  startRssBytes: number;
  /** Largest V8 heap in use seen while measuring (sampled every 10 ms). */
  peakHeapBytes: number;
  /** process.hrtime in microseconds at the start and end of the measured part, to cut the CPU profile. */
  measuredFromUs: number;
  measuredToUs: number;
}
