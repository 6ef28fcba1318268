import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { type SignIn, startGraphFake } from "../fakes/graph.ts";
import type { FakeServer } from "../fakes/server.ts";

let fake: FakeServer;
afterEach(async () => {
  await fake?.close();
});

const signIns: SignIn[] = Array.from({ length: 7 }, (_, i) => ({
  id: `s${i + 1}`,
  createdDateTime: new Date(Date.parse("2026-01-01T00:00:00Z") + i * 45_000).toISOString(),
  userPrincipalName: `user${i + 1}@example.com`,
}));

const graphConnector = (endpoint: string) =>
  makeConnector(
    {
      auth: {
        type: "APIKey",
        apiKeyName: "Authorization",
        apiKeyIdentifier: "Bearer",
        apiKey: "test-token-graph-0000",
      },
      request: {
        apiEndpoint: endpoint,
        queryWindowInMin: 5,
        queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
        queryTimeIntervalAttributeName: "$filter",
        queryTimeIntervalPrepend: "createdDateTime ge ",
        queryTimeIntervalDelimiter: " and createdDateTime lt ",
        queryParameters: { $top: 3 },
      },
      paging: { pagingType: "NextPageUrl", nextPageTokenJsonPath: "$['@odata.nextLink']" },
      response: { eventsJsonPaths: ["$.value"] },
    },
    ["test-token-graph-0000"],
  );

describe("NextPageUrl paging against a Graph-style API", () => {
  it("follows @odata.nextLink until it is absent", async () => {
    const graph = await startGraphFake({ signIns });
    fake = graph;
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        graphConnector(graph.endpoint),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );
    expect(pages.map((p) => p.events.map((e) => (e as SignIn).id))).toEqual([
      ["s1", "s2", "s3"],
      ["s4", "s5", "s6"],
      ["s7"],
    ]);
    const filter =
      "%24filter=createdDateTime+ge+2026-01-01T00%3A00%3A00Z+and+createdDateTime+lt+2026-01-01T00%3A05%3A00Z&%24top=3";
    const token = (n: number) => Buffer.from(String(n)).toString("base64url");
    expect(graph.requests.map((r) => r.rawQuery)).toEqual([
      filter,
      `${filter}&%24skiptoken=${token(3)}`,
      `${filter}&%24skiptoken=${token(6)}`,
    ]);
    expect(graph.requests.every((r) => r.headers.authorization === "Bearer test-token-graph-0000")).toBe(
      true,
    );
  });

  it("refuses a next link on another origin instead of sending the token there", async () => {
    const graph = await startGraphFake({ signIns, nextLinkOrigin: "http://127.0.0.2:9" });
    fake = graph;
    const { engine } = testEngine();
    const error = await collect(
      engine.pollWindow(
        graphConnector(graph.endpoint),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      /next-page link http:\/\/127\.0\.0\.2:9\/v1\.0\/auditLogs\/signIns\?.* leaves the connector's origin/,
    );
    expect(graph.requests).toHaveLength(1);
  });

  it("resolves a relative next URL against nextPageUrl (the Salesforce nextRecordsUrl shape)", async () => {
    const { startFakeServer } = await import("../fakes/server.ts");
    fake = await startFakeServer((request) =>
      request.path === "/services/data/v58.0/query"
        ? {
            json: {
              records: [{ id: 1 }, { id: 2 }],
              nextRecordsUrl: "/services/data/v58.0/query/01gXX-2000",
            },
          }
        : { json: { records: [{ id: 3 }], done: true } },
    );
    const connector = makeConnector({
      request: {
        apiEndpoint: `${fake.origin}/services/data/v58.0/query`,
        queryParameters: { q: "SELECT Id FROM EventLogFile" },
      },
      paging: {
        pagingType: "NextPageUrl",
        nextPageUrl: fake.origin,
        nextPageTokenJsonPath: "$.nextRecordsUrl",
      },
      response: { eventsJsonPaths: ["$.records"] },
    });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(pages.map((p) => p.events)).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
    expect(fake.requests.map((r) => `${r.path}?${r.rawQuery}`)).toEqual([
      "/services/data/v58.0/query?q=SELECT+Id+FROM+EventLogFile",
      "/services/data/v58.0/query/01gXX-2000?",
    ]);
  });
});

describe("NextPageUrl with nextPageParaName", () => {
  it("sends the token to nextPageUrl with nextPageUrlQueryParameters", async () => {
    const { startFakeServer } = await import("../fakes/server.ts");
    fake = await startFakeServer((request) =>
      request.path === "/search"
        ? { json: { hits: [{ id: 1 }, { id: 2 }], scrollId: "s-1" } }
        : {
            json: {
              hits: request.query.scroll_id === "s-1" ? [{ id: 3 }] : [],
              scrollId: "s-2",
              more: false,
            },
          },
    );
    const connector = makeConnector({
      request: { apiEndpoint: `${fake.origin}/search`, queryParameters: { q: "*" } },
      paging: {
        pagingType: "NextPageUrl",
        nextPageUrl: `${fake.origin}/search/scroll`,
        nextPageParaName: "scroll_id",
        nextPageTokenJsonPath: "$.scrollId",
        nextPageUrlQueryParameters: { scroll: "1m" },
        hasNextFlagJsonPath: "$.more",
      },
      response: { eventsJsonPaths: ["$.hits"] },
    });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    // The first page has no `more` flag, so paging continues; the second says false.
    expect(pages.map((p) => p.events)).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
    expect(fake.requests.map((r) => `${r.path}?${r.rawQuery}`)).toEqual([
      "/search?q=*",
      "/search/scroll?scroll=1m&scroll_id=s-1",
    ]);
  });
});
