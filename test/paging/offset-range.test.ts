import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { type CortexFake, cortexAlerts, startCortexFake } from "../fakes/cortex-xdr.ts";

let cortex: CortexFake;
afterEach(async () => {
  await cortex?.close();
});

const apiKey = "test-api-key-cortex-0000";

/** Palo Alto Cortex XDR's CortexXdrAlerts poller (corpus), pointed at the fake. */
const cortexConnector = (endpoint: string, paging: Record<string, unknown>) =>
  makeConnector(
    {
      auth: { type: "APIKey", apiKey, apiKeyName: "Authorization", apiKeyIdentifier: "" },
      request: {
        apiEndpoint: endpoint,
        httpMethod: "POST",
        headers: { Accept: "application/json", "x-xdr-auth-id": "7" },
        queryParametersTemplate:
          "{ 'request_data': { 'search_from': 0, 'search_to': 100, 'filters': [ { 'field': 'creation_time', 'operator': 'gte', 'value': {_QueryWindowStartTime} },{ 'field': 'creation_time', 'operator': 'lte', 'value': {_QueryWindowEndTime} }], 'sort': { 'field': 'creation_time', 'keyword': 'asc' } } }",
        queryTimeFormat: "UnixTimestampInMills",
        queryWindowInMin: 5,
      },
      response: { eventsJsonPaths: ["$.reply.alerts"] },
      paging,
    },
    [apiKey],
  );

const rangePaging = (pageSize: number) => ({
  pagingType: "Offset",
  offsetParaName: "$.request_data.search_from",
  offsetEndParaName: "$.request_data.search_to",
  pageSize,
});

describe("Offset paging with a range in a JSON body (offsetEndParaName, Cortex XDR)", () => {
  it("writes from = offset and to = offset + pageSize into the body on every page and stops on a short page", async () => {
    cortex = await startCortexFake({
      apiKey,
      apiKeyId: "7",
      alerts: cortexAlerts(250, "2026-01-01T00:00:00Z"),
    });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        cortexConnector(cortex.endpoint, rangePaging(100)),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );

    const bodies = cortex.requests.map((r) => JSON.parse(r.body).request_data);
    expect(bodies.map((d) => [d.search_from, d.search_to])).toEqual([
      [0, 100],
      [100, 200],
      [200, 300],
    ]);
    // The template's other fields survive, and the range never reaches the query string.
    expect(bodies[1].filters[0]).toEqual({ field: "creation_time", operator: "gte", value: 1767225600000 });
    expect(cortex.requests.every((r) => r.rawQuery === "")).toBe(true);
    expect(cortex.requests[0]?.headers["content-type"]).toMatch(/^application\/json/);
    expect(pages.map((p) => p.events.length)).toEqual([100, 100, 50]);
    expect(pages.flatMap((p) => p.events.map((e) => (e as { alert_id: string }).alert_id))).toEqual(
      Array.from({ length: 250 }, (_, i) => String(i + 1)),
    );
  });

  it("asks once more after a full last page and stops on the empty one", async () => {
    cortex = await startCortexFake({
      apiKey,
      apiKeyId: "7",
      alerts: cortexAlerts(40, "2026-01-01T00:00:00Z"),
    });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        cortexConnector(cortex.endpoint, rangePaging(20)),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );
    expect(cortex.requests.map((r) => JSON.parse(r.body).request_data.search_to)).toEqual([20, 40, 60]);
    expect(pages.map((p) => p.events.length)).toEqual([20, 20, 0]);
  });

  it("fails the window, naming the fields, when offsetEndParaName comes without pageSize", async () => {
    cortex = await startCortexFake({ apiKey, apiKeyId: "7", alerts: [] });
    const { engine } = testEngine();
    const { pageSize: _, ...noSize } = rangePaging(100);
    await expect(
      collect(
        engine.pollWindow(
          cortexConnector(cortex.endpoint, noSize),
          windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
        ),
      ),
    ).rejects.toThrow("paging.offsetEndParaName needs paging.pageSize");
    expect(cortex.requests).toEqual([]);
  });
});
