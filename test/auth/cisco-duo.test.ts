import { afterEach, describe, expect, it } from "vitest";
import { HttpStatusError } from "../../src/engine/errors.ts";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { type DuoFake, type DuoItem, startDuoFake } from "../fakes/duo.ts";

const ikey = "DITESTINTEGRATIONKEY0";
const skey = "test-duo-secret-key-0000000000000000000";

let duo: DuoFake;
afterEach(async () => {
  await duo?.close();
});

const items = (count: number): DuoItem[] =>
  Array.from({ length: count }, (_, i) => ({
    activity_id: `act-${i + 1}`,
    ts: new Date(Date.parse("2026-01-01T00:00:10Z") + i * 1000).toISOString(),
    action: { name: "admin_login" },
  }));

/** The Cisco Duo solution's CiscoDuoActivityLogsConnector (corpus), pointed at the fake. */
const duoConnector = (endpoint: string, secret = skey) =>
  makeConnector(
    {
      auth: { type: "CiscoDuo", apiKey: ikey, clientSecret: secret },
      request: {
        apiEndpoint: endpoint,
        queryTimeFormat: "UnixTimestampInMills",
        queryWindowInMin: 1,
        headers: { Accept: "application/json" },
        startTimeAttributeName: "mintime",
        endTimeAttributeName: "maxtime",
        queryParameters: { limit: "2" },
      },
      response: {
        eventsJsonPaths: ["$.response.items"],
        successStatusJsonPath: "$.stat",
        successStatusValue: "OK",
      },
      paging: {
        pagingType: "NextPageToken",
        nextPageTokenJsonPath: "$.response.metadata.next_offset",
        nextPageParaName: "next_offset",
      },
    },
    [ikey, secret],
  );

describe("CiscoDuo auth against a fake that checks signatures as Duo does", () => {
  it("signs every page, the next_offset (with its comma) included, and reads all items", async () => {
    duo = await startDuoFake({ ikey, skey, items: items(5) });
    const { engine } = testEngine("2026-01-01T00:02:00Z");
    const pages = await collect(
      engine.pollWindow(duoConnector(duo.endpoint), windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z")),
    );

    expect(pages.map((p) => p.events.length)).toEqual([2, 2, 1]);
    expect(duo.requests).toHaveLength(3);
    expect(duo.requests[1]?.query.next_offset).toBe(`${Date.parse("2026-01-01T00:00:11Z")},act-2`);
    expect(duo.requests[0]?.headers.date).toBe("Thu, 01 Jan 2026 00:02:00 -0000");
    expect(duo.requests[0]?.headers.authorization).toMatch(/^Basic /);
    expect(JSON.stringify(duo.requests)).not.toContain(skey);
  });

  it("gets Duo's 401 with the wrong secret key, and the error does not show either key", async () => {
    duo = await startDuoFake({ ikey, skey, items: items(1) });
    const { engine } = testEngine("2026-01-01T00:02:00Z");
    const wrong = "test-duo-wrong-secret-000000000000000000";
    const failure = await collect(
      engine.pollWindow(
        duoConnector(duo.endpoint, wrong),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:01:00Z"),
      ),
    ).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(HttpStatusError);
    expect((failure as HttpStatusError).status).toBe(401);
    expect(String(failure)).toContain("Invalid signature");
    expect(String(failure)).not.toContain(wrong);
  });
});
