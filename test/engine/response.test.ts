import { deflateSync, gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { responseConfig } from "../../src/definition/schema.ts";
import { decodeResponse, ResponseFormatError } from "../../src/engine/response.ts";
import type { HttpResponse } from "../../src/engine/types.ts";

const respond = (body: string | Buffer, headers: Record<string, string> = {}): HttpResponse => ({
  status: 200,
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? Buffer.from(body) : body,
  url: new URL("https://api.example.test/logs?api_key=test-api-key-x"),
});
const config = (fields: Record<string, unknown>) =>
  responseConfig.parse({ eventsJsonPaths: ["$"], ...fields });
const events = (fields: Record<string, unknown>, response: HttpResponse) =>
  decodeResponse(config(fields), response).events;

describe("decodeResponse", () => {
  it("concatenates several eventsJsonPaths in order; lists give their items, selected elements one event each", () => {
    const body = JSON.stringify({ a: [{ v: 1 }, { v: 2 }], c: { items: [{ v: 4 }, { v: 5 }] } });
    expect(events({ eventsJsonPaths: ["$.a", "$.c.items[*]", "$.missing"] }, respond(body))).toEqual([
      { v: 1 },
      { v: 2 },
      { v: 4 },
      { v: 5 },
    ]);
    expect(
      events({ eventsJsonPaths: ["$..records"] }, respond('{"x":{"records":[{"v":1}]},"records":[{"v":2}]}')),
    ).toEqual([{ v: 2 }, { v: 1 }]);
    expect(events({ eventsJsonPaths: [""] }, respond('[{"v":7}]'))).toEqual([{ v: 7 }]);
  });

  it("treats an empty JSON body as no events", () => {
    expect(events({}, respond(""))).toEqual([]);
  });

  it("decodes gzip announced by Content-Encoding and deflate by compressionAlgo", () => {
    expect(events({}, respond(gzipSync('[{"v":1}]'), { "content-encoding": "gzip" }))).toEqual([{ v: 1 }]);
    expect(events({ compressionAlgo: "deflate" }, respond(deflateSync('[{"v":2}]')))).toEqual([{ v: 2 }]);
  });

  it("parses JSON lines, header-less CSV and XML", () => {
    expect(events({ format: "jsonlines" }, respond('{"a":1}\n\n{"a":2}\n'))).toEqual([{ a: 1 }, { a: 2 }]);
    expect(events({ format: "csv", hasCsvHeader: false }, respond('x,"y,z"\n1,2\n'))).toEqual([
      { column1: "x", column2: "y,z" },
      { column1: "1", column2: "2" },
    ]);
    const xml =
      '<?xml version="1.0"?><feed><entry id="1"><title>A</title></entry><entry id="2"><title>B</title></entry></feed>';
    expect(
      events(
        { format: "xml", eventsJsonPaths: ["$.feed.entry"] },
        respond(xml, { "content-type": "application/xml" }),
      ),
    ).toEqual([
      { "@_id": "1", title: "A" },
      { "@_id": "2", title: "B" },
    ]);
  });

  it("reports malformed bodies with status, content type and a redacted excerpt", () => {
    const bad = (fields: Record<string, unknown>, body: string | Buffer) => {
      try {
        decodeResponse(config(fields), respond(body), ["test-api-key-x"]);
      } catch (error) {
        expect(error).toBeInstanceOf(ResponseFormatError);
        return (error as Error).message;
      }
      throw new Error("expected a failure");
    };
    expect(bad({}, '{"token":"test-api-key-x", "a": [1,')).toMatch(
      /^https:\/\/api\.example\.test\/logs\?api_key=\*\*\* returned HTTP 200 \(application\/json\) that is not valid JSON \(.*\): \{"token":"\*\*\*", "a": \[1,$/,
    );
    expect(bad({ format: "jsonlines" }, '{"a":1}\n{"a":')).toContain("is not valid JSON lines (line 2)");
    expect(bad({ format: "xml" }, "<a><b></a>")).toContain("is not valid XML");
    expect(bad({ isGzipCompressed: true }, "plain text")).toContain("could not be decompressed");
  });
});
