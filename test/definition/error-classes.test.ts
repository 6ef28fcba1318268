/**
 * Real definitions that used to fail with a schema or binding error although the file itself explains them:
 * an auth type outside the list, a streamName-only dcrConfig, a variable of the solution's mainTemplate.
 */
import { describe, expect, it } from "vitest";
import { errorMessages, loadObject, testEnv, validResource } from "./helpers.ts";

type Properties = Record<string, Record<string, unknown>>;

function resource(change: (p: Properties) => void): Record<string, unknown> {
  const r = validResource();
  change(r.properties as Properties);
  return r;
}

describe("an auth type outside the list", () => {
  it("is refused as unsupported-auth naming the type, not reported as a schema error", () => {
    // Alibaba Cloud SLS connectors ship this shape.
    const result = loadObject(
      resource((p) => {
        p.auth = {
          type: "AliCloudSlsV1",
          AccessKeyId: "[[parameters('accessKeyId')]",
          AccessKeySecret: "[[parameters('accessKeySecret')]",
        };
      }),
    );

    expect(errorMessages(result)).toEqual([]);
    expect(result.refused).toEqual([
      expect.objectContaining({ jsonPath: "$.properties.auth.type", code: "unsupported-auth" }),
    ]);
    expect(result.refused[0]?.reason).toMatch(/^auth type AliCloudSlsV1 is not .*\(supported: Basic, APIKey/);
  });

  it("matches known types case-insensitively and leaves a type bound later to the binder", () => {
    const lower = loadObject(resource((p) => (p.auth = { ...p.auth, type: "basic" })));
    expect(lower.refused).toEqual([]);
    expect(lower.connectors).toHaveLength(1);

    const bound = loadObject(
      resource((p) => (p.auth = { ...p.auth, type: "{{authType}}" })),
      {
        env: { ...testEnv, CCP_T_AUTHTYPE: "Basic" },
      },
    );
    expect(bound.refused).toEqual([]);
    expect(bound.connectors[0]?.properties.auth.type).toBe("Basic");
  });
});

describe("a dcrConfig holding only streamName", () => {
  // Cisco Secure Endpoint and Dragos: the portal fills endpoint and rule id when the user connects.
  const streamOnly = () => resource((p) => (p.dcrConfig = { streamName: "Custom-CiscoSecureEndpoint" }));

  it("binds the endpoint and rule id from settings", () => {
    const result = loadObject(streamOnly(), {
      env: {
        ...testEnv,
        CCP_T_DATACOLLECTIONENDPOINT: "https://test-dce.example.test",
        CCP_T_DATACOLLECTIONRULEIMMUTABLEID: "dcr-11111111111111111111111111111111",
      },
    });

    expect(errorMessages(result)).toEqual([]);
    expect(result.connectors[0]?.properties.dcrConfig).toEqual({
      dataCollectionEndpoint: "https://test-dce.example.test",
      dataCollectionRuleImmutableId: "dcr-11111111111111111111111111111111",
      streamName: "Custom-CiscoSecureEndpoint",
    });
  });

  it("names both settings when they are missing, and loads for a structure-only check", () => {
    const messages = errorMessages(loadObject(streamOnly()));
    expect(messages).toHaveLength(2);
    expect(messages[0]).toContain("$.properties.dcrConfig.dataCollectionEndpoint");
    expect(messages[0]).toContain("environment variable CCP_T_DATACOLLECTIONENDPOINT");
    expect(messages[1]).toContain("environment variable CCP_T_DATACOLLECTIONRULEIMMUTABLEID");

    const structure = loadObject(streamOnly(), { unbound: "keep" });
    expect(errorMessages(structure)).toEqual([]);
    expect(structure.connectors).toHaveLength(1);
  });
});

describe("a variable of the solution's mainTemplate, absent from the file", () => {
  const usesVariable = () =>
    resource((p) => {
      p.request = { apiEndpoint: "[[concat(variables('apiBase'), '/v1/events')]" };
    });

  it("is supplied by the settings file (or the environment)", () => {
    const fromFile = loadObject(usesVariable(), {
      settings: { t: { apiBase: "https://api.example.test" } },
    });
    expect(errorMessages(fromFile)).toEqual([]);
    expect(fromFile.connectors[0]?.properties.request.apiEndpoint).toBe("https://api.example.test/v1/events");

    const fromEnv = loadObject(usesVariable(), {
      env: { ...testEnv, CCP_T_APIBASE: "https://env.example.test" },
    });
    expect(fromEnv.connectors[0]?.properties.request.apiEndpoint).toBe("https://env.example.test/v1/events");
  });

  it("without a value, is an error naming the variable and where to set it", () => {
    expect(errorMessages(loadObject(usesVariable()))).toEqual([
      "bad.json: $.properties.request.apiEndpoint — expected a value for variables('apiBase') (a variable of " +
        "the solution's mainTemplate, absent from this file) from environment variable CCP_T_APIBASE or " +
        '"apiBase" under "t" in the settings file, got nothing',
    ]);
    expect(errorMessages(loadObject(usesVariable(), { unbound: "keep" }))).toEqual([]);
  });

  it("is a secret when it fills a credential: only from the environment", () => {
    const result = loadObject(
      resource((p) => (p.auth = { type: "APIKey", apiKey: "[[variables('token')]" })),
      { settings: { t: { token: "test-api-key-in-file" } } },
    );
    expect(errorMessages(result).join("\n")).toContain("never from a settings file");
    expect(errorMessages(result).join("\n")).not.toContain("test-api-key-in-file");
  });
});

describe("paging.tokenTransform", () => {
  it("loads SplitOnDelimiter and refuses any other transform type, naming it", () => {
    const paging = (type: string) =>
      resource((p) => {
        p.paging = {
          pagingType: "NextPageToken",
          nextPageTokenResponseHeader: "paging",
          nextPageParaName: "handle",
          tokenTransform: { TransformType: type, SliceDelimiter: "=", StringIndex: 1 },
        };
      });
    const split = loadObject(paging("SplitOnDelimiter"));
    expect(errorMessages(split)).toEqual([]);
    expect(split.connectors[0]?.properties.paging).toMatchObject({
      tokenTransform: { transformType: "SplitOnDelimiter", sliceDelimiter: "=", stringIndex: 1 },
    });

    const other = loadObject(paging("Regex"));
    expect(other.refused).toEqual([
      expect.objectContaining({
        jsonPath: "$.properties.paging.tokenTransform.TransformType",
        code: "token-transform",
      }),
    ]);
  });
});

describe("Basic auth with a TokenEndpoint (Prisma Cloud CSPM)", () => {
  it("loads as the JwtToken login flow, with a warning saying how it runs", () => {
    const result = loadObject(
      resource((p) => {
        p.auth = {
          type: "Basic",
          userName: { key: "username", value: "test-access-key-id" },
          password: { key: "password", value: "{{password}}" },
          TokenEndpoint: "https://api.example.test/login",
          IsJsonRequest: true,
        };
      }),
    );

    expect(errorMessages(result)).toEqual([]);
    expect(result.refused).toEqual([]);
    expect(result.connectors[0]?.properties.auth).toMatchObject({
      type: "JwtToken",
      tokenEndpoint: "https://api.example.test/login",
      isJsonRequest: true,
      userName: { key: "username", value: "test-access-key-id" },
      password: { key: "password", value: "test-password-t1" },
    });
    expect(result.connectors[0]?.secrets).toContain("test-password-t1");
    expect(result.warnings.map((w) => [w.code, w.jsonPath])).toContainEqual([
      "basic-token-login",
      "$.properties.auth.type",
    ]);
  });

  it("wraps plain-string credentials as username/password fields", () => {
    const result = loadObject(
      resource((p) => (p.auth = { ...p.auth, tokenEndpoint: "https://api.example.test/login" })),
    );
    expect(result.connectors[0]?.properties.auth).toMatchObject({
      type: "JwtToken",
      userName: { key: "username", value: "test-user" },
      password: { key: "password", value: "test-password-t1" },
    });
  });
});
