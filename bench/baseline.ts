/**
 * The baseline: the loop a competent engineer would write by hand for the same work — undici GET of each
 * page, JSON.parse, pick the events array, gzip, POST to the Logs Ingestion stand-in in ≤ 1 MB batches, with
 * uploads overlapped the way the pipeline overlaps them, window boundaries included. The eager variant requests
 * the next page right after parsing one, before its uploads start, so a page always downloads while the one
 * before is sent, and never waits for a window's uploads before the next window's.
 * No windows (one query over the whole span, unless the workload measures per-window scheduling), no state,
 * no SDK. It imports nothing from src/, so its memory is its own.
 */
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { constants, gzip as gzipCallback } from "node:zlib";
import { Agent, request } from "undici";
import type { WorkerSpec } from "./types.ts";
import { BENCH_API_KEY, DATASET_START, MINUTE, PAGE_SIZE, timeParameter } from "./workloads.ts";

/** The SDK's chunk size, under the service's 1 MiB per call. */
const MAX_BATCH_BYTES = 1_000_000;
const gzip = promisify(gzipCallback);
/** As many as the pipeline keeps in flight (src/runner/deliver-window.ts). */
const UPLOADS_IN_FLIGHT = 2;

export async function runBaseline(spec: WorkerSpec): Promise<{ events: number; bytes: number }> {
  const { workload } = spec;
  const upstream = new Agent();
  const standin = new Agent({ connect: { ca: await readFile(spec.standinCaCertPath, "utf8") } });
  const ingestUrl =
    `${spec.standinEndpoint}/dataCollectionRules/${spec.dcrId}/streams/${spec.stream}` +
    "?api-version=2023-01-01";
  const span = workload.spanMin * MINUTE;
  const step = workload.baselinePerWindow ? workload.windowMin * MINUTE : span;
  let events = 0;
  let bytes = 0;
  const eager = spec.side === "eager-baseline";

  const post = async (rows: string[]) => {
    // The level ccp-poller compresses at (src/sink/upload-call.ts): both sides send bodies of the same size.
    const body = await gzip(`[${rows.join(",")}]`, { level: constants.Z_BEST_SPEED });
    const response = await request(ingestUrl, {
      method: "POST",
      dispatcher: standin,
      headers: {
        authorization: `Bearer ${spec.standinToken}`,
        "content-type": "application/json",
        "content-encoding": "gzip",
      },
      body,
    });
    await response.body.dump();
    if (response.statusCode !== 204) throw new Error(`stand-in answered HTTP ${response.statusCode}`);
  };

  // Overlaps as the pipeline does: up to two uploads in flight, and the next page is requested as soon as the
  // current page's uploads have started, so the ratio measures the pipeline and not the baseline's waiting.
  const inFlight: Promise<void>[] = [];
  const send = async (rows: string[]) => {
    if (inFlight.length >= UPLOADS_IN_FLIGHT) await inFlight.shift();
    const upload = post(rows);
    upload.catch(() => {}); // awaited below; this only keeps a failure from counting as unhandled meanwhile
    inFlight.push(upload);
  };

  const fetchPage = async (query: URLSearchParams) => {
    const response = await request(`${spec.upstreamOrigin}/${workload.paging}/events?${query}`, {
      dispatcher: upstream,
      headers: { "x-api-key": BENCH_API_KEY },
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    if (response.statusCode !== 200) throw new Error(`upstream answered HTTP ${response.statusCode}`);
    bytes += body.length;
    return JSON.parse(body.toString("utf8")) as { records: unknown[]; nextPageToken?: string };
  };
  const windowQueries: URLSearchParams[] = [];
  for (let connector = 0; connector < workload.connectors; connector++) {
    for (let from = DATASET_START; from < DATASET_START + span; from += step) {
      windowQueries.push(
        new URLSearchParams({
          from: timeParameter(from),
          to: timeParameter(from + step),
          total: String(workload.eventsPerConnector),
          spanMin: String(workload.spanMin),
          limit: String(PAGE_SIZE),
        }),
      );
    }
  }
  const requestFirstPage = (index: number) => {
    const query = windowQueries[index];
    if (query === undefined) return undefined;
    const first = fetchPage(query);
    first.catch(() => {}); // awaited when its window starts; this only keeps a failure meanwhile from counting as unhandled
    return first;
  };

  let firstPage = requestFirstPage(0);
  for (const [index, query] of windowQueries.entries()) {
    let received = 0;
    for (let pending = firstPage; pending !== undefined; ) {
      const page = await pending;
      events += page.records.length;
      received += page.records.length;
      const more =
        workload.paging === "offset" ? page.records.length === PAGE_SIZE : page.nextPageToken !== undefined;
      if (workload.paging === "offset") query.set("offset", String(received));
      else if (page.nextPageToken !== undefined) query.set("pageToken", page.nextPageToken);
      // The next page (or the next window's first page) is requested before this one's uploads when eager,
      // once they have started otherwise.
      const requestNext = () => (more ? fetchPage(query) : requestFirstPage(index + 1));
      pending = undefined;
      if (eager) {
        pending = requestNext();
        pending?.catch(() => {}); // awaited next turn; this only keeps a failure meanwhile from counting as unhandled
      }
      let batch: string[] = [];
      let batchBytes = 2;
      for (const event of page.records) {
        const json = JSON.stringify(event);
        const size = Buffer.byteLength(json) + 1;
        if (batch.length > 0 && batchBytes + size > MAX_BATCH_BYTES) {
          await send(batch);
          batch = [];
          batchBytes = 2;
        }
        batch.push(json);
        batchBytes += size;
      }
      if (batch.length > 0) await send(batch);
      if (!eager) pending = requestNext();
      if (!more) {
        firstPage = pending;
        break;
      }
    }
    // Window by window, the pipeline commits a window once all its uploads are answered and starts the next
    // window's uploads after that commit (its first page downloading meanwhile): the hand loop waits as long,
    // without the commit. The eager loop never waits at a window's end.
    if (workload.baselinePerWindow && !eager) await Promise.all(inFlight.splice(0));
  }
  await Promise.all(inFlight);
  await Promise.all([upstream.close(), standin.close()]);
  return { events, bytes };
}
