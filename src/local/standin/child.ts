/**
 * Runs the stand-in in its own process, for crash tests that SIGKILL the process under test while the
 * stand-in keeps serving (or that SIGKILL the stand-in itself). The child ends with its parent: it watches
 * the IPC channel, so a dying test never leaves a stand-in behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { Fault } from "./faults.ts";

export interface StandinChildOptions {
  dataDir: string;
  /** Reuse the port of an earlier run to restart on the same endpoint. */
  port?: number;
  fault?: Fault;
  maxRequestBytes?: number;
}

export interface StandinChild {
  endpoint: string;
  caCertPath: string;
  caCertPem: string;
  process: ChildProcess;
  /** SIGTERM, then waits for the exit. */
  stop(): Promise<void>;
}

export async function spawnIngestionStandin(options: StandinChildOptions): Promise<StandinChild> {
  const entry = fileURLToPath(
    new URL(`../ingestion-standin${import.meta.url.endsWith(".ts") ? ".ts" : ".js"}`, import.meta.url),
  );
  const args = [
    ...(entry.endsWith(".ts") ? ["--import", "tsx"] : []),
    entry,
    ...["--data-dir", options.dataDir, "--port", String(options.port ?? 0)],
    ...(options.fault === undefined ? [] : ["--fault", JSON.stringify(options.fault)]),
    ...(options.maxRequestBytes === undefined
      ? []
      : ["--max-request-bytes", String(options.maxRequestBytes)]),
  ];
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe", "ipc"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-2_000);
  });
  const exited = once(child, "exit");
  const announced = once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), "line");
  const first = await Promise.race([announced, exited.then(() => undefined)]);
  if (first === undefined) throw new Error(`The Logs Ingestion stand-in did not start: ${stderr.trim()}`);
  const { endpoint, caCertPath } = JSON.parse(String(first[0])) as { endpoint: string; caCertPath: string };
  child.channel?.unref();
  child.unref();
  return {
    endpoint,
    caCertPath,
    caCertPem: await readFile(caCertPath, "utf8"),
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Referenced again while stopping: once its pipes close, an unreferenced child's exit would not keep
      // this process alive until it is reported, and a caller awaiting stop() would be left hanging.
      child.ref();
      child.kill("SIGTERM");
      await exited;
    },
  };
}
