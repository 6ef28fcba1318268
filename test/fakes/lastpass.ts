/**
 * LastPass Enterprise API reporting (`POST /enterpriseapi.php`), as documented: a JSON body
 * `{ cid, provhash, cmd: "reporting", data: { from, to } }` with times as `yyyy-MM-dd HH:mm:ss` (UTC here),
 * both inclusive. Failures are HTTP 200 with `{ status: "FAIL", error: [...] }`. Results are
 * `{ status: "OK", next?, data: { "<n>": event } }`: events keyed by position, and a `next` token (sent
 * back as `next` in the body) while more remain.
 */
import { type FakeServer, startFakeServer } from "./server.ts";

/** The fake's default account key: the `provhash` LastPass expects in the JSON body. */
export const LASTPASS_API_KEY = "test-api-key-lastpass-0000";

/** The auth and paging of LastPass's definition: the key goes in the JSON body, and so does the `next` token. */
export const lastPassAuth = {
  type: "APIKey",
  apiKeyName: "provhash",
  apiKey: LASTPASS_API_KEY,
  isApiKeyInPostPayload: true,
};
export const lastPassPaging = {
  pagingType: "NextPageToken",
  nextPageParaName: "next",
  nextPageTokenJsonPath: "$.next",
  pagingInfoPlacement: "RequestBody",
};

export interface LastPassEvent {
  Time: string;
  Username: string;
  IP_Address: string;
  Action: string;
  Data: string;
}

export async function startLastPassFake(options: {
  cid?: string;
  provhash?: string;
  events: LastPassEvent[];
  pageSize?: number;
}): Promise<FakeServer & { endpoint: string }> {
  const cid = options.cid ?? "12345678";
  const provhash = options.provhash ?? LASTPASS_API_KEY;
  const pageSize = options.pageSize ?? 2;
  const fail = (error: string) => ({ json: { status: "FAIL", error: [error] } });

  const server = await startFakeServer((request) => {
    if (request.method !== "POST" || request.path !== "/enterpriseapi.php") return { status: 404, body: "" };
    let body: {
      cid?: unknown;
      provhash?: unknown;
      cmd?: unknown;
      next?: unknown;
      data?: { from?: string; to?: string };
    };
    try {
      body = JSON.parse(request.body);
    } catch {
      return fail("Invalid JSON");
    }
    if (String(body.cid) !== cid || body.provhash !== provhash) return fail("Authorization Error");
    if (body.cmd !== "reporting") return fail("Unknown command");
    const from = body.data?.from ?? "";
    const to = body.data?.to ?? "";
    const matching = options.events.filter((e) => e.Time >= from && e.Time <= to);
    const start = typeof body.next === "string" ? Number(body.next.replace(/^page-/, "")) : 0;
    const page = matching.slice(start, start + pageSize);
    const data = Object.fromEntries(page.map((event, i) => [String(start + i + 1), event]));
    const more = start + pageSize < matching.length;
    return { json: { status: "OK", ...(more ? { next: `page-${start + pageSize}` } : {}), data } };
  });
  return { ...server, endpoint: `${server.origin}/enterpriseapi.php` };
}
