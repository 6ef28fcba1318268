/**
 * Okta System Log (`GET /api/v1/logs`), as documented: `Authorization: SSWS <token>`; `since`/`until`
 * (ISO 8601; since inclusive, until exclusive), `limit` (default 100, max 1000), `after` cursor; events
 * oldest first; `Link` headers `rel="self"` and `rel="next"`. Without `until` (polling mode) a next link is
 * always returned, even on an empty page, so a client can keep polling from it. Every response carries
 * `X-Rate-Limit-Limit/Remaining/Reset` (reset in epoch seconds); over the limit it answers 429 (E0000047).
 */
import { type FakeServer, startFakeServer } from "./server.ts";

export interface OktaEvent {
  uuid: string;
  published: string;
  eventType: string;
  [field: string]: unknown;
}

export interface OktaFake extends FakeServer {
  readonly endpoint: string;
  add(...events: OktaEvent[]): void;
}

export async function startOktaFake(options: {
  token?: string;
  events?: OktaEvent[];
  /** Requests allowed per rate-limit window of 60 s. */
  rateLimit?: number;
  /** The fake's notion of now (for the reset header), so tests on a fake clock agree with it. */
  now?: () => Date;
}): Promise<OktaFake> {
  const token = options.token ?? "test-api-key-okta-0000";
  const events = [...(options.events ?? [])];
  const limit = options.rateLimit ?? 600;
  const now = options.now ?? (() => new Date());
  let windowStart = Number.NEGATIVE_INFINITY;
  let used = 0;

  const server = await startFakeServer((request) => {
    if (request.path !== "/api/v1/logs") return { status: 404, json: { errorCode: "E0000022" } };
    const at = now().getTime();
    if (at - windowStart >= 60_000) {
      windowStart = at;
      used = 0;
    }
    used += 1;
    const rateHeaders = {
      "x-rate-limit-limit": String(limit),
      "x-rate-limit-remaining": String(Math.max(0, limit - used)),
      "x-rate-limit-reset": String(Math.ceil((windowStart + 60_000) / 1000)),
    };
    if (used > limit) {
      return {
        status: 429,
        headers: rateHeaders,
        json: {
          errorCode: "E0000047",
          errorSummary: "API call exceeded rate limit due to too many requests.",
        },
      };
    }
    if (request.headers.authorization !== `SSWS ${token}`) {
      return {
        status: 401,
        headers: rateHeaders,
        json: { errorCode: "E0000011", errorSummary: "Invalid token provided" },
      };
    }
    const since = request.query.since ? Date.parse(request.query.since) : at - 7 * 24 * 3_600_000;
    const until = request.query.until ? Date.parse(request.query.until) : Number.POSITIVE_INFINITY;
    const pageLimit = Math.min(Number(request.query.limit ?? 100), 1000);
    const sorted = events
      .filter((e) => Date.parse(e.published) >= since && Date.parse(e.published) < until)
      .sort((a, b) => Date.parse(a.published) - Date.parse(b.published));
    const afterIndex = request.query.after ? sorted.findIndex((e) => e.uuid === request.query.after) + 1 : 0;
    const page = sorted.slice(afterIndex, afterIndex + pageLimit);
    const self = new URL(`/api/v1/logs?${request.rawQuery}`, server.origin);
    const links = [`<${self.href}>; rel="self"`];
    const last = page.at(-1) ?? (request.query.after ? { uuid: request.query.after } : undefined);
    const more = afterIndex + pageLimit < sorted.length;
    if ((more || !request.query.until) && last) {
      const next = new URL(self.href);
      next.searchParams.set("after", last.uuid);
      links.push(`<${next.href}>; rel="next"`);
    }
    return { headers: { ...rateHeaders, link: links }, json: page };
  });
  return { ...server, endpoint: `${server.origin}/api/v1/logs`, add: (...more) => events.push(...more) };
}

export function oktaEvents(count: number, start: string, everySeconds = 60, firstId = 1): OktaEvent[] {
  const first = Date.parse(start);
  return Array.from({ length: count }, (_, i) => ({
    uuid: `evt-${firstId + i}`,
    published: new Date(first + i * everySeconds * 1000).toISOString(),
    eventType: "user.session.start",
  }));
}
