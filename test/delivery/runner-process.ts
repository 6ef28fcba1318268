/**
 * Starts `runner-child.ts` as a real process and watches it: its output (kept whole, for the secret scan),
 * its exit, and the moment to SIGKILL it. Every process started here is killed by `stopAllRunners`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import type { ConnectorRunReport } from "../../src/runner/poll-connector.ts";
import type { RunnerConfig } from "./pipeline.ts";

const entry = path.join(import.meta.dirname, "runner-child.ts");
const live = new Set<ChildProcess>();

export interface RunnerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The reports line, when the run finished. */
  reports: ConnectorRunReport[] | undefined;
}

export interface RunnerProcess {
  readonly process: ChildProcess;
  readonly exited: Promise<RunnerExit>;
  /** Output so far. */
  output(): string;
  /** SIGKILL now; resolves once the process is gone. */
  kill(): Promise<RunnerExit>;
}

export function spawnRunner(config: RunnerConfig, options: { waitForGo?: boolean } = {}): RunnerProcess {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", entry, JSON.stringify(config), ...(options.waitForGo ? ["--wait-for-go"] : [])],
    { stdio: ["ignore", "pipe", "pipe", "ipc"], env: { PATH: process.env.PATH ?? "" } },
  );
  live.add(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString("utf8");
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<RunnerExit>((resolve) => {
    child.once("close", (code, signal) => {
      live.delete(child);
      const last = stdout.trim().split("\n").at(-1) ?? "";
      const reports = last.startsWith('{"reports"')
        ? (JSON.parse(last) as { reports: ConnectorRunReport[] }).reports
        : undefined;
      resolve({ code, signal, stdout, stderr, reports });
    });
  });
  return {
    process: child,
    exited,
    output: () => stdout + stderr,
    kill: () => {
      child.kill("SIGKILL");
      return exited;
    },
  };
}

/**
 * Resolves "observed" when `condition` holds (checked every few milliseconds: the conditions are counts of
 * requests a fake or the stand-in has received), or "exited" if the runner ended first.
 */
export async function whenObserved(
  runner: RunnerProcess,
  condition: () => boolean,
  timeoutMs = 30_000,
): Promise<"observed" | "exited"> {
  let exited = false;
  void runner.exited.then(() => {
    exited = true;
  });
  const started = Date.now();
  while (!condition()) {
    if (exited) return "exited";
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `Nothing observed within ${timeoutMs} ms; runner output:\n${runner.output().slice(-3_000)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return "observed";
}

export async function stopAllRunners(): Promise<void> {
  await Promise.all(
    [...live].map(
      (child) =>
        new Promise<void>((resolve) => {
          child.once("close", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
}
