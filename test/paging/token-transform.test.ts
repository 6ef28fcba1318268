import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { type FakeServer, startFakeServer } from "../fakes/server.ts";

let server: FakeServer;
afterEach(async () => {
  await server?.close();
});

/**
 * SAP BTP's audit log retrieval API pages with a response header `Paging: handle=<opaque>` and takes the
 * handle back as `?handle=<opaque>`; the last page sends no Paging header.
 */
async function startSapAuditFake(pages: number): Promise<FakeServer> {
  return startFakeServer((request) => {
    const page = request.query.handle === undefined ? 1 : Number(request.query.handle.replace("h-", ""));
    return {
      json: [{ uuid: `event-${page}` }],
      headers: page < pages ? { paging: `handle=h-${page + 1}` } : ({} as Record<string, string>),
    };
  });
}

const sapConnector = (endpoint: string, transform: Record<string, unknown>) =>
  makeConnector({
    request: {
      apiEndpoint: endpoint,
      queryTimeFormat: "yyyy-MM-ddTHH:mm:ss",
      startTimeAttributeName: "time_from",
    },
    response: { eventsJsonPaths: ["$"] },
    paging: {
      pagingType: "NextPageToken",
      nextPageTokenResponseHeader: "paging",
      nextPageParaName: "handle",
      tokenTransform: transform,
    },
  });

describe("paging.tokenTransform SplitOnDelimiter (SAP BTP)", () => {
  it("sends part StringIndex of the header split on SliceDelimiter, until the header stops coming", async () => {
    server = await startSapAuditFake(3);
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        sapConnector(`${server.origin}/auditlog/v2/auditlogrecords`, {
          transformType: "SplitOnDelimiter",
          sliceDelimiter: "=",
          stringIndex: 1,
        }),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );
    expect(server.requests.map((r) => r.query.handle)).toEqual([undefined, "h-2", "h-3"]);
    expect(pages.map((p) => p.events)).toEqual([
      [{ uuid: "event-1" }],
      [{ uuid: "event-2" }],
      [{ uuid: "event-3" }],
    ]);
  });

  it("fails the window when the token has no such part, rather than ending paging silently", async () => {
    server = await startSapAuditFake(2);
    const { engine } = testEngine();
    await expect(
      collect(
        engine.pollWindow(
          sapConnector(`${server.origin}/auditlog/v2/auditlogrecords`, {
            transformType: "SplitOnDelimiter",
            sliceDelimiter: "=",
            stringIndex: 2,
          }),
          windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
        ),
      ),
    ).rejects.toThrow('split on "=" has 2 part(s), no part 2');
  });
});
