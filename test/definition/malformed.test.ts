import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConnectors } from "../../src/definition/load.ts";
import { errorMessages, loadObject, loadText, validResource } from "./helpers.ts";

// biome-ignore lint/suspicious/noExplicitAny: each case breaks the shape on purpose, in its own way
type Properties = Record<string, any>;

/** Each case breaks the valid resource one way and names the one error it must produce, exactly. */
const cases: [string, (p: Properties) => void, string][] = [
  [
    "a word where a number belongs",
    (p) => {
      p.request.queryWindowInMin = "five";
    },
    '$.properties.request.queryWindowInMin — expected a number, got string "five"',
  ],
  [
    "a window below the minimum",
    (p) => {
      p.request.queryWindowInMin = 0;
    },
    "$.properties.request.queryWindowInMin — expected a number >= 1, got number 0",
  ],
  [
    "a fractional window",
    (p) => {
      p.request.queryWindowInMin = 2.5;
    },
    "$.properties.request.queryWindowInMin — expected an integer, got number 2.5",
  ],
  [
    "too many retries",
    (p) => {
      p.request.retryCount = 11;
    },
    "$.properties.request.retryCount — expected a number <= 10, got number 11",
  ],
  [
    "a timeout above the limit",
    (p) => {
      p.request.timeoutInSeconds = 500;
    },
    "$.properties.request.timeoutInSeconds — expected a number <= 180, got number 500",
  ],
  [
    "a negative rate limit",
    (p) => {
      p.request.rateLimitQPS = -1;
    },
    "$.properties.request.rateLimitQPS — expected a number > 0, got number -1",
  ],
  [
    "a missing apiEndpoint",
    (p) => {
      delete p.request.apiEndpoint;
    },
    "$.properties.request.apiEndpoint — expected a string, got nothing",
  ],
  [
    "a missing response block",
    (p) => {
      delete p.response;
    },
    "$.properties.response — expected an object, got nothing",
  ],
  [
    "a missing auth block",
    (p) => {
      delete p.auth;
    },
    "$.properties.auth — expected an object, got nothing",
  ],
  [
    "no events paths",
    (p) => {
      p.response.eventsJsonPaths = [];
    },
    "$.properties.response.eventsJsonPaths — expected at least 1 item(s), got an array of 0",
  ],
  [
    "a string where the events paths array belongs",
    (p) => {
      p.response.eventsJsonPaths = "$";
    },
    '$.properties.response.eventsJsonPaths — expected an array, got string "$"',
  ],
  [
    "an unknown HTTP method",
    (p) => {
      p.request.httpMethod = "PATCH";
    },
    '$.properties.request.httpMethod — expected one of "GET" | "POST" | "PUT" | "DELETE", got string "PATCH"',
  ],
  [
    "an unknown paging type",
    (p) => {
      p.paging.pagingType = "Cursor";
    },
    '$.properties.paging.pagingType — expected one of "None" | "LinkHeader" | "PersistentLinkHeader" | "NextPageToken" | "PersistentToken" | "NextPageUrl" | "Offset" | "CountBasedPaging", got string "Cursor"',
  ],
  [
    "Offset paging without offsetParaName",
    (p) => {
      p.paging = { pagingType: "Offset", pageSize: 10 };
    },
    "$.properties.paging.offsetParaName — expected a string, got nothing",
  ],
  [
    "a stream name outside Custom-",
    (p) => {
      // A literal non-Custom stream is Sentinel-owned (refused or mapped); a bound one must be Custom-*.
      p.dcrConfig.streamName = "[[concat('My', 'Stream')]";
    },
    '$.properties.dcrConfig.streamName — expected a stream name starting with Custom-, got string "MyStream"',
  ],
  [
    "an empty data collection endpoint",
    (p) => {
      p.dcrConfig.dataCollectionEndpoint = "";
    },
    '$.properties.dcrConfig.dataCollectionEndpoint — expected a string of at least 1 characters, got string ""',
  ],
  [
    "Basic auth without a password",
    (p) => {
      delete p.auth.password;
    },
    "$.properties.auth.password — expected a string, got nothing",
  ],
  [
    "a secret field of the wrong type (its value is never shown)",
    (p) => {
      p.auth.password = 1234;
    },
    "$.properties.auth.password — expected a string, got <secret>",
  ],
  [
    "headers given as a string",
    (p) => {
      p.request.headers = "Accept: json";
    },
    '$.properties.request.headers — expected an object, got string "Accept: json"',
  ],
  [
    "an unknown response format",
    (p) => {
      p.response.format = "yaml";
    },
    '$.properties.response.format — expected one of "json" | "csv" | "xml" | "jsonlines", got string "yaml"',
  ],
  [
    "a non-boolean isActive",
    (p) => {
      p.isActive = "maybe";
    },
    '$.properties.isActive — expected a boolean, got string "maybe"',
  ],
  [
    "a two-character csvEscape",
    (p) => {
      p.response.csvEscape = "ab";
    },
    '$.properties.response.csvEscape — expected a string of at most 1 characters, got string "ab"',
  ],
  [
    "an unknown OAuth2 grant type",
    (p) => {
      p.auth = {
        type: "OAuth2",
        clientId: "test-client",
        clientSecret: "{{password}}",
        grantType: "implicit",
        tokenEndpoint: "https://login.example.test/token",
      };
    },
    '$.properties.auth.grantType — expected one of "client_credentials" | "authorization_code" | "password" | "refresh_token", got string "implicit"',
  ],
  [
    "a JwtToken request timeout of zero",
    (p) => {
      p.auth = {
        type: "JwtToken",
        tokenEndpoint: "https://login.example.test",
        userToken: "{{password}}",
        requestTimeoutInSeconds: 0,
      };
    },
    "$.properties.auth.requestTimeoutInSeconds — expected a number >= 1, got number 0",
  ],
  [
    "a bad value under a PascalCase key (the path keeps the file's spelling)",
    (p) => {
      delete p.request.queryWindowInMin;
      p.request.QueryWindowInMin = "x";
    },
    '$.properties.request.QueryWindowInMin — expected a number, got string "x"',
  ],
  [
    "an unbound placeholder",
    (p) => {
      p.request.apiEndpoint = "https://{{region}}.example.test/v1";
    },
    '$.properties.request.apiEndpoint — expected a value for {{region}} from environment variable CCP_T_REGION or "region" under "t" in the settings file, got nothing',
  ],
  [
    "an unbound ARM parameter",
    (p) => {
      p.request.apiEndpoint = "[[parameters('tenant')]";
    },
    `$.properties.request.apiEndpoint — expected a value for parameters('tenant') from environment variable CCP_T_TENANT or "tenant" under "t" in the settings file, got nothing`,
  ],
  [
    "an unsupported ARM function",
    (p) => {
      p.request.apiEndpoint = "[[concat('https://x.example.test/', guid('a'))]";
    },
    "$.properties.request.apiEndpoint — expected a supported ARM function (parameters, variables, if, concat, int, string, bool, equals, contains, or, and, not, empty, toLower, toUpper, base64, uniqueString), got unsupported ARM function guid()",
  ],
  [
    "an ARM expression with an unclosed quote",
    (p) => {
      p.request.apiEndpoint = "[[concat('a', 'b)]";
    },
    `$.properties.request.apiEndpoint — expected a closing quote in the ARM expression, got ARM expression "[[concat('a', 'b)]"`,
  ],
  [
    "an ARM variable the template does not declare",
    (p) => {
      p.request.apiEndpoint = "[variables('nope')]";
    },
    '$.properties.request.apiEndpoint — expected a value for variables(\'nope\') (a variable of the solution\'s mainTemplate, absent from this file) from environment variable CCP_T_NOPE or "nope" under "t" in the settings file, got nothing',
  ],
  [
    "int() of a word",
    (p) => {
      p.request.queryWindowInMin = "[[int('abc')]";
    },
    '$.properties.request.queryWindowInMin — expected an integer argument for int(), got "abc"',
  ],
];

describe("malformed definitions", () => {
  it.each(cases)("reports %s with its exact path and message", (_name, mutate, expected) => {
    const resource = validResource();
    mutate(resource.properties as Properties);

    const result = loadObject(resource);

    expect(errorMessages(result)).toEqual([`bad.json: ${expected}`]);
    expect(result.connectors).toEqual([]);
  });

  it("reports every error of a file at once, not just the first", () => {
    const resource = validResource();
    const p = resource.properties as Properties;
    p.request.queryWindowInMin = "five";
    p.request.httpMethod = "PATCH";
    delete p.response;

    expect(errorMessages(loadObject(resource))).toHaveLength(3);
  });

  it.each([
    [
      "a missing comma",
      '{\n  "name": "t",\n  "kind": "RestApiPoller"\n  "properties": {}\n}',
      `bad.json: $ (line 4, column 3) — expected ',' or '}' after a property value, got "\\""`,
    ],
    [
      "a trailing comma",
      '{\n  "a": [1, 2,],\n}',
      "bad.json: $ (line 2, column 14) — expected a value after ',' (no trailing commas in JSON), got \"]\"",
    ],
    [
      "a truncated file",
      '{"a": {',
      "bad.json: $ (line 1, column 8) — expected a double-quoted string, got end of input",
    ],
    [
      "an unquoted key after a BOM (the BOM itself is fine)",
      "\uFEFF{ name: 1 }",
      'bad.json: $ (line 1, column 3) — expected a double-quoted string, got "n"',
    ],
  ])("reports invalid JSON (%s) with line and column", (_name, text, expected) => {
    expect(errorMessages(loadText(text))).toEqual([expected]);
  });
});

describe("malformed settings and paths", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ccp-defs-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a secret given in a settings file, without printing it", async () => {
    const definition = path.join(dir, "t.json");
    const settings = path.join(dir, "values.json");
    await writeFile(definition, JSON.stringify(validResource()));
    await writeFile(settings, JSON.stringify({ t: { password: "test-password-in-file" } }));

    const result = await loadConnectors([definition], { env: {}, settingsFile: settings });

    expect(errorMessages(result)).toEqual([
      `${definition}: $.properties.auth.password — expected secret {{password}} only from environment variable CCP_T_PASSWORD (a secret: never from a settings file), got a value in settings file ${settings} (ignored)`,
    ]);
    expect(JSON.stringify(result)).not.toContain("test-password-in-file");
  });

  it("refuses a settings file that is not an object of connector entries", async () => {
    const settings = path.join(dir, "list.json");
    await writeFile(settings, JSON.stringify({ t: ["not", "an", "object"] }));

    const result = await loadConnectors([dir], { env: {}, settingsFile: settings });

    expect(errorMessages(result)).toEqual([
      `${settings}: $['t'] — expected an object of setting name → value, got an array of 3`,
    ]);
  });

  it("reports a path that does not exist", async () => {
    const missing = path.join(dir, "nope.json");

    const result = await loadConnectors([missing], { env: {} });

    expect(errorMessages(result)).toEqual([
      `${missing}: $ — expected a definition file or folder, got nothing at that path`,
    ]);
  });

  it("reports two definitions with the same connector id", async () => {
    const sub = path.join(dir, "dupes");
    await rm(sub, { recursive: true, force: true });
    await mkdir(sub);
    await writeFile(path.join(sub, "a.json"), JSON.stringify(validResource()));
    await writeFile(path.join(sub, "b.json"), JSON.stringify(validResource()));

    const result = await loadConnectors([sub], { env: { CCP_T_PASSWORD: "test-password-t1" } });

    expect(errorMessages(result)).toEqual([
      `${path.join(sub, "b.json")}: $ — expected a connector id not already used by ${path.join(sub, "a.json")}, got duplicate id "t"`,
    ]);
  });
});
