/**
 * A page-numbered search API (the CountBasedPaging shape): `GET /api/v1/events?page=&pageSize=&from=&to=` (epoch ms)
 * with `x-api-key`; body `{ page, pageSize, totalPages, totalResults, data: [...] }`. Pages start at 1
 * (or 0 with `zeroBased`); a page past the end returns an empty `data`.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface CountedEvent {
  id: number;
  time: string;
}

export async function startCountBasedFake(options: {
  apiKey?: string;
  events: CountedEvent[];
  zeroBased?: boolean;
}): Promise<FakeServer & { endpoint: string }> {
  const apiKey = options.apiKey ?? "test-api-key-count-0000";
  const firstPage = options.zeroBased ? 0 : 1;
  const server = await startFakeServer((request) => {
    if (request.path !== "/api/v1/events") return { status: 404, json: { error: "not found" } };
    if (request.headers["x-api-key"] !== apiKey) return { status: 401, json: { error: "unauthorized" } };
    // Epoch milliseconds, as the API documents.
    const from = Number(request.query.from);
    const to = Number(request.query.to);
    const page = Number(request.query.page ?? firstPage);
    const pageSize = Number(request.query.pageSize ?? 50);
    const matching = options.events.filter((e) => Date.parse(e.time) >= from && Date.parse(e.time) < to);
    const index = page - firstPage;
    return {
      json: {
        page,
        pageSize,
        totalPages: Math.ceil(matching.length / pageSize),
        totalResults: matching.length,
        data: matching.slice(index * pageSize, (index + 1) * pageSize),
      },
    };
  });
  return { ...server, endpoint: `${server.origin}/api/v1/events` };
}
