/**
 * The benchmark's upstream, run in its own process so serving pages never competes with the code under test
 * for its event loop. It serves generated events (about 500 bytes each) spread evenly over a time span, so a
 * query for `[from, to)` always returns the same events whichever side asks and however it pages:
 *
 * - `GET /offset/events?from&to&total&spanMin&limit&offset`: Offset paging.
 * - `GET /token/events?from&to&total&spanMin&limit[&pageToken]`: NextPageToken paging (`$.nextPageToken`,
 *   absent on the last page).
 *
 * Both answer `{ "records": [...] }`. Started through `spawnUpstream`, it prints one JSON line `{ "origin" }`
 * and ends on SIGTERM or when its parent goes away (the IPC channel closes).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createInterface } from "node:readline";
import { fileURLToPath, pathToFileURL } from "node:url";
import { type FakeResponse, type RecordedRequest, startFakeServer } from "../test/fakes/server.ts";
import { BENCH_API_KEY, DATASET_START, MINUTE, PAGE_SIZE } from "./workloads.ts";

const PADDING = "x".repeat(220);

/** The index range `[first, end)` of the events whose timestamps fall in `[from, to)`. */
function eventRange(total: number, spanMin: number, from: number, to: number): [number, number] {
  const span = spanMin * MINUTE;
  // Event i is at DATASET_START + floor(i * span / total): it is in the range when i ≥ (at − start) · total / span.
  const indexAt = (at: number) =>
    Math.min(total, Math.max(0, Math.ceil(((at - DATASET_START) * total) / span)));
  return [indexAt(from), indexAt(to)];
}

function eventJson(index: number, total: number, spanMin: number): string {
  const at = new Date(DATASET_START + Math.floor((index * spanMin * MINUTE) / total)).toISOString();
  return JSON.stringify({
    id: `evt-${index.toString().padStart(9, "0")}`,
    created: at,
    actor: { id: `user-${index % 997}`, displayName: `Bench User ${index % 997}`, type: "user" },
    action: index % 3 === 0 ? "user.login" : "record.update",
    sourceIp: `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`,
    severity: index % 5,
    details: { resource: `projects/${index % 41}/items/${index}`, outcome: "success", padding: PADDING },
  });
}

function page(request: RecordedRequest, pagingBy: "offset" | "token"): FakeResponse {
  const number = (name: string, fallback?: number): number => {
    const value = Number(request.query[name] ?? fallback);
    if (!Number.isFinite(value)) throw new Error(`query parameter ${name} is missing or not a number`);
    return value;
  };
  const total = number("total");
  const spanMin = number("spanMin");
  const [first, end] = eventRange(
    total,
    spanMin,
    Date.parse(request.query.from ?? ""),
    Date.parse(request.query.to ?? ""),
  );
  const limit = number("limit", PAGE_SIZE);
  const skip =
    pagingBy === "offset"
      ? number("offset", 0)
      : Number(Buffer.from(request.query.pageToken ?? "", "base64url").toString() || 0);
  const from = first + skip;
  const to = Math.min(end, from + limit);
  const records: string[] = [];
  for (let index = from; index < to; index++) records.push(eventJson(index, total, spanMin));
  const token =
    pagingBy === "token" && to < end
      ? `,"nextPageToken":"${Buffer.from(String(to - first)).toString("base64url")}"`
      : "";
  return {
    headers: { "content-type": "application/json" },
    body: `{"records":[${records.join(",")}]${token}}`,
  };
}

export async function serveUpstream(): Promise<{ origin: string; close(): Promise<void> }> {
  return startFakeServer((request) => {
    if (request.headers["x-api-key"] !== BENCH_API_KEY) return { status: 401, json: { error: "bad key" } };
    if (request.path === "/offset/events") return page(request, "offset");
    if (request.path === "/token/events") return page(request, "token");
    return { status: 404, json: { error: `no route ${request.path}` } };
  });
}

export interface UpstreamChild {
  origin: string;
  stop(): Promise<void>;
}

export async function spawnUpstream(): Promise<UpstreamChild> {
  const child: ChildProcess = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url)], {
    stdio: ["ignore", "pipe", "inherit", "ipc"],
  });
  const exited = once(child, "exit");
  const announced = once(createInterface({ input: child.stdout as NodeJS.ReadableStream }), "line");
  const first = await Promise.race([announced, exited.then(() => undefined)]);
  if (first === undefined) throw new Error("The benchmark upstream did not start (see its stderr above).");
  const { origin } = JSON.parse(String(first[0])) as { origin: string };
  child.channel?.unref();
  return {
    origin,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      await exited;
    },
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const upstream = await serveUpstream();
  const stop = () => void upstream.close().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("disconnect", stop);
  process.stdout.write(`${JSON.stringify({ origin: upstream.origin })}\n`);
}
