/** `$name$` placeholders in a child step's request, as the corpus writes them. */
import { describe, expect, it } from "vitest";
import { stepCollectorConfig } from "../../src/definition/schema.ts";
import { fillPlaceholders } from "../../src/nested/placeholders.ts";

const request = (fields: Record<string, unknown>) =>
  stepCollectorConfig.parse({ request: fields, response: { eventsJsonPaths: ["$"] } }).request;

describe("fillPlaceholders", () => {
  it("fills the endpoint unencoded (Salesforce's log file path) and headers and query values as written", () => {
    const filled = fillPlaceholders(
      request({
        apiEndpoint: "https://sf.example.test$logFileUrl$",
        headers: { "X-Set": "$SetName$" },
        queryParameters: { filter: 'SYSTEM = "$dataSourceName$"', limit: 32, $skip: "$skip" },
      }),
      {
        logFileUrl: "/services/data/v58.0/sobjects/EventLogFile/0AT1/LogFile",
        SetName: "Set A",
        dataSourceName: "crm db",
      },
    );
    expect(filled.apiEndpoint).toBe(
      "https://sf.example.test/services/data/v58.0/sobjects/EventLogFile/0AT1/LogFile",
    );
    expect(filled.headers).toEqual({ "X-Set": "Set A" });
    expect(filled.queryParameters).toEqual({ filter: 'SYSTEM = "crm db"', limit: 32, $skip: "$skip" });
  });

  it("quotes template values: escaped inside quotes (CrowdStrike), a JSON string outside them (CyberArk Audit)", () => {
    const crowdStrike = fillPlaceholders(
      request({ apiEndpoint: "https://x.test", queryParametersTemplate: "{'ids': ['$Url_PlaceHolder$']}" }),
      {
        Url_PlaceHolder: "it's-1",
      },
    );
    expect(crowdStrike.queryParametersTemplate).toBe("{'ids': ['it\\'s-1']}");
    const cyberArk = fillPlaceholders(
      request({ apiEndpoint: "https://x.test", queryParametersTemplate: "{cursorRef:$cursorRef$}" }),
      {
        cursorRef: 'c"1',
      },
    );
    expect(cyberArk.queryParametersTemplate).toBe('{cursorRef:"c\\"1"}');
  });

  it("leaves $text$ that no query outputs untouched", () => {
    expect(
      fillPlaceholders(request({ apiEndpoint: "https://x.test/$other$/$id$" }), { id: "7" }).apiEndpoint,
    ).toBe("https://x.test/$other$/7");
  });
});
