/**
 * The baseline: the loop a competent engineer would write by hand for the same work — undici GET of each
 * page, JSON.parse, pick the events array, gzip, POST to the Logs Ingestion stand-in in ≤ 1 MB batches, with
 * uploads overlapped the way the pipeline overlaps them. The eager variant requests the next page right after
 * parsing one, before its uploads start, so a page always downloads while the one before is sent.
 * No windows (one query over the whole span, unless the workload measures per-window scheduling), no state,
 * no SDK. It imports nothing from src/, so its memory is its own.
 */
import { readFile } from "node:fs/promises";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
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
    const body = await gzip(`[${rows.join(",")}]`);
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

  for (let connector = 0; connector < workload.connectors; connector++) {
    for (let from = DATASET_START; from < DATASET_START + span; from += step) {
      const query = new URLSearchParams({
        from: timeParameter(from),
        to: timeParameter(from + step),
        total: String(workload.eventsPerConnector),
        spanMin: String(workload.spanMin),
        limit: String(PAGE_SIZE),
      });
      let received = 0;
      const fetchPage = async () => {
        const response = await request(`${spec.upstreamOrigin}/${workload.paging}/events?${query}`, {
          dispatcher: upstream,
          headers: { "x-api-key": BENCH_API_KEY },
        });
        const body = Buffer.from(await response.body.arrayBuffer());
        if (response.statusCode !== 200) throw new Error(`upstream answered HTTP ${response.statusCode}`);
        bytes += body.length;
        return JSON.parse(body.toString("utf8")) as { records: unknown[]; nextPageToken?: string };
      };
      for (let pending = fetchPage(); ; ) {
        const page = await pending;
        events += page.records.length;
        received += page.records.length;
        const more =
          workload.paging === "offset" ? page.records.length === PAGE_SIZE : page.nextPageToken !== undefined;
        if (workload.paging === "offset") query.set("offset", String(received));
        else if (page.nextPageToken !== undefined) query.set("pageToken", page.nextPageToken);
        if (more && eager) {
          pending = fetchPage();
          pending.catch(() => {}); // awaited next turn; this only keeps a failure meanwhile from counting as unhandled
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
        if (!more) break;
        if (!eager) pending = fetchPage();
      }
    }
  }
  await Promise.all(inFlight);
  await Promise.all([upstream.close(), standin.close()]);
  return { events, bytes };
}
