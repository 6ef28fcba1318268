import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { type CountedEvent, startCountBasedFake } from "../fakes/count-based.ts";
import type { FakeServer } from "../fakes/server.ts";

let fake: FakeServer;
afterEach(async () => {
  await fake?.close();
});

const events: CountedEvent[] = Array.from({ length: 12 }, (_, i) => ({
  id: i + 1,
  time: new Date(Date.parse("2026-01-01T00:00:00Z") + i * 20_000).toISOString(),
}));

const connector = (endpoint: string, paging: Record<string, unknown>) =>
  makeConnector(
    {
      auth: {
        type: "APIKey",
        apiKeyName: "x-api-key",
        apiKeyIdentifier: "",
        apiKey: "test-api-key-count-0000",
      },
      request: {
        apiEndpoint: endpoint,
        queryTimeFormat: "UnixTimestampInMills",
        startTimeAttributeName: "from",
        endTimeAttributeName: "to",
      },
      paging: {
        pagingType: "CountBasedPaging",
        pageNumberParaName: "page",
        pageSizeParameterName: "pageSize",
        pageSize: 5,
        ...paging,
      },
      response: { eventsJsonPaths: ["$.data"] },
    },
    ["test-api-key-count-0000"],
  );

describe("CountBasedPaging against a page-numbered search API", () => {
  it("counts pages from 1 and stops at the page count", async () => {
    const api = await startCountBasedFake({ events });
    fake = api;
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        connector(api.endpoint, { pageCountJsonPath: "$.totalPages", pageNumberJsonPath: "$.page" }),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );
    expect(pages.map((p) => p.events.map((e) => (e as CountedEvent).id))).toEqual([
      [1, 2, 3, 4, 5],
      [6, 7, 8, 9, 10],
      [11, 12],
    ]);
    expect(api.requests.map((r) => r.rawQuery)).toEqual([
      "from=1767225600000&to=1767225900000&pageSize=5&page=1",
      "from=1767225600000&to=1767225900000&pageSize=5&page=2",
      "from=1767225600000&to=1767225900000&pageSize=5&page=3",
    ]);
    expect(api.requests[0]?.headers["x-api-key"]).toBe("test-api-key-count-0000");
  });

  it("with zeroBasedIndexing starts at 0 and stops when the total is reached on a full page", async () => {
    const api = await startCountBasedFake({ events: events.slice(0, 10), zeroBased: true });
    fake = api;
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        connector(api.endpoint, { zeroBasedIndexing: true, totalResultsJsonPath: "$.totalResults" }),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );
    expect(pages.map((p) => p.events.length)).toEqual([5, 5]);
    expect(api.requests.map((r) => r.query.page)).toEqual(["0", "1"]);
  });
});
