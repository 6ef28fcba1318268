/**
 * `npm run bench [-- --quick | --smoke] [--reps <n>] [--only <keys>] [--top <n>] [--out <file>] [--no-profile]`: throughput and memory of
 * the whole pipeline against a minimal hand loop (issue 9), side by side on loopback.
 *
 * The upstream (bench/upstream.ts), the Logs Ingestion stand-in and Azurite each run in a process of their
 * own, shared by both sides; every measured run is a fresh worker process (bench/worker.ts), sides alternating
 * so drift in the machine's load falls on both. After each run the rows the stand-in stored for that run's
 * stream are counted, so a side that lost events fails the bench instead of looking fast.
 * Writes bench/results/latest.json (or --out) and prints the table.
 */
import { execFileSync, spawn } from "node:child_process";
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { type AzuriteInstance, startAzurite } from "../src/local/azurite.ts";
import { STANDIN_TOKEN, type StandinChild, spawnIngestionStandin } from "../src/local/ingestion-standin.ts";
import { topFunctions } from "./profile.ts";
import {
  formatScale,
  formatTable,
  type ScaleResult,
  summarizeScale,
  summarizeWorkload,
  type WorkloadResult,
} from "./report.ts";
import type { Side, WorkerResult, WorkerSpec } from "./types.ts";
import { spawnUpstream, type UpstreamChild } from "./upstream.ts";
import { type Mode, scaleWorkloads, totalEvents, type Workload, workloadsFor } from "./workloads.ts";

const repoRoot = path.resolve(import.meta.dirname, "..");
/**
 * Workers run the compiled JavaScript, as the Functions host does: no TypeScript loader in their memory or
 * profile. Inside node_modules so the compiled files resolve the dependencies; one folder per run so two runs
 * (a manual one and the smoke test) never overwrite each other's files.
 */
const buildDir = path.join(repoRoot, `node_modules/.cache/ccp-bench-${process.pid}`);
const DCR_ID = "dcr-00000000000000000000000000000b01";

export interface BenchResultFile {
  schemaVersion: 1;
  mode: Mode;
  generatedAt: string;
  commit: string | undefined;
  repetitions: number;
  machine: {
    cpus: number;
    cpuModel: string;
    totalMemMb: number;
    node: string;
    platform: string;
    loadAverage: number[];
  };
  notes: string[];
  workloads: WorkloadResult[];
  /** Per-connector cost at two numbers of connectors (left out by `--only` without `scale`). */
  scale?: ScaleResult;
}

const { values: args } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    smoke: { type: "boolean", default: false },
    reps: { type: "string" },
    out: { type: "string" },
    "no-profile": { type: "boolean", default: false },
    /** Workload keys to run, e.g. `--only c` or `--only a,b` (for investigating one; the file then holds only those). */
    only: { type: "string" },
    /** Functions listed per profile (default 5). */
    top: { type: "string", default: "5" },
  },
});
const mode: Mode = args.smoke ? "smoke" : args.quick ? "quick" : "full";
const repetitions = Number(args.reps ?? (mode === "smoke" ? 1 : 5));
if (!Number.isInteger(repetitions) || repetitions < 1)
  throw new Error(`--reps must be a positive integer, got ${args.reps}`);
/** How each side overlaps network waits, so a ratio can be read for what it is (issue 18). */
const BASELINE_OVERLAP =
  "Overlap: the baseline keeps up to 2 uploads in flight and requests the next page once the current page's uploads have started; asked window by window (d), it requests the next window's first page the same way but starts that window's uploads only once the window before's were answered, as the pipeline must to commit in between. The eager baseline requests the next page right after parsing one and never waits at a window's end. ccp-poller keeps 2 uploads in flight and requests the next page as soon as the current page's upload has started, opens the next window's first page during a window's last uploads and commit, and starts the next connector's uploads during a connector's last commit. Both sides gzip at zlib's fastest level: the baseline on the threadpool, ccp-poller in place.";

const outFile = path.resolve(args.out ?? path.join(repoRoot, "bench/results/latest.json"));
const profiling = !args["no-profile"];

const workDir = await mkdtemp(path.join(tmpdir(), "ccp-bench-"));
const standinDir = path.join(workDir, "standin");
const servers: Partial<Servers> = {};
try {
  compileForWorkers();
  servers.azurite = await startAzurite();
  servers.upstream = await spawnUpstream();
  servers.standin = await spawnIngestionStandin({ dataDir: standinDir });
  const results: WorkloadResult[] = [];
  const only = args.only?.split(",").map((key) => key.trim());
  for (const workload of workloadsFor(mode).filter((candidate) => !only || only.includes(candidate.key))) {
    results.push(await benchWorkload(servers as Servers, workload));
  }
  const scale = !only || only.includes("scale") ? await benchScale(servers as Servers) : undefined;
  const file: BenchResultFile = {
    schemaVersion: 1,
    mode,
    generatedAt: new Date().toISOString(),
    commit: currentCommit(),
    repetitions,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      totalMemMb: Math.round(totalmem() / 1_000_000),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
      loadAverage: loadavg().map((load) => Math.round(load * 100) / 100),
    },
    notes: [
      "Medians of the runs, after one unmeasured run of each side per workload; each run is a fresh process running the compiled JavaScript. Peak RSS covers the worker's whole life.",
      "Upstream, Logs Ingestion stand-in (fsyncs every call) and Azurite run in their own processes on the same machine.",
      BASELINE_OVERLAP,
      `Machine: ${cpus().length} cores shared with other work while measuring (load average ${loadavg()[0]?.toFixed(2)} at the end). Expect noise.`,
    ],
    workloads: results,
    ...(scale ? { scale } : {}),
  };
  await mkdir(path.dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify(file, null, 2)}\n`);
  formatLikeTheRepository(outFile);
  process.stdout.write(
    `\n${formatTable(results)}\n${scale ? `\n${formatScale(scale)}\n` : ""}\nWritten to ${path.relative(process.cwd(), outFile)}\n`,
  );
} finally {
  await Promise.allSettled([servers.standin?.stop(), servers.upstream?.stop(), servers.azurite?.stop()]);
  await Promise.all([workDir, buildDir].map((dir) => rm(dir, { recursive: true, force: true })));
}

interface Servers {
  azurite: AzuriteInstance;
  upstream: UpstreamChild;
  standin: StandinChild;
}

async function benchWorkload(servers: Servers, workload: Workload): Promise<WorkloadResult> {
  const runs: Record<Side, WorkerResult[]> = { baseline: [], "eager-baseline": [], "ccp-poller": [] };
  const sides: Side[] = ["baseline", "eager-baseline", "ccp-poller"];
  // One unmeasured run of each side first: the servers' first requests (JIT, connection pools, Azurite's first
  // tables) are otherwise paid by the first measured runs, and unevenly, by the side that calls them most.
  for (const side of sides) await measuredRun(servers, workload, side, "warmup");
  for (let repetition = 0; repetition < repetitions; repetition++) {
    // Rotate which side goes first, so a slow spell on the machine does not always hit the same side.
    const turn = sides.map((_, index) => sides[(index + repetition) % sides.length] as Side);
    for (const side of turn) {
      const result = await measuredRun(servers, workload, side, `${repetition}`);
      runs[side].push(result);
      log(
        `(${workload.key}) ${side.padEnd(14)} run ${repetition + 1}/${repetitions}: ` +
          `${Math.round(result.events / (result.wallMs / 1000))} events/s, ${(result.peakRssBytes / 1e6).toFixed(0)} MB RSS`,
      );
    }
  }
  let profile: WorkloadResult["profile"] = [];
  if (profiling) {
    const profileDir = path.join(workDir, `profile-${workload.key}`);
    const result = await measuredRun(servers, workload, "ccp-poller", "profile", profileDir);
    const [profileFile] = (await readdir(profileDir)).filter((name) => name.endsWith(".cpuprofile"));
    if (profileFile === undefined) throw new Error(`no .cpuprofile written in ${profileDir}`);
    profile = await topFunctions(
      path.join(profileDir, profileFile),
      { fromUs: result.measuredFromUs, toUs: result.measuredToUs },
      { repoRoot, buildDir },
      Number(args.top),
    );
  }
  return summarizeWorkload(workload, runs, profile);
}

/** One ccp-poller run per size; a fresh process each, so each peak RSS is that size's alone. */
async function benchScale(servers: Servers): Promise<ScaleResult> {
  const runs: { connectors: number; run: WorkerResult }[] = [];
  for (const workload of scaleWorkloads(mode)) {
    const run = await measuredRun(servers, workload, "ccp-poller", "scale");
    log(
      `(${workload.key}) ccp-poller: ${(run.wallMs / workload.connectors).toFixed(1)} ms per connector, ${(run.peakRssBytes / 1e6).toFixed(0)} MB RSS`,
    );
    runs.push({ connectors: workload.connectors, run });
  }
  return summarizeScale(runs);
}

/** One worker run; checks that it moved every event of the workload, by its count and by the stand-in's. */
async function measuredRun(
  { azurite, upstream, standin }: Servers,
  workload: Workload,
  side: Side,
  label: string,
  profileDir?: string,
): Promise<WorkerResult> {
  const stream = `Custom-Bench${workload.key.toUpperCase().replace(/[^A-Z0-9]/g, "")}${{ baseline: "Base", "eager-baseline": "Eager", "ccp-poller": "Ccp" }[side]}${label}_CL`;
  const spec: WorkerSpec = {
    side,
    workload,
    upstreamOrigin: upstream.origin,
    standinEndpoint: standin.endpoint,
    standinCaCertPath: standin.caCertPath,
    standinToken: STANDIN_TOKEN,
    dcrId: DCR_ID,
    stream,
    storageConnectionString: azurite.connectionString,
    connectorsDir: path.join(repoRoot, "bench/connectors"),
  };
  const nodeArgs = profileDir === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", profileDir];
  const workerPath = path.join(buildDir, "bench/worker.js");
  const child = spawn(process.execPath, [...nodeArgs, workerPath, JSON.stringify(spec)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`(${workload.key}) ${side} worker exited with ${code}: ${stderr.trim()}`);
  const result = JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as WorkerResult;
  const expected = totalEvents(workload);
  const stored = await countStoredRows(stream);
  if (result.events !== expected || stored !== expected) {
    throw new Error(
      `(${workload.key}) ${side} moved ${result.events} events and the stand-in stored ${stored}; expected ${expected}`,
    );
  }
  return result;
}

/** Lines in the stand-in's NDJSON file for the stream (src/local/standin/row-store.ts), then the file is removed. */
async function countStoredRows(stream: string): Promise<number> {
  const file = path.join(standinDir, "rows", DCR_ID, `${stream}.ndjson`);
  let lines = 0;
  try {
    for await (const chunk of createReadStream(file)) {
      for (let at = (chunk as Buffer).indexOf(10); at !== -1; at = (chunk as Buffer).indexOf(10, at + 1))
        lines++;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  await rm(file, { force: true });
  return lines;
}

/**
 * Emits the worker and what it imports (not the whole repository, so a file mid-edit elsewhere cannot break
 * the bench), with tsconfig.json's emit settings; no type check: that is `npm run typecheck`'s job.
 */
function compileForWorkers(): void {
  const tsc = path.join(repoRoot, "node_modules/.bin/tsc");
  const emit = ["--module", "nodenext", "--target", "es2023", "--rewriteRelativeImportExtensions"];
  const accept = ["--allowImportingTsExtensions", "--verbatimModuleSyntax", "--noCheck", "--ignoreConfig"];
  execFileSync(tsc, ["bench/worker.ts", ...emit, ...accept, "--rootDir", ".", "--outDir", buildDir], {
    cwd: repoRoot,
    stdio: ["ignore", "inherit", "inherit"],
  });
}

/** The committed result file must pass `npm run lint`: let the repository's formatter lay it out. */
function formatLikeTheRepository(file: string): void {
  if (path.relative(repoRoot, file).startsWith("..")) return;
  execFileSync(path.join(repoRoot, "node_modules/.bin/biome"), ["format", "--write", file], {
    cwd: repoRoot,
    stdio: "ignore",
  });
}

function currentCommit(): string | undefined {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
  } catch {
    return undefined;
  }
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
