/**
 * One measured run of one side of one workload, in a process of its own so its peak RSS, heap and CPU time
 * are the run's alone. Spawned by bench/run.ts with one JSON argument (`WorkerSpec`); prints one JSON line
 * (`WorkerResult`) and exits. Each side's modules are imported only when that side runs.
 */
import { getHeapStatistics } from "node:v8";
import type { WorkerResult, WorkerSpec } from "./types.ts";

interface PreparedSide {
  run(): Promise<{ events: number; bytes: number; stateMs: number }>;
  close(): Promise<void>;
}

async function prepare(spec: WorkerSpec): Promise<PreparedSide> {
  if (spec.side === "ccp-poller") return (await import("./pipeline.ts")).preparePipeline(spec);
  const { runBaseline } = await import("./baseline.ts");
  return { run: async () => ({ ...(await runBaseline(spec)), stateMs: 0 }), close: async () => {} };
}

async function measure(spec: WorkerSpec): Promise<WorkerResult> {
  const side = await prepare(spec);
  let peakHeapBytes = getHeapStatistics().used_heap_size;
  const sampler = setInterval(() => {
    peakHeapBytes = Math.max(peakHeapBytes, getHeapStatistics().used_heap_size);
  }, 10);
  const startRssBytes = process.memoryUsage.rss();
  const cpuBefore = process.cpuUsage();
  const from = process.hrtime.bigint();
  const moved = await side.run();
  const to = process.hrtime.bigint();
  const cpu = process.cpuUsage(cpuBefore);
  clearInterval(sampler);
  peakHeapBytes = Math.max(peakHeapBytes, getHeapStatistics().used_heap_size);
  await side.close();
  return {
    ...moved,
    wallMs: Number(to - from) / 1e6,
    cpuMs: (cpu.user + cpu.system) / 1000,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    startRssBytes,
    peakHeapBytes,
    measuredFromUs: Number(from / 1000n),
    measuredToUs: Number(to / 1000n),
  };
}

const spec = JSON.parse(process.argv[2] ?? "null") as WorkerSpec | null;
if (spec === null) throw new Error("usage: worker.ts '<WorkerSpec JSON>' (spawned by bench/run.ts)");
const result = await measure(spec);
process.stdout.write(`${JSON.stringify(result)}\n`);
// Pooled keep-alive sockets would hold the process open; the result is out, so end here (a CPU profile
// asked for with --cpu-prof is still written on exit).
process.exit(0);
