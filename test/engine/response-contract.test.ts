/**
 * The response contract (issue 17): a page is accepted only when the definition's events path reads it as a list
 * of event objects, or as a plainly empty result. Anything else fails the window, so no watermark moves past
 * events that were never extracted.
 */
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { responseConfig } from "../../src/definition/schema.ts";
import { decodeResponse, ResponseFormatError } from "../../src/engine/response.ts";
import type { HttpResponse } from "../../src/engine/types.ts";
import { type FakeServer, startFakeServer } from "../fakes/server.ts";
import { collect, makeConnector, testEngine, windowOf } from "./connector.ts";

const respond = (body: string | Buffer, headers: Record<string, string> = {}): HttpResponse => ({
  status: 200,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? Buffer.from(body) : body,
  url: new URL("https://api.example.test/v1/alerts"),
});
const decode = (fields: Record<string, unknown>, body: string | Buffer, headers?: Record<string, string>) =>
  decodeResponse(responseConfig.parse({ eventsJsonPaths: ["$"], ...fields }), respond(body, headers)).events;
const failure = (
  fields: Record<string, unknown>,
  body: string | Buffer,
  headers?: Record<string, string>,
) => {
  try {
    decode(fields, body, headers);
  } catch (error) {
    expect(error).toBeInstanceOf(ResponseFormatError);
    return (error as Error).message;
  }
  throw new Error("expected the page to be refused");
};

describe("events path contract", () => {
  it("fails a 200 whose events path is absent while the body reports an error or holds a list elsewhere", () => {
    expect(
      failure(
        { eventsJsonPaths: ["$.value"] },
        '{"error":{"code":"InvalidAuthenticationToken","message":"expired"}}',
      ),
    ).toMatch(/eventsJsonPaths \$\.value matched nothing.*keys: error/);
    expect(failure({ eventsJsonPaths: ["$.value"] }, '{"data":[{"id":1},{"id":2}]}')).toMatch(
      /\$\.value matched nothing.*\$\.data holds a list of 2/,
    );
  });

  it("reads an absent path as no events only when the body holds no list at all (Google's empty report)", () => {
    expect(
      decode({ eventsJsonPaths: ["$.items"] }, '{"kind":"admin#reports#activities","etag":"\\"abc\\""}'),
    ).toEqual([]);
    expect(decode({ eventsJsonPaths: ["$.value"] }, '{"value":null}')).toEqual([]);
    expect(decode({ eventsJsonPaths: ["$.value"] }, "{}")).toEqual([]);
  });

  it("fails when a plain member path yields an object instead of a list: an error object is not an event", () => {
    expect(failure({ eventsJsonPaths: ["$"] }, '{"error":"invalid_grant"}')).toMatch(
      /eventsJsonPaths \$ selected an object, expected a list of events/,
    );
    expect(failure({ eventsJsonPaths: ["$.value"] }, '{"value":{"id":1,"name":"a"}}')).toMatch(
      /\$\.value selected an object/,
    );
  });

  it("fails when the list holds something other than event objects", () => {
    expect(failure({ eventsJsonPaths: ["$.ids"] }, '{"ids":[1,2,3]}')).toMatch(
      /\$\.ids selected a list whose item 1 is a number, expected event objects/,
    );
  });

  it("accepts objects where the path itself selects elements, XML's single element, and keyed objects", () => {
    expect(decode({ eventsJsonPaths: ["$.data[*]"] }, '{"data":[{"id":1},{"id":2}]}')).toEqual([
      { id: 1 },
      { id: 2 },
    ]);
    expect(
      decode(
        { format: "xml", eventsJsonPaths: ["$.feed.entry"] },
        '<feed><entry id="1"><t>A</t></entry></feed>',
        { "content-type": "application/xml" },
      ),
    ).toEqual([{ "@_id": "1", t: "A" }]);
    expect(
      decode(
        { eventsJsonPaths: ["$.data"], convertChildPropertiesToArray: true },
        '{"data":{"7":{"id":7},"8":{"id":8}}}',
      ),
    ).toEqual([{ id: 7 }, { id: 8 }]);
    // Several paths: one absent among others that match is a normal mix (e.g. alerts and incidents).
    expect(decode({ eventsJsonPaths: ["$.alerts", "$.incidents"] }, '{"alerts":[{"id":1}]}')).toEqual([
      { id: 1 },
    ]);
  });

  it("keeps error text printable: a corrupt gzip body is described, not pasted", () => {
    const corrupt = Buffer.concat([
      gzipSync('[{"id":1}]').subarray(0, 12),
      Buffer.from([0xff, 0x00, 0x9c, 0x1b]),
    ]);
    const message = failure({ isGzipCompressed: true }, corrupt);
    expect(message).toContain("could not be decompressed");
    expect(message).toMatch(/16 bytes of binary data: 1f 8b 08/);
    expect(message).not.toMatch(/[\p{Cc}\uFFFD]/u);
  });
});

describe("LinkHeader: an empty page with a next link", () => {
  let fake: FakeServer | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("follows the link (the reference ends a window only when no next link is left): 400 of 400 events", async () => {
    // Pages of 100, and the second page comes back empty (a filtered page) with a next link, as some APIs do.
    const all = Array.from({ length: 400 }, (_, i) => ({ id: i + 1 }));
    const pages = [all.slice(0, 100), [], all.slice(100, 200), all.slice(200, 300), all.slice(300, 400)];
    fake = await startFakeServer((request) => {
      const page = Number(request.query.page ?? 0);
      const headers: Record<string, string> =
        page + 1 < pages.length ? { link: `<${fake?.origin}/events?page=${page + 1}>; rel="next"` } : {};
      return { json: pages[page], headers };
    });
    const connector = makeConnector({
      request: { apiEndpoint: `${fake.origin}/events`, queryWindowInMin: 5 },
      paging: { pagingType: "LinkHeader" },
      response: { eventsJsonPaths: ["$"] },
    });
    const { engine } = testEngine();
    const got = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(got.flatMap((p) => p.events)).toHaveLength(400);
  });

  it("ends the window, caught up, when the empty page's next link is the request just made (Okta polling)", async () => {
    fake = await startFakeServer((request) => ({
      json: [],
      headers: { link: `<${fake?.origin}/logs?${request.rawQuery}>; rel="next"` },
    }));
    const connector = makeConnector({
      request: { apiEndpoint: `${fake.origin}/logs`, queryWindowInMin: 5, startTimeAttributeName: "since" },
      paging: { pagingType: "LinkHeader" },
      response: { eventsJsonPaths: ["$"] },
    });
    const { engine } = testEngine();
    const got = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(got.flatMap((p) => p.events)).toEqual([]);
    expect(fake.requests).toHaveLength(1);
  });

  it("reads the Link header when linkHeaderTokenJsonPath names nothing there (an ARM concat put a host before $.…)", async () => {
    const all = Array.from({ length: 30 }, (_, i) => ({ id: i + 1 }));
    fake = await startFakeServer((request) => {
      const page = Number(request.query.page ?? 0);
      const headers: Record<string, string> =
        page < 2 ? { link: `<${fake?.origin}/events?page=${page + 1}>; rel="next"` } : {};
      return { json: all.slice(page * 10, page * 10 + 10), headers };
    });
    const connector = makeConnector({
      request: { apiEndpoint: `${fake.origin}/events`, queryWindowInMin: 5 },
      paging: { pagingType: "LinkHeader", linkHeaderTokenJsonPath: "https://api.example.test$.links.next" },
      response: { eventsJsonPaths: ["$"] },
    });
    const { engine } = testEngine();
    const got = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(got.flatMap((p) => p.events)).toHaveLength(30);
  });
});
