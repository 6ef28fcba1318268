/**
 * The base of every upstream fake: a real `node:http` server on 127.0.0.1 (free port) that records each
 * request exactly as received and can be told to misbehave. API-specific fakes supply a handler.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface RecordedRequest {
  method: string;
  /** Path without the query. */
  path: string;
  /** Query parameters as received (a repeated name keeps the last value; see `rawQuery`). */
  query: Record<string, string>;
  rawQuery: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  body: string;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** Serialized with JSON.stringify and sent as application/json. */
  json?: unknown;
  body?: string | Buffer;
}

/**
 * One misbehaviour, consumed by one request (in queue order). `pass` lets one request through untouched,
 * so a fault can be aimed at the n-th request.
 */
export type Fault =
  | { kind: "pass" }
  | { kind: "status"; status: number; retryAfter?: string; headers?: Record<string, string>; body?: string }
  /** Drops the connection without a response. */
  | { kind: "reset" }
  /** Waits before sending headers. */
  | { kind: "slowHeaders"; delayMs: number }
  /** Sends headers and half of the body, then stalls before the rest. */
  | { kind: "slowBody"; delayMs: number }
  /** Sends the first half of the real body and ends: truncated JSON. */
  | { kind: "truncated" }
  /** Replaces the body with text that is not JSON. */
  | { kind: "malformed"; body?: string }
  /** Keeps the body but sends another content type (HTML error pages from proxies look like this). */
  | { kind: "contentType"; contentType: string; body?: string }
  /** Replays the previous response: a cursor or next link that repeats. */
  | { kind: "repeat" };

export type FakeHandler = (request: RecordedRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeServer {
  /** `http://127.0.0.1:<port>` (https with the `tls` option) */
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** Queue faults for the next requests, one each. */
  fail(...faults: Fault[]): void;
  close(): Promise<void>;
}

export interface FakeServerOptions {
  /** Serve HTTPS with this key and certificate (PEM) instead of plain HTTP. */
  tls?: { key: string; cert: string };
}

export async function startFakeServer(
  handler: FakeHandler,
  options: FakeServerOptions = {},
): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let previous: { status: number; headers: Record<string, string | string[]>; body: Buffer } | undefined;

  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, ms);
    timers.add(timer);
  };

  const listener = async (req: IncomingMessage, res: ServerResponse) => {
    const recorded = await record(req);
    requests.push(recorded);
    const fault = faults.shift() ?? { kind: "pass" };
    try {
      if (fault.kind === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault.kind === "status") {
        const headers: Record<string, string> = { "content-type": "application/json", ...fault.headers };
        if (fault.retryAfter !== undefined) headers["retry-after"] = fault.retryAfter;
        res
          .writeHead(fault.status, headers)
          .end(fault.body ?? JSON.stringify({ error: `HTTP ${fault.status}` }));
        return;
      }
      const response = fault.kind === "repeat" && previous ? previous : toWire(await handler(recorded));
      previous = response;
      const headers = { ...response.headers };
      let body = response.body;
      if (fault.kind === "malformed")
        body = Buffer.from(fault.body ?? "<html><body>Service Unavailable</body>");
      if (fault.kind === "contentType") {
        headers["content-type"] = fault.contentType;
        if (fault.body !== undefined) body = Buffer.from(fault.body);
      }
      if (fault.kind === "truncated") {
        res.writeHead(response.status, headers).end(body.subarray(0, Math.floor(body.length / 2)));
        return;
      }
      if (fault.kind === "slowHeaders") {
        later(fault.delayMs, () => res.writeHead(response.status, headers).end(body));
        return;
      }
      if (fault.kind === "slowBody") {
        const half = Math.floor(body.length / 2);
        res.writeHead(response.status, { ...headers, "content-length": String(body.length) });
        res.write(body.subarray(0, half));
        later(fault.delayMs, () => res.end(body.subarray(half)));
        return;
      }
      res.writeHead(response.status, headers).end(body);
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" }).end(`fake handler failed: ${String(error)}`);
    }
  };
  const server = options.tls ? createTlsServer(options.tls, listener) : createServer(listener);

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    origin: `${options.tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    fail: (...more) => faults.push(...more),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function record(req: IncomingMessage): Promise<RecordedRequest> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? "/", "http://fake");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return {
    method: req.method ?? "GET",
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    rawQuery: url.search.slice(1),
    headers,
    body: Buffer.concat(chunks).toString("utf8"),
  };
}

function toWire(response: FakeResponse) {
  const headers = { ...response.headers };
  let body: Buffer;
  if (response.json !== undefined) {
    headers["content-type"] ??= "application/json";
    body = Buffer.from(JSON.stringify(response.json));
  } else {
    body =
      typeof response.body === "string" ? Buffer.from(response.body) : (response.body ?? Buffer.alloc(0));
  }
  return { status: response.status ?? 200, headers, body };
}

/** Basic credentials from a recorded request, or undefined. */
export function basicCredentials(request: RecordedRequest): { user: string; password: string } | undefined {
  const match = /^Basic (.+)$/i.exec(request.headers.authorization ?? "");
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
