/**
 * A local stand-in for the Azure Monitor Logs Ingestion API: a real HTTPS server on 127.0.0.1 with the
 * service's REST contract, so the real `LogsIngestionClient` (auth, gzip, retry) runs unchanged against it.
 * Accepted rows are stored durably as NDJSON (see standin/row-store.ts) for tests, the local run and the
 * parity compare.
 *
 * Run directly (`tsx src/local/ingestion-standin.ts --data-dir <dir> [--port <n>] [--fault <json>]`), or
 * through `spawnIngestionStandin` (standin/child.ts), it prints one JSON line `{ "endpoint", "caCertPath",
 * "pid" }` and serves until SIGTERM/SIGINT, so crash tests can keep it outside the process they kill.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import { pathToFileURL } from "node:url";
import { parseArgs, promisify } from "node:util";
import { gunzip } from "node:zlib";
import type { TokenCredential } from "@azure/identity";
import {
  createStandinTokenCredential,
  loadOrCreateCertificate,
  STANDIN_TOKEN,
} from "./standin/credentials.ts";
import { type Fault, type FaultKind, FaultSwitch, parseFault } from "./standin/faults.ts";
import { createRowStore, isSafeSegment, type RowStore } from "./standin/row-store.ts";

export { type StandinChild, spawnIngestionStandin } from "./standin/child.ts";
export { createStandinTokenCredential, STANDIN_TOKEN } from "./standin/credentials.ts";
export type { Fault, FaultKind } from "./standin/faults.ts";
export { readStoredRows } from "./standin/row-store.ts";

/** The service's limit per call, applied to both the wire (possibly gzipped) and the decoded body. */
export const MAX_REQUEST_BYTES = 1_048_576;
const API_VERSION = "2023-01-01";
const FAULT_PATH = "/_standin/fault";
const MAX_CALLS_KEPT = 10_000;
const unzip = promisify(gunzip);

export interface IngestionStandinOptions {
  /** Rows and the TLS certificate live here; reuse it to restart with the same data and certificate. */
  dataDir: string;
  /** 0 or absent: a free port. */
  port?: number;
  fault?: Fault;
  /** Lower than the service's 1 MiB only to make 413 cheap to provoke in tests. */
  maxRequestBytes?: number;
}

/** One call as the server saw it, for tests that count calls and check their sizes. */
export interface StandinCall {
  dcrId: string;
  stream: string;
  /** The HTTP status answered, or "dropped" when the socket was destroyed instead. */
  status: number | "dropped";
  /** Body bytes as received (gzipped when the client compressed). */
  wireBytes: number;
  /** Decoded body bytes; 0 when the body was never decoded. */
  bodyBytes: number;
  /** Rows stored by this call. */
  rows: number;
}

export interface IngestionStandin {
  /** `https://127.0.0.1:<port>`: the `dataCollectionEndpoint` to give the sink. */
  endpoint: string;
  port: number;
  caCertPem: string;
  caCertPath: string;
  tokenCredential: TokenCredential;
  store: RowStore;
  readRows(dcrId: string, stream: string): Promise<Record<string, unknown>[]>;
  /** The last calls (up to 10,000), oldest first. */
  calls(): readonly StandinCall[];
  setFault(fault: Fault | undefined): void;
  stop(): Promise<void>;
}

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function tooLarge(bytes: number, limit: number): HttpFailure {
  return new HttpFailure(
    413,
    "ContentLengthLimitExceeded",
    `Maximum allowed content length: ${limit} bytes (1 MB). Provided content length: ${bytes} bytes.`,
  );
}

async function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(request.headers["content-length"] ?? Number.NaN);
  if (declared > limit) throw tooLarge(declared, limit);
  const chunks: Buffer[] = [];
  let received = 0;
  for await (const chunk of request) {
    received += (chunk as Buffer).length;
    if (received > limit) throw tooLarge(received, limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

async function decodeBody(wire: Buffer, encoding: string | undefined, limit: number): Promise<Buffer> {
  if (encoding === undefined || encoding === "identity") return wire;
  if (encoding !== "gzip") {
    throw new HttpFailure(400, "InvalidContentEncoding", `Unsupported Content-Encoding '${encoding}'.`);
  }
  try {
    return await unzip(wire, { maxOutputLength: limit + 1 }).then((body) => {
      if (body.length > limit) throw tooLarge(body.length, limit);
      return body;
    });
  } catch (error) {
    if (error instanceof HttpFailure) throw error;
    if ((error as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw tooLarge(limit + 1, limit);
    throw new HttpFailure(400, "InvalidContentEncoding", "The body is not valid gzip.");
  }
}

function parseRows(body: Buffer): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpFailure(400, "InvalidJson", "The request body is not valid JSON.");
  }
  if (!Array.isArray(parsed)) {
    throw new HttpFailure(400, "InvalidPayload", "The request body must be a JSON array of records.");
  }
  if (!parsed.every((row) => row !== null && typeof row === "object" && !Array.isArray(row))) {
    throw new HttpFailure(400, "InvalidPayload", "Every element of the array must be a JSON object.");
  }
  return parsed as Record<string, unknown>[];
}

function sendError(
  response: ServerResponse,
  failure: HttpFailure,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { code: failure.code, message: failure.message } });
  response.writeHead(failure.status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    ...headers,
  });
  response.end(body);
}

function faultFailure(
  fault: FaultKind,
): { failure: HttpFailure; headers: Record<string, string> } | undefined {
  if (fault.kind === "throttle") {
    const headers: Record<string, string> = { "retry-after": String(fault.retryAfterSeconds ?? 1) };
    if (fault.retryAfterMs !== undefined) headers["retry-after-ms"] = String(fault.retryAfterMs);
    return {
      failure: new HttpFailure(429, "TooManyRequests", "Rate limit exceeded (stand-in fault)."),
      headers,
    };
  }
  if (fault.kind === "serverError") {
    const status = fault.status ?? 500;
    return { failure: new HttpFailure(status, "InternalServerError", "Stand-in fault."), headers: {} };
  }
  return undefined;
}

export async function startIngestionStandin(options: IngestionStandinOptions): Promise<IngestionStandin> {
  const certificate = await loadOrCreateCertificate(options.dataDir);
  const store = createRowStore(options.dataDir);
  const limit = options.maxRequestBytes ?? MAX_REQUEST_BYTES;
  const faults = new FaultSwitch();
  faults.set(options.fault);
  const calls: StandinCall[] = [];
  const record = (call: StandinCall): void => {
    calls.push(call);
    if (calls.length > MAX_CALLS_KEPT) calls.shift();
  };

  async function ingest(
    request: IncomingMessage,
    response: ServerResponse,
    url: URL,
    route: { dcrId: string; stream: string },
  ) {
    const { dcrId, stream } = route;
    const call: StandinCall = { dcrId, stream, status: 204, wireBytes: 0, bodyBytes: 0, rows: 0 };
    const fault = faults.next();
    try {
      if (fault?.kind === "slow") await delay(fault.delayMs);
      if (fault?.kind === "dropConnection" && !fault.afterStore) {
        call.status = "dropped";
        request.socket.destroy();
        return;
      }
      const injected = fault === undefined ? undefined : faultFailure(fault);
      if (injected !== undefined) {
        call.status = injected.failure.status;
        request.resume();
        sendError(response, injected.failure, injected.headers);
        return;
      }
      // The SDK percent-encodes the hyphen (`api%2Dversion`); URLSearchParams decodes it.
      if (url.searchParams.get("api-version") !== API_VERSION) {
        throw new HttpFailure(400, "InvalidApiVersion", `Supported api-version: ${API_VERSION}.`);
      }
      if (request.headers.authorization !== `Bearer ${STANDIN_TOKEN}`) {
        throw new HttpFailure(401, "InvalidAuthenticationToken", "A valid Bearer token is required.");
      }
      const wire = await readBody(request, limit);
      call.wireBytes = wire.length;
      const body = await decodeBody(wire, request.headers["content-encoding"], limit);
      call.bodyBytes = body.length;
      const rows = parseRows(body);
      await store.append(dcrId, stream, rows);
      call.rows = rows.length;
      if (fault?.kind === "dropConnection") {
        call.status = "dropped";
        request.socket.destroy();
        return;
      }
      response.writeHead(204).end();
    } catch (error) {
      const failure =
        error instanceof HttpFailure
          ? error
          : new HttpFailure(500, "InternalServerError", "Stand-in failure.");
      call.status = failure.status;
      // A refused body may still be arriving: close the connection after answering instead of reading it all.
      sendError(response, failure, request.complete ? {} : { connection: "close" });
      request.resume();
    } finally {
      record(call);
    }
  }

  async function setFaultFromBody(request: IncomingMessage, response: ServerResponse) {
    try {
      const body = await readBody(request, 64 * 1024);
      faults.set(parseFault(JSON.parse(body.toString("utf8") || "null")));
      response.writeHead(204).end();
    } catch (error) {
      sendError(response, new HttpFailure(400, "InvalidFault", (error as Error).message));
    }
  }

  const server = createServer({ key: certificate.keyPem, cert: certificate.certPem }, (request, response) => {
    const url = new URL(request.url ?? "/", "https://127.0.0.1");
    const route = /^\/dataCollectionRules\/([^/]+)\/streams\/([^/]+)$/.exec(url.pathname);
    const dcrId = decodeURIComponent(route?.[1] ?? "");
    const stream = decodeURIComponent(route?.[2] ?? "");
    if (request.method === "POST" && url.pathname === FAULT_PATH) {
      void setFaultFromBody(request, response);
    } else if (request.method === "POST" && isSafeSegment(dcrId) && isSafeSegment(stream)) {
      void ingest(request, response, url, { dcrId, stream });
    } else {
      request.resume();
      sendError(
        response,
        new HttpFailure(404, "NotFound", `No such resource: ${request.method} ${url.pathname}`),
      );
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `https://127.0.0.1:${port}`,
    port,
    caCertPem: certificate.certPem,
    caCertPath: certificate.certPath,
    tokenCredential: createStandinTokenCredential(),
    store,
    readRows: (dcrId, stream) => store.readRows(dcrId, stream),
    calls: () => calls,
    setFault: (fault) => faults.set(fault),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      "data-dir": { type: "string" },
      port: { type: "string" },
      fault: { type: "string" },
      "max-request-bytes": { type: "string" },
    },
  });
  const dataDir = values["data-dir"];
  if (!dataDir) throw new Error("--data-dir <folder> is required");
  const standin = await startIngestionStandin({
    dataDir,
    port: values.port === undefined ? 0 : Number(values.port),
    fault: values.fault === undefined ? undefined : parseFault(JSON.parse(values.fault)),
    maxRequestBytes:
      values["max-request-bytes"] === undefined ? undefined : Number(values["max-request-bytes"]),
  });
  const stop = () => void standin.stop().then(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  // Spawned with an IPC channel (standin/child.ts): end with the parent, even when it was SIGKILLed.
  process.once("disconnect", stop);
  process.stdout.write(
    `${JSON.stringify({ endpoint: standin.endpoint, caCertPath: standin.caCertPath, pid: process.pid })}\n`,
  );
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
