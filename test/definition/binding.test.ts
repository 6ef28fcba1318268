import { describe, expect, it } from "vitest";
import { envVarName } from "../../src/definition/settings.ts";
import { errorMessages, loadObject, validResource } from "./helpers.ts";

type Properties = Record<string, Record<string, unknown>>;

function withProperties(
  change: (p: Properties) => void,
  resource = validResource(),
): Record<string, unknown> {
  change(resource.properties as Properties);
  return resource;
}

describe("setting names", () => {
  it("upper-cases the connector id and the name, turning every other character into _", () => {
    expect(envVarName("jira-audit", "apiToken")).toBe("CCP_JIRA_AUDIT_APITOKEN");
    expect(envVarName("my.conn", "Base Url")).toBe("CCP_MY_CONN_BASE_URL");
  });
});

describe("binding placeholders and ARM expressions", () => {
  it("takes non-secrets from the settings file and the environment, the environment winning", () => {
    const resource = withProperties((p) => {
      p.request = {
        apiEndpoint: "https://{{Base Url}}/{{version}}/events",
        queryParameters: { tenant: "{{tenant}}" },
      };
    });
    const result = loadObject(resource, {
      env: { CCP_T_PASSWORD: "test-password-t1", CCP_T_VERSION: "v2" },
      settings: { t: { "base url": "api.example.test", version: "v1", tenant: 42 } },
    });

    expect(errorMessages(result)).toEqual([]);
    expect(result.connectors[0]?.properties.request).toMatchObject({
      apiEndpoint: "https://api.example.test/v2/events",
      queryParameters: { tenant: "42" },
    });
  });

  it("leaves runtime tokens and step placeholders untouched", () => {
    const resource = withProperties((p) => {
      p.request = {
        apiEndpoint: "https://api.example.test/$id$/events",
        queryParameters: { from: "{_QueryWindowStartTime}", day: "{_QueryWindowStartDay}" },
        queryParametersTemplate: "{'k': '{_APIKey}', 'to': {_QueryWindowEndTime}}",
      };
    });

    const request = loadObject(resource).connectors[0]?.properties.request;

    expect(request?.apiEndpoint).toBe("https://api.example.test/$id$/events");
    expect(request?.queryParameters).toEqual({
      from: "{_QueryWindowStartTime}",
      day: "{_QueryWindowStartDay}",
    });
    expect(request?.queryParametersTemplate).toBe("{'k': '{_APIKey}', 'to': {_QueryWindowEndTime}}");
  });

  it("evaluates the ARM functions real files use, with parameters from settings and template defaults", () => {
    const template = {
      parameters: {
        region: { type: "string", defaultValue: "eu" },
        location: { defaultValue: "[resourceGroup().location]" },
      },
      variables: { path: "/v1/events" },
      resources: [
        withProperties((p) => {
          p.request = {
            apiEndpoint: "[[concat('https://', parameters('region'), '.example.test', variables('path'))]",
            queryWindowInMin: "[[int(parameters('window'))]",
            queryParameters: {
              size: "[[if(equals(parameters('mode')[0], 'Full'), 'detailed', 'regular')]",
              both: "[[and(contains(parameters('mode'), 'Full'), or(false, true))]",
              auth: "[[concat('Basic ', base64(concat('test-user', ':', 'x')))]",
              name: "[[toLower(parameters('dcr').Stream)]",
              inside: "[[equals({{flag}}, 'yes')]",
            },
          };
        }),
      ],
    };
    const result = loadObject(template, {
      env: { CCP_T_PASSWORD: "test-password-t1", CCP_T_WINDOW: "15", CCP_T_FLAG: "yes" },
      settings: { t: { mode: ["Full"], dcr: { Stream: "Custom-X" } } },
    });

    expect(errorMessages(result)).toEqual([]);
    expect(result.connectors[0]?.properties.request).toMatchObject({
      apiEndpoint: "https://eu.example.test/v1/events",
      queryWindowInMin: 15,
      queryParameters: {
        size: "detailed",
        both: true,
        auth: `Basic ${Buffer.from("test-user:x").toString("base64")}`,
        name: "custom-x",
        inside: true,
      },
    });
  });

  it("parses an environment value written as a JSON array or object when the expression takes [n] or .prop of it", () => {
    const resource = withProperties((p) => {
      p.request = {
        apiEndpoint: "https://api.example.test",
        queryParameters: {
          truncation_limit: "[[parameters('limits')[0]]",
          stream: "[[parameters('dcr').streamName]",
        },
      };
    });

    const result = loadObject(resource, {
      env: {
        CCP_T_PASSWORD: "test-password-t1",
        CCP_T_LIMITS: '["500", "1000"]',
        CCP_T_DCR: '{"streamName": "Custom-X"}',
      },
    });

    expect(errorMessages(result)).toEqual([]);
    expect(result.connectors[0]?.properties.request.queryParameters).toEqual({
      truncation_limit: "500",
      stream: "Custom-X",
    });
  });

  it("says how to give an array when [n] meets plain text from the environment, instead of taking a character", () => {
    const resource = withProperties((p) => {
      p.request = {
        apiEndpoint: "https://api.example.test",
        queryParameters: { truncation_limit: "[[parameters('limits')[0]]" },
      };
    });

    const result = loadObject(resource, { env: { CCP_T_PASSWORD: "test-password-t1", CCP_T_LIMITS: "500" } });

    expect(errorMessages(result)).toEqual([
      'bad.json: $.properties.request.queryParameters.truncation_limit — expected an array or object to take [0] of (an environment variable holds text: write it as JSON, e.g. ["a","b"] or {"k":"v"}, or give the value in the settings file), got the text "500"',
    ]);
  });

  it("coerces strings and casing where the schema expects numbers, booleans and enum values", () => {
    const resource = withProperties((p) => {
      p.Request = {
        ApiEndpoint: "https://api.example.test",
        HttpMethod: "Post",
        QueryWindowInMin: "10",
        IsPostPayloadJson: "TRUE",
      };
      delete p.request;
      p.Paging = { PagingType: "nextpagetoken", PageSize: "1000", PageSizeParaName: "limit" };
      delete p.paging;
    });

    const properties = loadObject(resource).connectors[0]?.properties;

    expect(properties?.request).toMatchObject({
      httpMethod: "POST",
      queryWindowInMin: 10,
      isPostPayloadJson: true,
    });
    expect(properties?.paging).toMatchObject({
      pagingType: "NextPageToken",
      pageSize: 1000,
      pageSizeParameterName: "limit",
    });
  });

  it("treats values referenced by secret fields as secrets: environment only, collected for redaction", () => {
    const resource = withProperties((p) => {
      p.auth = { type: "APIKey", apiKey: "[[parameters('token')]", apiKeyName: "X-Key" };
      p.request = { apiEndpoint: "https://api.example.test", headers: { "X-Copy": "{{token}}" } };
    });

    const ok = loadObject(resource, { env: { CCP_T_TOKEN: "test-api-key-t2" } });
    expect(ok.connectors[0]?.secrets).toEqual(["test-api-key-t2"]);

    const fromFile = loadObject(resource, {
      env: {},
      settings: { t: { token: "test-api-key-leak" } },
      settingsFile: "values.json",
    });
    expect(errorMessages(fromFile)[0]).toBe(
      "bad.json: $.properties.auth.apiKey — expected secret parameters('token') only from environment variable CCP_T_TOKEN (a secret: never from a settings file), got a value in settings file values.json (ignored)",
    );
    expect(JSON.stringify(fromFile)).not.toContain("test-api-key-leak");
  });

  it("never quotes a secret in an ARM argument error", () => {
    const resource = withProperties((p) => {
      p.auth = { type: "APIKey", apiKey: "{{token}}" };
      p.request = {
        apiEndpoint: "https://api.example.test",
        queryWindowInMin: "[[int(parameters('token'))]",
      };
    });

    const result = loadObject(resource, { env: { CCP_T_TOKEN: "test-api-key-not-a-number" } });

    expect(errorMessages(result)).toEqual([
      "bad.json: $.properties.request.queryWindowInMin — expected an integer argument for int(), got <secret>",
    ]);
  });

  it.each([
    ["[0] of plain text", "[[parameters('token')[0]]", `test-api-key-${"x".repeat(80)}`],
    [
      ".prop missing from a JSON object",
      "[[parameters('token').b]",
      JSON.stringify({ a: `test-api-key-${"x".repeat(80)}` }),
    ],
  ])("never quotes a secret, whole or cut, when %s fails", (_case, apiKey, token) => {
    const resource = withProperties((p) => {
      p.auth = { type: "APIKey", apiKey };
    });

    const result = loadObject(resource, { env: { CCP_T_TOKEN: token } });

    expect(errorMessages(result)).toHaveLength(1);
    expect(errorMessages(result)[0]).toMatch(/, got <secret>$/);
  });

  it("treats securestring template parameters as secrets", () => {
    const template = {
      parameters: { apiHost: { type: "securestring" } },
      resources: [withProperties((p) => (p.request = { apiEndpoint: "[[parameters('apiHost')]" }))],
    };

    const result = loadObject(template, { settings: { t: { apiHost: "https://x.example.test" } } });

    expect(errorMessages(result)).toHaveLength(1);
    expect(errorMessages(result)[0]).toMatch(
      /expected secret parameters\('apiHost'\) only from environment variable CCP_T_APIHOST/,
    );
  });

  it("skips a resource whose condition is false, with a warning", () => {
    const resource = { ...validResource(), condition: "[[equals(parameters('stream'), 'alerts')]" };

    const result = loadObject(resource, {
      env: { CCP_T_PASSWORD: "test-password-t1", CCP_T_STREAM: "events" },
    });

    expect(result.connectors).toEqual([]);
    expect(result.warnings.map((w) => [w.jsonPath, w.code])).toEqual([["$.condition", "condition-false"]]);
  });

  it("in structure-only mode keeps unbound values in place instead of failing", () => {
    const resource = withProperties((p) => {
      p.request = { apiEndpoint: "https://{{host}}/x", queryWindowInMin: "[[int(parameters('window'))]" };
    });

    const result = loadObject(resource, { env: {}, unbound: "keep" });

    expect(errorMessages(result)).toEqual([]);
    expect(result.connectors[0]?.properties.request.apiEndpoint).toBe("https://{{host}}/x");
  });

  it("hashes the definition before binding, so changed settings keep the hash and a changed file does not", () => {
    const a = loadObject(validResource(), { env: { CCP_T_PASSWORD: "test-password-a" } }).connectors[0];
    const b = loadObject(validResource(), { env: { CCP_T_PASSWORD: "test-password-b" } }).connectors[0];
    const changed = loadObject(
      withProperties((p) => (p.request = { apiEndpoint: "https://other.example.test" })),
    ).connectors[0];

    expect(a?.definitionHash).toBe(b?.definitionHash);
    expect(changed?.definitionHash).not.toBe(a?.definitionHash);
  });

  it("derives the id from the file name and index when the resource name is an expression", () => {
    const resource = { ...validResource(), name: "[[concat(parameters('workspace'), '/x')]" };

    const result = loadObject(resource, { env: { CCP_BAD_0_PASSWORD: "test-password-t3" } });

    expect(result.connectors.map((c) => c.id)).toEqual(["bad-0"]);
  });
});
