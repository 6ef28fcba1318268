/**
 * Cisco Duo Admin API `GET /admin/v2/logs/activity`, with Duo's request check: the `Authorization` header
 * is `Basic base64(ikey:signature)` and the signature must be the hex HMAC-SHA1, under the secret key, of
 * `Date\nMETHOD\nhost\npath\nparams` (params sorted, RFC 3986-encoded, as Duo's reference client
 * duo_client_python builds them). Anything else is Duo's 401 `{ code: 40101, stat: "FAIL" }`. Items are
 * paged with `limit` and an opaque `next_offset` ("<ts>,<id>" of the last item), `mintime`/`maxtime` in
 * epoch milliseconds.
 */
import { createHmac } from "node:crypto";
import { basicCredentials, type FakeServer, startFakeServer } from "./server.ts";

export interface DuoItem {
  activity_id: string;
  ts: string;
  [field: string]: unknown;
}

export interface DuoFake extends FakeServer {
  readonly endpoint: string;
}

export const DUO_ACTIVITY_PATH = "/admin/v2/logs/activity";

function quote(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export async function startDuoFake(options: {
  ikey: string;
  skey: string;
  items: DuoItem[];
}): Promise<DuoFake> {
  const unauthorized = (message: string) => ({
    status: 401,
    json: { code: 40101, message, stat: "FAIL" },
  });
  const server = await startFakeServer((request) => {
    const credentials = basicCredentials(request);
    const date = request.headers.date;
    if (credentials === undefined || date === undefined || Number.isNaN(Date.parse(date))) {
      return unauthorized("Missing request credentials");
    }
    const params = [...new URLSearchParams(request.rawQuery)]
      .map(([k, v]) => `${quote(k)}=${quote(v)}`)
      .sort()
      .join("&");
    const canonical = [
      date,
      request.method.toUpperCase(),
      (request.headers.host ?? "").toLowerCase(),
      request.path,
      params,
    ].join("\n");
    const expected = createHmac("sha1", options.skey).update(canonical).digest("hex");
    if (credentials.user !== options.ikey || credentials.password !== expected) {
      return unauthorized("Invalid signature in request credentials");
    }
    if (request.path !== DUO_ACTIVITY_PATH) return { status: 404, json: { code: 40401, stat: "FAIL" } };
    const min = Number(request.query.mintime);
    const max = Number(request.query.maxtime);
    const limit = Number(request.query.limit ?? 100);
    const matching = options.items.filter((item) => Date.parse(item.ts) >= min && Date.parse(item.ts) <= max);
    const after = request.query.next_offset;
    const start =
      after === undefined
        ? 0
        : matching.findIndex((item) => `${Date.parse(item.ts)},${item.activity_id}` === after) + 1;
    const page = matching.slice(start, start + limit);
    const last = page.at(-1);
    const more = start + limit < matching.length && last !== undefined;
    return {
      json: {
        stat: "OK",
        response: {
          items: page,
          metadata: {
            next_offset: more ? `${Date.parse(last.ts)},${last.activity_id}` : null,
            total_objects: matching.length,
          },
        },
      },
    };
  });
  return { ...server, endpoint: `${server.origin}${DUO_ACTIVITY_PATH}` };
}
