import { describe, expect, it } from "vitest";
import { errorMessages, loadObject } from "./helpers.ts";

/** The seed's Jira pollingConfig, verbatim, inside an APIPolling resource. */
function legacyTemplate(pollingConfig: Record<string, unknown>): unknown {
  return {
    resources: [
      {
        name: "legacy",
        type: "Microsoft.OperationalInsights/workspaces/providers/dataConnectors",
        kind: "APIPolling",
        properties: { connectorUiConfig: { title: "Jira" }, pollingConfig },
      },
    ],
  };
}

const seedPollingConfig = {
  auth: { authType: "Basic" },
  request: {
    apiEndpoint: "https://{{domain}}/rest/api/3/auditing/record",
    headers: { accept: "application/json" },
    httpMethod: "Get",
    startTimeAttributeName: "from",
    endTimeAttributeName: "to",
    queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
    queryWindowInMin: 5,
  },
  paging: { pagingType: "Offset", offsetParaName: "offset", pageSizeParaName: "limit", pageSize: 1000 },
  response: { eventsJsonPaths: ["$..records"] },
};

const legacyEnv = {
  CCP_LEGACY_DOMAIN: "example.atlassian.net",
  CCP_LEGACY_USERNAME: "test-user@example.com",
  CCP_LEGACY_PASSWORD: "test-password-legacy",
  CCP_LEGACY_DATACOLLECTIONENDPOINT: "https://test-dce.example.test",
  CCP_LEGACY_DATACOLLECTIONRULEIMMUTABLEID: "dcr-00000000000000000000000000000000",
  CCP_LEGACY_STREAMNAME: "Custom-JiraLegacy_CL",
};

describe("legacy APIPolling pollingConfig", () => {
  it("becomes the canonical model, with credentials and destination bound from settings", () => {
    const result = loadObject(legacyTemplate(seedPollingConfig), { env: legacyEnv });

    expect(errorMessages(result)).toEqual([]);
    const [connector] = result.connectors;
    expect(connector?.sourceKind).toBe("APIPolling");
    expect(connector?.source).toEqual({ file: "bad.json", jsonPath: "$.resources[0]" });
    expect(connector?.properties.auth).toEqual({
      type: "Basic",
      userName: "test-user@example.com",
      password: "test-password-legacy",
    });
    expect(connector?.properties.request).toMatchObject({
      apiEndpoint: "https://example.atlassian.net/rest/api/3/auditing/record",
      httpMethod: "GET",
    });
    expect(connector?.properties.paging).toEqual({
      pagingType: "Offset",
      offsetParaName: "offset",
      pageSizeParameterName: "limit",
      pageSize: 1000,
      pagingInfoPlacement: "QueryString",
      pagingQueryParamOnly: false,
    });
    expect(connector?.properties.dcrConfig).toEqual({
      dataCollectionEndpoint: "https://test-dce.example.test",
      dataCollectionRuleImmutableId: "dcr-00000000000000000000000000000000",
      streamName: "Custom-JiraLegacy_CL",
    });
    expect(connector?.secrets).toEqual(["test-password-legacy"]);
  });

  it("names the settings a legacy definition needs when they are missing", () => {
    const result = loadObject(legacyTemplate(seedPollingConfig), { env: {} });

    expect(errorMessages(result)).toContain(
      "bad.json: $.resources[0].properties.pollingConfig.auth.password — expected a value for {{password}} from environment variable CCP_LEGACY_PASSWORD (a secret: never from a settings file), got nothing",
    );
  });

  it("maps APIKey names, PageToken paging and the AuthCode flow name", () => {
    const apiKey = loadObject(
      legacyTemplate({
        ...seedPollingConfig,
        auth: {
          authType: "APIKey",
          APIKeyName: "provhash",
          IsAPIKeyInPostPayload: "true",
          APIKeyIdentifier: "token",
        },
        paging: { pagingType: "PageToken", nextPageParaName: "next", nextPageTokenJsonPath: "$.next" },
      }),
      { env: { ...legacyEnv, CCP_LEGACY_APIKEY: "test-api-key-legacy" } },
    );
    expect(apiKey.connectors[0]?.properties.auth).toEqual({
      type: "APIKey",
      apiKeyName: "provhash",
      apiKeyIdentifier: "token",
      isApiKeyInPostPayload: true,
      apiKey: "test-api-key-legacy",
    });
    expect(apiKey.connectors[0]?.properties.paging.pagingType).toBe("NextPageToken");

    const oauth = loadObject(
      legacyTemplate({
        ...seedPollingConfig,
        auth: {
          authType: "OAuth2",
          FlowName: "AuthCode",
          TokenEndpoint: "https://login.example.test/token",
          RedirectionEndpoint: "https://portal.example.test/cb",
        },
      }),
      {
        env: {
          ...legacyEnv,
          CCP_LEGACY_CLIENTID: "test-client",
          CCP_LEGACY_CLIENTSECRET: "test-secret-legacy",
        },
      },
    );
    expect(oauth.connectors[0]?.properties.auth).toMatchObject({
      type: "OAuth2",
      grantType: "authorization_code",
      redirectUri: "https://portal.example.test/cb",
      clientSecret: "test-secret-legacy",
    });
  });

  it("refuses legacy TimeStamp paging with its code", () => {
    const result = loadObject(legacyTemplate({ ...seedPollingConfig, paging: { pagingType: "TimeStamp" } }), {
      env: legacyEnv,
    });

    expect(result.refused).toEqual([
      {
        file: "bad.json",
        jsonPath: "$.resources[0].properties.pollingConfig.paging.pagingType",
        code: "legacy-timestamp-paging",
        reason:
          "legacy pagingType TimeStamp (next request starts at the latest event time) has no RestApiPoller equivalent",
      },
    ]);
  });
});
