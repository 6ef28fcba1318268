import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { alerts, startCursorAlertsFake } from "../fakes/cursor-alerts.ts";
import {
  LASTPASS_API_KEY,
  type LastPassEvent,
  lastPassAuth,
  lastPassPaging,
  startLastPassFake,
} from "../fakes/lastpass.ts";
import { type FakeResponse, type FakeServer, startFakeServer } from "../fakes/server.ts";

let fake: FakeServer;
afterEach(async () => {
  await fake?.close();
});

const lastPassEvents: LastPassEvent[] = ["00:59:59", "01:00:00", "01:03:00", "01:07:30", "01:10:00"].map(
  (t, i) => ({
    Time: `2026-01-01 ${t}`,
    Username: `user${i}@example.com`,
    IP_Address: "192.0.2.1",
    Action: "Log in",
    Data: "",
  }),
);

describe("NextPageToken paging", () => {
  it("LastPass: token from $.next goes back in the JSON body; events keyed by id become a list", async () => {
    const lastpass = await startLastPassFake({ events: lastPassEvents, pageSize: 2 });
    fake = lastpass;
    const connector = makeConnector(
      {
        auth: lastPassAuth,
        request: {
          apiEndpoint: lastpass.endpoint,
          httpMethod: "POST",
          queryWindowInMin: 10,
          queryTimeFormat: "yyyy-MM-dd HH:mm:ss",
          isPostPayloadJson: true,
          queryParametersTemplate:
            "{'cid': '12345678', 'cmd': 'reporting', 'data': { 'from': '{_QueryWindowStartTime}', 'to': '{_QueryWindowEndTime}' }, '{_APIKeyName}': '{_APIKey}'}",
        },
        paging: lastPassPaging,
        response: {
          eventsJsonPaths: ["$.data"],
          successStatusJsonPath: "$.status",
          successStatusValue: "OK",
          convertChildPropertiesToArray: true,
        },
      },
      [LASTPASS_API_KEY],
    );
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T01:00:00Z", "2026-01-01T01:10:00Z")),
    );

    // LastPass treats from/to as inclusive: 01:00:00 … 01:10:00.
    expect(pages.map((p) => p.events.map((e) => (e as LastPassEvent).Time.slice(11)))).toEqual([
      ["01:00:00", "01:03:00"],
      ["01:07:30", "01:10:00"],
    ]);
    const bodies = lastpass.requests.map((r) => [r.method, r.headers["content-type"], JSON.parse(r.body)]);
    const expected = {
      cid: "12345678",
      cmd: "reporting",
      data: { from: "2026-01-01 01:00:00", to: "2026-01-01 01:10:00" },
      provhash: LASTPASS_API_KEY,
    };
    expect(bodies).toEqual([
      ["POST", "application/json", expected],
      ["POST", "application/json", { ...expected, next: "page-2" }],
    ]);
  });

  it("LastPass: a FAIL status in a 200 body fails the window without echoing the key", async () => {
    const lastpass = await startLastPassFake({ events: lastPassEvents, provhash: "test-api-key-other" });
    fake = lastpass;
    const connector = makeConnector(
      {
        auth: lastPassAuth,
        request: {
          apiEndpoint: lastpass.endpoint,
          httpMethod: "POST",
          isPostPayloadJson: true,
          queryParametersTemplate: "{'cid': 12345678, 'cmd': 'reporting', '{_APIKeyName}': '{_APIKey}'}",
        },
        response: {
          eventsJsonPaths: ["$.data"],
          successStatusJsonPath: "$.status",
          successStatusValue: "OK",
        },
      },
      [LASTPASS_API_KEY],
    );
    const { engine } = testEngine();
    await expect(
      collect(engine.pollWindow(connector, windowOf("2026-01-01T01:00:00Z", "2026-01-01T01:05:00Z"))),
    ).rejects.toThrow(`${lastpass.endpoint} returned HTTP 200 with $.status = "FAIL", expected "OK"`);
  });

  it("token from a response header goes back in a request header (the ETag example)", async () => {
    const pagesByTag: Record<string, { tag?: string; items: { id: number }[] }> = {
      "": { tag: 'W/"p2"', items: [{ id: 1 }, { id: 2 }] },
      'W/"p2"': { tag: 'W/"p3"', items: [{ id: 3 }] },
      'W/"p3"': { items: [] },
    };
    fake = await startFakeServer((request): FakeResponse => {
      const page = pagesByTag[request.headers.etag ?? ""] ?? { items: [] };
      return { headers: page.tag ? { etag: page.tag } : {}, json: { items: page.items } };
    });
    const connector = makeConnector({
      request: {
        apiEndpoint: `${fake.origin}/items`,
        queryTimeFormat: "UnixTimestamp",
        startTimeAttributeName: "since",
      },
      paging: {
        pagingType: "NextPageToken",
        nextPageTokenResponseHeader: "ETag",
        nextPageRequestHeader: "ETag",
      },
      response: { eventsJsonPaths: ["$.items"] },
    });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(pages.map((p) => p.events)).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }], []]);
    expect(fake.requests.map((r) => [r.rawQuery, r.headers.etag])).toEqual([
      ["since=1767225600", undefined],
      ["since=1767225600", 'W/"p2"'],
      ["since=1767225600", 'W/"p3"'],
    ]);
  });

  it("stops when hasNextFlagJsonPath is false even if a token is present", async () => {
    fake = await startFakeServer((request) =>
      request.query.cursor
        ? { json: { data: [{ id: 3 }], meta: { next: "c3", more: false } } }
        : { json: { data: [{ id: 1 }, { id: 2 }], meta: { next: "c2", more: true } } },
    );
    const connector = makeConnector({
      request: { apiEndpoint: `${fake.origin}/e` },
      paging: {
        pagingType: "NextPageToken",
        nextPageTokenJsonPath: "$.meta.next",
        nextPageParaName: "cursor",
        hasNextFlagJsonPath: "$.meta.more",
      },
      response: { eventsJsonPaths: ["$.data"] },
    });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(pages.map((p) => p.events)).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
    expect(fake.requests.map((r) => r.query.cursor)).toEqual([undefined, "c2"]);
  });
});

describe("PersistentToken paging against a server-side cursor API", () => {
  it("sends the stored token first, returns the last token on each page, and resumes from it", async () => {
    const api = await startCursorAlertsFake({ alerts: alerts(5) });
    fake = api;
    const connector = makeConnector(
      {
        auth: {
          type: "APIKey",
          apiKeyName: "Authorization",
          apiKeyIdentifier: "Bearer",
          apiKey: "test-api-key-alerts-0000",
        },
        request: { apiEndpoint: api.endpoint },
        paging: {
          pagingType: "PersistentToken",
          nextPageParaName: "gta",
          nextPageTokenJsonPath: "$.alerts[-1:]._id",
          pageSizeParameterName: "limit",
          pageSize: 2,
        },
        response: { eventsJsonPaths: ["$.alerts"] },
      },
      ["test-api-key-alerts-0000"],
    );
    const { engine } = testEngine();
    const window1 = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(window1.map((p) => [p.events.length, p.cursor])).toEqual([
      [2, "a000002"],
      [2, "a000004"],
      [1, "a000005"],
      [0, "a000005"],
    ]);
    expect(api.requests.map((r) => r.rawQuery)).toEqual([
      "limit=2",
      "limit=2&gta=a000002",
      "limit=2&gta=a000004",
      "limit=2&gta=a000005",
    ]);

    api.add(...alerts(1, 6));
    api.requests.length = 0;
    const window2 = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"), {
        cursor: "a000005",
      }),
    );
    expect(api.requests[0]?.rawQuery).toBe("limit=2&gta=a000005");
    expect(window2.map((p) => [p.events.length, p.cursor])).toEqual([
      [1, "a000006"],
      [0, "a000006"],
    ]);
  });
});

describe("pagingQueryParamOnly", () => {
  it("sends only the paging parameters on follow-up requests", async () => {
    fake = await startFakeServer((request) =>
      request.query.cursor
        ? { json: { data: [{ id: 3 }] } }
        : { json: { data: [{ id: 1 }, { id: 2 }], next: "c2" } },
    );
    const connector = makeConnector({
      request: {
        apiEndpoint: `${fake.origin}/e?static=1`,
        queryTimeFormat: "UnixTimestamp",
        startTimeAttributeName: "from",
      },
      paging: {
        pagingType: "NextPageToken",
        nextPageTokenJsonPath: "$.next",
        nextPageParaName: "cursor",
        pageSizeParameterName: "size",
        pageSize: 2,
        pagingQueryParamOnly: true,
      },
      response: { eventsJsonPaths: ["$.data"] },
    });
    const { engine } = testEngine();
    await collect(engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")));
    expect(fake.requests.map((r) => r.rawQuery)).toEqual([
      "static=1&from=1767225600&size=2",
      "size=2&cursor=c2",
    ]);
  });
});
