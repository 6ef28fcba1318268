/**
 * Shared by the fan-out tests: reading the work queue, the ids that reached the stand-in, local worker
 * processes, and a timing hop in front of the upstream fake.
 */
import { spawn } from "node:child_process";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import type { DequeuedMessageItem, PeekedMessageItem, QueueClient } from "@azure/storage-queue";
import { Agent, request } from "undici";
import type { Env } from "../../src/config/app-settings.ts";
import { createWorkQueues, type WorkQueues } from "../../src/fanout/queue.ts";

export function queuesOf(env: Env): WorkQueues {
  return createWorkQueues(env);
}

/** Every message now in the queue; received and deleted, or only peeked with `keep`. */
export async function drainQueue(
  queue: QueueClient,
  options: { keep?: boolean } = {},
): Promise<(DequeuedMessageItem | PeekedMessageItem)[]> {
  if (options.keep) return (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
  const all: DequeuedMessageItem[] = [];
  for (;;) {
    const batch = (await queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    if (batch.length === 0) return all;
    for (const message of batch) await queue.deleteMessage(message.messageId, message.popReceipt);
    all.push(...batch);
  }
}

export const sourceIds = (rows: readonly Record<string, unknown>[]): number[] =>
  [...new Set(rows.map((row) => Number(row.id)))].sort((a, b) => a - b);

export interface TimedRequest {
  window: string;
  offset: string;
  startedAt: number;
  endedAt: number;
}

export interface TimingProxy {
  /** host:port, for CCP_JIRA_AUDIT_DOMAIN. */
  host: string;
  requests: TimedRequest[];
  close(): Promise<void>;
}

/**
 * An HTTPS hop in front of an upstream fake that makes every request take `delayMs` and records when each
 * window's requests started and ended, so a test can see two workers polling the same window at once.
 */
export async function startTimingProxy(
  target: string,
  tls: { keyPem: string; certPem: string },
  delayMs: number,
): Promise<TimingProxy> {
  const agent = new Agent({ connect: { ca: tls.certPem } });
  const requests: TimedRequest[] = [];
  const server = createServer({ key: tls.keyPem, cert: tls.certPem }, async (req, res) => {
    const startedAt = performance.now();
    const url = new URL(req.url ?? "/", target);
    const upstream = await request(url, {
      method: "GET",
      headers: { authorization: req.headers.authorization ?? "" },
      dispatcher: agent,
    });
    const body = await upstream.body.text();
    await delay(delayMs);
    res.writeHead(upstream.statusCode, { "content-type": String(upstream.headers["content-type"] ?? "") });
    res.end(body);
    requests.push({
      window: `${url.searchParams.get("from")} → ${url.searchParams.get("to")}`,
      offset: url.searchParams.get("offset") ?? "0",
      startedAt,
      endedAt: performance.now(),
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await agent.close();
    },
  };
}

/** Windows whose requests overlapped in time: a window polled by two workers at once. */
export function overlappingWindows(requests: readonly TimedRequest[]): string[] {
  const byWindow = new Map<string, TimedRequest[]>();
  for (const r of requests) byWindow.set(r.window, [...(byWindow.get(r.window) ?? []), r]);
  return [...byWindow]
    .filter(([, list]) => {
      const sorted = [...list].sort((a, b) => a.startedAt - b.startedAt);
      return sorted.some((r, i) => i > 0 && r.startedAt < (sorted[i - 1]?.endedAt ?? 0));
    })
    .map(([window]) => window);
}

export interface WorkerProcess {
  pid: number;
  output(): string;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const workerEntry = path.resolve(import.meta.dirname, "../../src/fanout/worker-process.ts");
const liveWorkers = new Set<WorkerProcess>();

/** A local queue worker (src/fanout/worker-process.ts) with the current process.env as its app settings. */
export function spawnWorker(args: readonly string[]): WorkerProcess {
  const child = spawn(process.execPath, ["--import", "tsx", workerEntry, ...args], {
    env: { ...process.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  child.stderr.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8");
  });
  const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const worker: WorkerProcess = {
    pid: child.pid ?? -1,
    output: () => output,
    kill: async (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
      liveWorkers.delete(worker);
    },
  };
  liveWorkers.add(worker);
  return worker;
}

export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...liveWorkers].map((worker) => worker.kill("SIGKILL")));
}

/** Polls `condition` every 50 ms (real time: the workers run in real time) until it holds. */
export async function waitFor(
  what: string,
  condition: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > timeoutMs) {
      // The workers' last lines say why (a crash, a stuck lease, a message that kept failing).
      const tails = [...liveWorkers].map(
        (worker) => `--- worker ${worker.pid}:\n${worker.output().split("\n").slice(-20).join("\n")}`,
      );
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}\n${tails.join("\n")}`);
    }
    await delay(50);
  }
}
