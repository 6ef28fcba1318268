/**
 * Palo Alto Cortex XDR public API `POST /public_api/v1/alerts/get_alerts`, as documented: a standard API key
 * in `Authorization` with its id in `x-xdr-auth-id`; a JSON body `{ request_data: { filters, search_from,
 * search_to, sort } }` where `search_from` (default 0) and `search_to` (default 100) select a range of at most
 * 100 results; `filters` on `creation_time` with `gte`/`lte` in epoch milliseconds. The reply is
 * `{ reply: { total_count, result_count, alerts } }`. A body that is not JSON, or a bad range, is a 400 with
 * the API's error shape.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface CortexAlert {
  alert_id: string;
  creation_time: number;
  [field: string]: unknown;
}

export interface CortexFake extends FakeServer {
  readonly endpoint: string;
}

export const CORTEX_ALERTS_PATH = "/public_api/v1/alerts/get_alerts";
const MAX_RANGE = 100;

export async function startCortexFake(options: {
  apiKey: string;
  apiKeyId: string;
  alerts: CortexAlert[];
}): Promise<CortexFake> {
  const fail = (status: number, message: string) => ({
    status,
    json: { reply: { err_code: status, err_msg: message, err_extra: null } },
  });
  const server = await startFakeServer((request) => {
    if (request.method !== "POST" || request.path !== CORTEX_ALERTS_PATH) return fail(404, "Not found");
    if (
      request.headers.authorization !== options.apiKey ||
      request.headers["x-xdr-auth-id"] !== options.apiKeyId
    ) {
      return fail(401, "Public API request unauthorized");
    }
    let body: { request_data?: Record<string, unknown> };
    try {
      body = JSON.parse(request.body);
    } catch {
      return fail(400, "Request body is not JSON");
    }
    const data = body.request_data ?? {};
    const from = data.search_from ?? 0;
    const to = data.search_to ?? MAX_RANGE;
    if (
      typeof from !== "number" ||
      typeof to !== "number" ||
      from < 0 ||
      to <= from ||
      to - from > MAX_RANGE
    ) {
      return fail(400, `search_from/search_to must select 1 to ${MAX_RANGE} results, got ${from}..${to}`);
    }
    const filters = Array.isArray(data.filters) ? (data.filters as Record<string, unknown>[]) : [];
    const matching = options.alerts
      .filter((alert) =>
        filters.every((f) => {
          const value = alert[String(f.field)];
          if (typeof value !== "number" || typeof f.value !== "number") return false;
          return f.operator === "gte" ? value >= f.value : f.operator === "lte" ? value <= f.value : false;
        }),
      )
      .sort((a, b) => a.creation_time - b.creation_time);
    const page = matching.slice(from, to);
    return { json: { reply: { total_count: matching.length, result_count: page.length, alerts: page } } };
  });
  return { ...server, endpoint: `${server.origin}${CORTEX_ALERTS_PATH}` };
}

/** `count` alerts, one every `everySeconds` from `start`, ids from 1. */
export function cortexAlerts(count: number, start: string, everySeconds = 1): CortexAlert[] {
  const first = Date.parse(start);
  return Array.from({ length: count }, (_, i) => ({
    alert_id: String(i + 1),
    creation_time: first + i * everySeconds * 1000,
    name: `alert ${i + 1}`,
  }));
}
