/**
 * The simulated upstream: one HTTP server on 127.0.0.1 serving every simulated connector under its own path
 * prefix. Each connector's API demands its declared auth, reads the window and paging position from the
 * declared places, serves the events of that window at the declared paths in the declared format, and
 * records every request it had to refuse, with the definition field at fault. Faults, when asked for, hit
 * every fifth data request once.
 */
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as delay } from "node:timers/promises";
import type { Connector } from "../definition/schema.ts";
import { type Answer, type SimulatedAuth, simulateAuth } from "./auth.ts";
import { type Call, type Rejection, readCall } from "./call.ts";
import { documentFor, encodeBody, merge, parsePath, placeValue, type Segment } from "./formats.ts";
import { eventToken, lastEventFieldOf, type SimulatedPaging, simulatePaging } from "./paging.ts";
import { type RequestReader, requestReader } from "./request.ts";

export type FaultKind = "429" | "5xx" | "slow";
export const faultKinds: readonly FaultKind[] = ["429", "5xx", "slow"];

export interface SimEvent {
  sim_id: string;
  sim_time: string;
  message: string;
}

export interface ApiStats {
  requests: number;
  rejected: Rejection[];
}

export interface SimulatedApi {
  stats: ApiStats;
  /** True when the definition filters by time (otherwise every window is served everything). */
  filtersTime: boolean;
}

interface Route {
  api: ConnectorApi;
  handle(call: Call): Promise<Answer>;
}

export interface Upstream {
  origin: string;
  /** Serves `connector` (already pointed at this upstream) under `prefix`, with `events` sorted by time. */
  add(connector: Connector, events: readonly SimEvent[]): SimulatedApi;
  close(): Promise<void>;
}

export async function startUpstream(options: { faults: readonly FaultKind[] }): Promise<Upstream> {
  const routes = new Map<string, Route>();
  let dataRequests = 0;
  const server = createServer((request, response) => {
    void (async () => {
      const call = await readCall(request, origin);
      const route = routes.get(call.url.pathname) ?? routes.get(`${call.method} ${call.url.pathname}`);
      if (route === undefined)
        return send(response, { status: 404, body: `no simulated endpoint at ${call.url.pathname}` });
      send(response, await route.handle(call));
    })().catch((error: unknown) => send(response, { status: 500, body: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fault = async (): Promise<Answer | undefined> => {
    const kind = options.faults[Math.floor(dataRequests / 5) % Math.max(1, options.faults.length)];
    if (kind === undefined || dataRequests++ % 5 !== 4) return undefined;
    if (kind === "429") return { status: 429, headers: { "retry-after": "1" }, body: "slow down" };
    if (kind === "5xx") return { status: 503, body: "try again" };
    await delay(1500);
    return undefined;
  };

  return {
    origin,
    add(connector, events) {
      const api = new ConnectorApi(connector, events);
      for (const endpoint of api.auth.endpoints) {
        routes.set(new URL(endpoint.url).pathname, {
          api,
          handle: async (call) => {
            api.stats.requests++;
            return api.refused(endpoint.handle(call));
          },
        });
      }
      const path = new URL(connector.properties.request.apiEndpoint).pathname;
      routes.set(path, {
        api,
        handle: async (call) => {
          api.stats.requests++;
          return (await fault()) ?? api.serve(call);
        },
      });
      return api;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function send(response: ServerResponse, answer: Answer): void {
  response.writeHead(answer.status, answer.headers ?? { "content-type": "text/plain" });
  response.end(answer.body);
}

class ConnectorApi implements SimulatedApi {
  readonly stats: ApiStats = { requests: 0, rejected: [] };
  readonly auth: SimulatedAuth;
  readonly paging: SimulatedPaging;
  readonly reader: RequestReader;
  readonly filtersTime: boolean;

  constructor(
    private readonly connector: Connector,
    private readonly events: readonly SimEvent[],
  ) {
    const { auth, paging, request } = connector.properties;
    this.auth = simulateAuth(auth, connector.id.replace(/[^A-Za-z0-9]/g, "").slice(0, 24));
    this.paging = simulatePaging(paging, request.queryParameters);
    this.reader = requestReader(request, auth, new URL(request.apiEndpoint).pathname);
    this.filtersTime = this.reader.filtersTime;
  }

  /** An endpoint's refusal becomes a recorded rejection; an answer passes through. */
  refused(outcome: Answer | Rejection | { ok: true }): Answer {
    if ("status" in outcome && !("ok" in outcome)) return outcome;
    if ("ok" in outcome && outcome.ok === false) return this.rejectWith(outcome);
    return { status: 500, body: "no answer" };
  }

  private rejectWith(rejection: Rejection): Answer {
    this.stats.rejected.push(rejection);
    return {
      status: rejection.status,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ error: `${rejection.field}: ${rejection.reason}` }),
    };
  }

  serve(call: Call): Answer {
    const authorized = this.auth.check(call);
    if (authorized.ok === false) return this.rejectWith(authorized);
    const window = this.reader.read(call, {
      names: this.paging.names,
      bodyPaths: this.paging.bodyPaths,
      authBodyFields: this.auth.bodyFields,
    });
    if ("ok" in window) return this.rejectWith(window);
    const position = this.paging.read(call);
    if ("ok" in position) return this.rejectWith(position);

    const selected: number[] = [];
    this.events.forEach((event, index) => {
      const at = Date.parse(event.sim_time);
      if (index < position.cursor) return;
      if (window.start !== undefined && at < window.start.getTime()) return;
      if (window.end !== undefined && at >= window.end.getTime()) return;
      selected.push(index);
    });
    const indexes = selected.slice(position.skip, position.skip + position.size);
    const remaining = Math.max(0, selected.length - position.skip - indexes.length);
    const { response, paging } = this.connector.properties;
    const tokenField =
      paging.pagingType === "NextPageToken" || paging.pagingType === "PersistentToken"
        ? lastEventFieldOf(paging.nextPageTokenJsonPath)
        : undefined;
    const events = indexes.map((index) => {
      const event: Record<string, unknown> = { ...(this.events[index] as SimEvent) };
      if (tokenField !== undefined) event[tokenField] = eventToken(index);
      return event;
    });

    let document: unknown = events.length === 0 && response.eventsJsonPaths.every((p) => p === "$") ? [] : {};
    response.eventsJsonPaths.forEach((path, pathIndex) => {
      // Several paths share the page's events; each finds its own share (§5: the lists are concatenated).
      const share = events.filter((_, i) => i % response.eventsJsonPaths.length === pathIndex);
      const segments = parsePath(path) ?? [];
      const value = response.convertChildPropertiesToArray ? childArrays(share) : undefined;
      document = merge(document, value === undefined ? documentFor(segments, share) : nest(segments, value));
    });
    if (response.successStatusJsonPath && response.successStatusValue !== undefined) {
      document = placeValue(document, response.successStatusJsonPath, response.successStatusValue).document;
    }
    const headers: Record<string, string> = {};
    document = this.paging.decorate(
      { call, position, indexes, remaining, total: selected.length },
      document,
      headers,
    );
    const encoded = encodeBody(response, events, document);
    return { status: 200, headers: { ...headers, "content-type": encoded.contentType }, body: encoded.body };
  }
}

/** §5 convertChildPropertiesToArray: an object whose property values are each a list of events. */
function childArrays(events: readonly Record<string, unknown>[]): Record<string, unknown[]> {
  const groups: Record<string, unknown[]> = {};
  events.forEach((event, i) => {
    const key = `group${i % 2}`;
    groups[key] = [...(groups[key] ?? []), event];
  });
  return groups;
}

function nest(segments: readonly Segment[], value: unknown): unknown {
  return segments.reduceRight<unknown>(
    (inner, segment) => (segment.kind === "name" ? { [segment.name]: inner } : inner),
    value,
  );
}
