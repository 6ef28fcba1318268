import { describe, expect, it } from "vitest";
import { createHttpClient } from "../../src/engine/http.ts";
import { buildRequest, placeValue } from "../../src/engine/request.ts";
import type { OutgoingRequest } from "../../src/engine/types.ts";
import { type RecordedRequest, startFakeServer } from "../fakes/server.ts";
import { makeConnector, windowOf } from "./connector.ts";

const window = windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z");
const build = (request: Record<string, unknown>, templateVariables: Record<string, string> = {}) =>
  buildRequest(
    makeConnector({
      request: { apiEndpoint: "https://api.example.test/v1/logs", ...request },
      response: { eventsJsonPaths: ["$"] },
    }),
    {
      window,
      templateVariables,
    },
  );

/** What reaches the upstream for `request` in the fixed window: method, path and query, headers (but host), body. */
async function onTheWire(request: Record<string, unknown>): Promise<Omit<RecordedRequest, "query">> {
  const upstream = await startFakeServer(() => ({ json: [] }));
  try {
    const endpoint = String(request.apiEndpoint ?? "/v1/logs");
    await createHttpClient().send(build({ ...request, apiEndpoint: `${upstream.origin}${endpoint}` }), {
      retryCount: 0,
    });
    const { query: _parsed, headers, ...sent } = upstream.requests[0] as RecordedRequest;
    const { host: _host, ...rest } = headers;
    return { ...sent, headers: rest };
  } finally {
    await upstream.close();
  }
}

describe("buildRequest", () => {
  it("appends time attributes and query parameters to an endpoint that already has a query", () => {
    const request = build({
      apiEndpoint: "https://api.example.test/v1/logs?tenant=a b",
      startTimeAttributeName: "since",
      endTimeAttributeName: "until",
      queryParameters: { limit: 100, verbose: true, fields: ["a", "b"], q: "after:{_QueryWindowStartTime}" },
    });
    expect(request.method).toBe("GET");
    expect([...request.url.searchParams]).toEqual([
      ["tenant", "a b"],
      ["since", "2026-01-01T00:00:00.000Z"],
      ["until", "2026-01-01T00:05:00.000Z"],
      ["limit", "100"],
      ["verbose", "true"],
      ["fields", '["a","b"]'],
      ["q", "after:2026-01-01T00:00:00.000Z"],
    ]);
  });

  it("puts start/end attributes in the query string for POST too, and expands headers", () => {
    const request = build({
      httpMethod: "POST",
      queryTimeFormat: "UnixTimestamp",
      startTimeAttributeName: "t0",
      endTimeAttributeName: "t1",
      headers: { "X-Since": "{_QueryWindowStartTime}", Accept: "application/json" },
    });
    expect(request.url.search).toBe("?t0=1767225600&t1=1767225900");
    expect(request.headers).toEqual({ "x-since": "1767225600", accept: "application/json" });
    expect(request.body).toBeUndefined();
  });

  it("parses a single-quoted template with unquoted tokens into a JSON body", () => {
    const iso = build(
      {
        httpMethod: "POST",
        isPostPayloadJson: true,
        queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
        queryParametersTemplate:
          "{'query': 'x', 'from': {_QueryWindowStartTime}, \"to\": \"{_QueryWindowEndTime}\", 'key': '{_APIKey}'}",
      },
      { _APIKeyName: "k", _APIKey: "test-api-key-'quoted'" },
    );
    expect(iso.body).toEqual({
      type: "json",
      value: {
        query: "x",
        from: "2026-01-01T00:00:00Z",
        to: "2026-01-01T00:05:00Z",
        key: "test-api-key-'quoted'",
      },
    });
    const unix = build({
      httpMethod: "POST",
      isPostPayloadJson: true,
      queryTimeFormat: "UnixTimestampInMills",
      queryParametersTemplate: '{"range": {"gte": {_QueryWindowStartTime}, "lt": {_QueryWindowEndTime}}}',
    });
    expect(unix.body).toEqual({ type: "json", value: { range: { gte: 1767225600000, lt: 1767225900000 } } });
  });

  it("sends a template as form fields without isPostPayloadJson, and as query parameters on GET", () => {
    const form = build({
      httpMethod: "POST",
      queryParametersTemplate: "{'from': '{_QueryWindowStartDay}', 'n': 5, 'o': {'a': 1}}",
    });
    expect(form.body).toEqual({ type: "form", value: { from: "2026-01-01", n: "5", o: '{"a":1}' } });
    const get = build({
      queryParametersTemplate: "{'from': '{_QueryWindowStartDay}', 'to': '{_QueryWindowEndDay}'}",
    });
    expect(get.url.search).toBe("?from=2026-01-01&to=2026-01-01");
    expect(get.body).toBeUndefined();
  });

  it("sends queryParameters as the JSON body of a POST with isPostPayloadJson and no template (GraphQL)", async () => {
    const query = "query($from: String!) { audit(from: $from) { id } }";
    const sent = await onTheWire({
      apiEndpoint: "/graphql",
      httpMethod: "POST",
      isPostPayloadJson: true,
      headers: { Accept: "application/json" },
      queryParameters: { query, variables: { from: "{_QueryWindowStartTime}", first: 50 } },
    });
    const body = JSON.stringify({ query, variables: { from: "2026-01-01T00:00:00.000Z", first: 50 } });
    expect(sent).toEqual({
      method: "POST",
      path: "/graphql",
      rawQuery: "",
      headers: {
        accept: "application/json",
        connection: "keep-alive",
        "content-length": String(Buffer.byteLength(body)),
        "content-type": "application/json",
        "user-agent": "ccp-poller",
      },
      body,
    });
  });

  it("sends a template as JSON when the headers declare Content-Type application/json, without isPostPayloadJson", async () => {
    const sent = await onTheWire({
      httpMethod: "POST",
      headers: { "Content-Type": "application/json; charset=utf-8" },
      queryParametersTemplate:
        "{'filter': {'from': '{_QueryWindowStartTime}', 'to': '{_QueryWindowEndTime}'}, 'limit': 100}",
    });
    const body = JSON.stringify({
      filter: { from: "2026-01-01T00:00:00.000Z", to: "2026-01-01T00:05:00.000Z" },
      limit: 100,
    });
    expect(sent).toEqual({
      method: "POST",
      path: "/v1/logs",
      rawQuery: "",
      headers: {
        connection: "keep-alive",
        "content-length": String(Buffer.byteLength(body)),
        "content-type": "application/json; charset=utf-8",
        "user-agent": "ccp-poller",
      },
      body,
    });
  });

  it("treats a blank template as none", () => {
    const request = build({ isPostPayloadJson: true, queryParametersTemplate: "  " });
    expect(request.url.search).toBe("");
    expect(request.body).toBeUndefined();
  });

  it("rejects an unknown runtime token, naming the file and field", () => {
    expect(() => build({ queryParameters: { to: "{_QueryWindowEnday}" } })).toThrow(
      "test/connector.json: request.queryParameters.to uses the unknown runtime token {_QueryWindowEnday}; expected one of {_QueryWindowStartTime}, {_QueryWindowEndTime}, {_QueryWindowStartDay}, {_QueryWindowEndDay}",
    );
    expect(() => build({ queryParameters: { key: "{_APIKey}" } }, { _APIKey: "test-api-key-1" })).toThrow(
      "request.queryParameters.key uses {_APIKey}, which is only expanded in request.queryParametersTemplate",
    );
  });

  it("reports a JSON template that does not parse", () => {
    expect(() =>
      build({ httpMethod: "POST", isPostPayloadJson: true, queryParametersTemplate: "{'a': }" }),
    ).toThrow(
      /request\.queryParametersTemplate is not valid JSON after substitution .*expected a JSON or single-quoted JSON object/,
    );
  });
});

describe("placeValue", () => {
  const base: OutgoingRequest = {
    method: "POST",
    url: new URL("https://api.example.test/q?a=1"),
    headers: {},
  };

  it("places into the query, a header, a JSON body path and a form body", () => {
    expect(placeValue(base, { in: "query", name: "offset" }, 0).url.search).toBe("?a=1&offset=0");
    expect(placeValue(base, { in: "header", name: "X-Cursor" }, "c1").headers).toEqual({ "x-cursor": "c1" });
    const json = {
      ...base,
      body: { type: "json" as const, value: { query: "q", variables: { first: 50 } } },
    };
    expect(placeValue(json, { in: "body", name: "$.variables.after" }, "c2").body).toEqual({
      type: "json",
      value: { query: "q", variables: { first: 50, after: "c2" } },
    });
    expect(json.body.value.variables).toEqual({ first: 50 });
    const form = { ...base, body: { type: "form" as const, value: { a: "1" } } };
    expect(placeValue(form, { in: "body", name: "next" }, 7).body).toEqual({
      type: "form",
      value: { a: "1", next: "7" },
    });
  });

  it("refuses to place into a text body", () => {
    const text = { ...base, body: { type: "text" as const, text: "a=1", contentType: "text/plain" } };
    expect(() => placeValue(text, { in: "body", name: "next" }, "x")).toThrow(
      /cannot place next in a text request body/,
    );
  });
});
