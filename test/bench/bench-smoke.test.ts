/**
 * CI smoke of `npm run bench`: the whole harness on the tiniest workloads, once each. Asserts the result
 * file's shape and that both sides moved every event (the harness also checks the stand-in's stored rows);
 * no timing assertions — speed and memory targets live in the full run's results, not in tests.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BenchResultFile } from "../../bench/run.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
let outDir: string;
let result: BenchResultFile;
let output: string;

beforeAll(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), "ccp-bench-smoke-"));
  const outFile = path.join(outDir, "result.json");
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "bench/run.ts"), "--smoke", "--out", outFile],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] },
  );
  output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-4000);
  });
  const [code] = (await once(child, "exit")) as [number | null];
  if (code !== 0) throw new Error(`bench/run.ts --smoke exited with ${code}:\n${stderr}`);
  result = JSON.parse(await readFile(outFile, "utf8")) as BenchResultFile;
}, 180_000);

afterAll(async () => {
  await rm(outDir, { recursive: true, force: true });
});

describe("npm run bench -- --smoke", () => {
  it("writes a result file for the four workloads of issue 9", () => {
    expect(result).toMatchObject({ schemaVersion: 1, mode: "smoke", repetitions: 1 });
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(result.workloads.map((workload) => workload.key)).toEqual(["a", "b", "c", "d"]);
    expect(result.workloads.map((workload) => workload.paging)).toEqual([
      "offset",
      "token",
      "offset",
      "offset",
    ]);
  });

  it("has both sides move every event of each workload, in every run", () => {
    for (const workload of result.workloads) {
      expect(workload.events).toBeGreaterThan(0);
      for (const runs of [workload.runs.baseline, workload.runs["ccp-poller"]]) {
        expect(runs).toHaveLength(result.repetitions);
        for (const run of runs) expect(run.events).toBe(workload.events);
      }
      // Same events from the same upstream: the bytes differ only by page framing (the hand loop asks for the
      // whole span at once, the pipeline per window).
      const [ccp, hand] = [workload.runs["ccp-poller"][0]?.bytes ?? 0, workload.runs.baseline[0]?.bytes ?? 0];
      expect(Math.abs(ccp - hand) / hand, `${workload.key} bytes ${ccp} vs ${hand}`).toBeLessThan(0.01);
    }
  });

  it("reports each metric the issue asks for, for both sides", () => {
    for (const workload of result.workloads) {
      // Every workload also runs the eager hand loop, which in (d) does not wait at a window's end either.
      expect(workload.eagerBaseline, `${workload.key} eager baseline`).toBeDefined();
      expect(workload.runs["eager-baseline"]).toHaveLength(result.repetitions);
      for (const summary of [
        workload.baseline,
        workload.ccpPoller,
        ...(workload.eagerBaseline ? [workload.eagerBaseline] : []),
      ]) {
        for (const metric of [
          "eventsPerSec",
          "mbPerSec",
          "cpuMsPer1000Events",
          "peakRssMb",
          "peakHeapMb",
        ] as const) {
          expect(summary[metric], `${workload.key} ${metric}`).toBeGreaterThan(0);
        }
      }
      expect(workload.ratio).toBeGreaterThan(0);
      expect(workload.cpuRatio).toBeGreaterThan(0);
      expect(workload.targets.length, `${workload.key} targets`).toBe(
        { a: 2, b: 2, c: 3, d: 1 }[workload.key],
      );
      expect(workload.profile.length).toBeGreaterThan(0);
      expect(workload.profile.length).toBeLessThanOrEqual(5);
      for (const hot of workload.profile) {
        expect(hot).toEqual({
          function: expect.any(String),
          location: expect.any(String),
          selfMs: expect.any(Number),
          selfPercent: expect.any(Number),
        });
      }
    }
    const overhead = result.workloads.find((workload) => workload.key === "d")?.perConnectorWindow;
    expect(overhead?.stateMs).toBeGreaterThan(0);
    expect(overhead?.wallOverheadVsEagerMs).toEqual(expect.any(Number));
    expect(output).toMatch(
      /\(d\) per connector-window: wall \+-?[\d.]+ ms over the hand loop \(\+-?[\d.]+ ms over the eager one\)/,
    );
  });

  it("measures the timer path at two numbers of connectors, each run delivering every event", () => {
    expect(result.scale?.points.map((point) => point.connectors)).toEqual([2, 4]);
    for (const point of result.scale?.points ?? []) {
      expect(point.wallMsPerConnector).toBeGreaterThan(0);
      expect(point.peakRssMb).toBeGreaterThanOrEqual(point.startRssMb);
    }
    expect(result.scale?.targets).toHaveLength(1);
    expect(output).toMatch(/scale: 4 connectors: [\d.]+ ms per connector/);
  });

  it("prints the table with a row per workload and side", () => {
    for (const key of ["a", "b", "c", "d"]) expect(output).toMatch(new RegExp(`\\| \\(${key}\\) `));
    expect(output.match(/\| ccp-poller +\|/g)).toHaveLength(4);
    expect(output.match(/\| eager-baseline \|/g)).toHaveLength(4);
  });
});
