import { describe, expect, it } from "vitest";
import { loadObject, validResource } from "./helpers.ts";

type Properties = Record<string, unknown>;

function warningsFor(change: (p: Properties) => void): [string, string][] {
  const resource = validResource();
  change(resource.properties as Properties);
  const result = loadObject(resource);
  expect(result.errors.map((e) => e.message)).toEqual([]);
  return result.warnings.map((w) => [w.code, w.jsonPath]);
}

const endpoint = "https://api.example.test/v1/events";

describe("known-trap warnings", () => {
  it.each<[string, (p: Properties) => void, [string, string][]]>([
    [
      "Persistent* paging (single runner only)",
      (p) =>
        (p.paging = {
          pagingType: "PersistentToken",
          nextPageTokenJsonPath: "$.next",
          nextPageParaName: "from",
        }),
      [["persistent-paging-single-runner", "$.properties.paging.pagingType"]],
    ],
    [
      "Offset paging whose first call carries no offset",
      (p) =>
        (p.paging = {
          pagingType: "Offset",
          offsetParaName: "offset",
          pageSize: 100,
          pageSizeParameterName: "limit",
        }),
      [["offset-first-call", "$.properties.paging.offsetParaName"]],
    ],
    [
      "an unbracketed @odata path",
      (p) => (p.paging = { pagingType: "NextPageUrl", nextPageTokenJsonPath: "$.@odata.nextLink" }),
      [["odata-path", "$.properties.paging.nextPageTokenJsonPath"]],
    ],
    [
      "POST paging placed in the query string",
      (p) => {
        p.request = {
          apiEndpoint: endpoint,
          httpMethod: "POST",
          queryParametersTemplate: "{}",
          isPostPayloadJson: true,
        };
        p.paging = {
          pagingType: "NextPageToken",
          nextPageTokenJsonPath: "$.next",
          nextPageParaName: "cursor",
        };
      },
      [["post-paging-placement", "$.properties.paging.pagingInfoPlacement"]],
    ],
    [
      "a start-only window",
      (p) => (p.request = { apiEndpoint: endpoint, startTimeAttributeName: "since" }),
      [["half-open-window", "$.properties.request.startTimeAttributeName"]],
    ],
    [
      "a typo'd runtime token",
      (p) => (p.request = { apiEndpoint: endpoint, queryParameters: { to: "{_QueryWindowEnday}" } }),
      [["unknown-runtime-token", "$.properties.request.queryParameters.to"]],
    ],
    [
      "a {word} that is not a runtime token",
      (p) => (p.request = { apiEndpoint: endpoint, queryParameters: { since: "{last_run_time}" } }),
      [["literal-token", "$.properties.request.queryParameters.since"]],
    ],
    [
      "credentials sent to a plain http:// endpoint",
      (p) => (p.request = { apiEndpoint: "http://api.example.test/v1/events" }),
      [["plain-http-credentials", "$.properties.request.apiEndpoint"]],
    ],
    [
      "an OAuth2 token endpoint over plain http://",
      (p) =>
        (p.auth = {
          type: "OAuth2",
          clientId: "test-client",
          clientSecret: "{{password}}",
          grantType: "client_credentials",
          tokenEndpoint: "HTTP://login.example.test/token",
        }),
      [["plain-http-credentials", "$.properties.auth.tokenEndpoint"]],
    ],
    [
      "GET with isPostPayloadJson",
      (p) => (p.request = { apiEndpoint: endpoint, isPostPayloadJson: true }),
      [["get-with-json-body", "$.properties.request.isPostPayloadJson"]],
    ],
    [
      "an endpoint ending in a stray quote",
      (p) => (p.request = { apiEndpoint: `${endpoint}'` }),
      [["endpoint-stray-quote", "$.properties.request.apiEndpoint"]],
    ],
    [
      "a LinkHeader body path that an ARM concat prefixed with a host",
      (p) =>
        (p.paging = {
          pagingType: "LinkHeader",
          linkHeaderTokenJsonPath: "[[concat('https://api.example.test', '$.links.next')]",
        }),
      [["link-path-not-jsonpath", "$.properties.paging.linkHeaderTokenJsonPath"]],
    ],
    [
      "a LinkHeader path naming a header other than Link",
      (p) => (p.paging = { pagingType: "PersistentLinkHeader", linkHeaderTokenJsonPath: "X-Next-Page" }),
      [
        ["persistent-paging-single-runner", "$.properties.paging.pagingType"],
        ["link-path-not-jsonpath", "$.properties.paging.linkHeaderTokenJsonPath"],
      ],
    ],
    [
      "an unknown field",
      (p) => (p.request = { apiEndpoint: endpoint, paginatedCallsPerSecond: 3 }),
      [["unknown-field", "$.properties.request.paginatedCallsPerSecond"]],
    ],
  ])("warns about %s, at its path", (_name, change, expected) => {
    expect(warningsFor(change)).toEqual(expected);
  });

  it("says why, and suggests the token a typo probably meant", () => {
    const resource = validResource();
    (resource.properties as Record<string, unknown>).request = {
      apiEndpoint: endpoint,
      queryParameters: { to: "{_QueryWindowEnday}" },
    };

    expect(loadObject(resource).warnings[0]?.message).toBe(
      "{_QueryWindowEnday} is not a runtime token and is sent literally (did you mean {_QueryWindowEndTime}?)",
    );
  });

  it("names both readings of a LinkHeader path that is not a JSONPath, and the path it probably meant", () => {
    const resource = validResource();
    (resource.properties as Properties).paging = {
      pagingType: "LinkHeader",
      linkHeaderTokenJsonPath: "[[concat('https://api.example.test', '$.links.next')]",
    };

    expect(loadObject(resource).warnings[0]?.message).toBe(
      'linkHeaderTokenJsonPath "https://api.example.test$.links.next" does not start with $: ccp-poller reads it as the name of a response header carrying RFC 8288 links (none by that name, so paging stops after the first page); native CCP reads this field as a JSONPath into the body (reference §4.2) and follows the Link header when one comes. If the next link is in the body, write the path alone: "$.links.next"',
    );
  });

  it("says a {word} goes out as written, as in native CCP, and which tokens exist", () => {
    const resource = validResource();
    (resource.properties as Properties).request = {
      apiEndpoint: endpoint,
      queryParametersTemplate: "{'since': '{last_run_time}', 'until': '{_QueryWindowEndTime}'}",
    };

    expect(loadObject(resource).warnings.map((w) => w.message)).toEqual([
      "{last_run_time} is not a CCP runtime token: ccp-poller, like native CCP, sends it as written. If the API should get a value there, use one of {_QueryWindowStartTime}, {_QueryWindowEndTime}, {_QueryWindowStartDay}, {_QueryWindowEndDay}, {_APIKeyName}, {_APIKey}",
    ]);
  });

  it('stays quiet about Meraki\'s "Link", which both readings follow to the Link header', () => {
    expect(
      warningsFor((p) => (p.paging = { pagingType: "LinkHeader", linkHeaderTokenJsonPath: "Link" })),
    ).toEqual([]);
  });

  it("says why plain http:// matters with credentials, and stays quiet without them or on this machine", () => {
    const resource = validResource();
    (resource.properties as Properties).request = { apiEndpoint: "http://api.example.test/v1/events" };

    expect(loadObject(resource).warnings[0]?.message).toBe(
      "apiEndpoint is plain http:// and Basic auth puts credentials on these requests: they cross the network unencrypted. ccp-poller sends them anyway; native CCP polls https endpoints (every documented example and shipped connector does). Use https://",
    );
    expect(
      warningsFor((p) => {
        p.auth = { type: "None" };
        p.request = { apiEndpoint: "http://api.example.test/v1/events" };
      }),
    ).toEqual([]);
    expect(warningsFor((p) => (p.request = { apiEndpoint: "http://127.0.0.1:8080/v1/events" }))).toEqual([]);
  });

  it("stays quiet on a clean definition", () => {
    expect(warningsFor(() => {})).toEqual([]);
  });
});

describe("refusals", () => {
  it.each<[string, (p: Properties) => void, string, string]>([
    [
      "an AWS auth",
      (p) => (p.auth = { type: "aws", roleArn: "arn:x" }),
      "unsupported-auth",
      "$.properties.auth.type",
    ],
    [
      "a nested step whose KQL uses an operator outside the subset",
      (p) => {
        p.stepInfo = {
          stepType: "Nested",
          nextSteps: [{ stepId: "c", stepPlaceholdersParsingKql: "source | take 1" }],
        };
        p.stepCollectorConfigs = {
          c: { request: { apiEndpoint: endpoint }, response: { eventsJsonPaths: ["$"] } },
        };
      },
      "nested-steps",
      "$.properties.stepInfo.nextSteps[0].stepPlaceholdersParsingKql",
    ],
    [
      "a nested stepId that names none of several steps",
      (p) => {
        const step = { request: { apiEndpoint: endpoint }, response: { eventsJsonPaths: ["$"] } };
        p.stepInfo = { stepType: "Nested", nextSteps: [{ stepId: "missing" }] };
        p.stepCollectorConfigs = { c: step, d: step };
      },
      "nested-steps",
      "$.properties.stepInfo.nextSteps[0].stepId",
    ],
    [
      "nested steps that form a cycle",
      (p) => {
        const child = (next: string) => ({
          request: { apiEndpoint: endpoint },
          response: { eventsJsonPaths: ["$"] },
          stepInfo: { stepType: "Nested", nextSteps: [{ stepId: next }] },
        });
        p.stepInfo = { stepType: "Nested", nextSteps: [{ stepId: "a" }] };
        p.stepCollectorConfigs = { a: child("b"), b: child("a") };
      },
      "nested-steps",
      "$.properties.stepCollectorConfigs.b.stepInfo.nextSteps[0].stepId",
    ],
    [
      "a paging condition",
      (p) => (p.paging = { pagingType: "NextPageToken", condition: { check: "data.ok" } }),
      "paging-condition",
      "$.properties.paging.condition",
    ],
    [
      "a token transform other than SplitOnDelimiter",
      (p) => (p.paging = { pagingType: "NextPageToken", tokenTransform: { TransformType: "Regex" } }),
      "token-transform",
      "$.properties.paging.tokenTransform.TransformType",
    ],
    [
      "a Logic Apps expression",
      (p) => (p.request = { apiEndpoint: endpoint, queryParameters: { from: "@variables('lastRunDate')" } }),
      "logic-apps-expression",
      "$.properties.request.queryParameters.from",
    ],
    [
      "a Sentinel-internal stream",
      (p) => (p.dcrConfig = { streamName: "SENTINEL_X" }),
      "builtin-stream",
      "$.properties.dcrConfig.streamName",
    ],
  ])("refuses %s with a stable code at its path", (_name, change, code, jsonPath) => {
    const resource = validResource();
    change(resource.properties as Properties);

    const result = loadObject(resource);

    expect(result.refused.map((r) => [r.code, r.jsonPath])).toEqual([[code, jsonPath]]);
    expect(result.connectors).toEqual([]);
    expect(result.errors).toEqual([]);
  });

  it("refuses a data connector of another kind by kind", () => {
    const result = loadObject({ ...validResource(), kind: "GCP" });

    expect(result.refused).toEqual([
      {
        file: "bad.json",
        jsonPath: "$",
        code: "unsupported-kind",
        reason:
          'kind "GCP" is not RestApiPoller or APIPolling (with pollingConfig); only REST pollers run here',
      },
    ]);
  });
});
