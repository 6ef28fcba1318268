/** Loading nested definitions: what a child step inherits, and that its credentials are secrets like the root's. */
import { describe, expect, it } from "vitest";
import { loadObject, validResource } from "../definition/helpers.ts";

const CHILD_KEY = "test-api-key-child-0000";

function nestedResource(childAuth?: Record<string, unknown>): Record<string, unknown> {
  const resource = validResource() as { properties: Record<string, unknown> };
  resource.properties.stepInfo = {
    stepType: "Nested",
    nextSteps: [
      {
        stepId: "details",
        stepPlaceholdersParsingKql: "source | project id = tostring(parse_json(data).id)",
      },
    ],
  };
  resource.properties.stepCollectorConfigs = {
    details: {
      ...(childAuth ? { auth: childAuth } : {}),
      request: { apiEndpoint: "https://api.example.test/v1/events/$id$" },
      response: { eventsJsonPaths: ["$"] },
    },
  };
  return resource;
}

describe("nested definitions", () => {
  it("treat a child step's auth secret like the root's: bound from the environment and redacted", () => {
    const result = loadObject(
      nestedResource({ AuthType: "APIKey", APIKey: "{{childKey}}", APIKeyName: "X-Key" }),
      {
        env: { CCP_T_PASSWORD: "test-password-0000", CCP_T_CHILDKEY: CHILD_KEY },
      },
    );

    expect(result.errors.map((e) => e.message)).toEqual([]);
    const [connector] = result.connectors;
    expect(connector?.properties.stepCollectorConfigs?.details?.auth).toMatchObject({
      type: "APIKey",
      apiKeyName: "X-Key",
    });
    expect(connector?.secrets).toContain(CHILD_KEY);
  });

  it("default a child's maxParallelism to 15 and leave its headers, auth and time format to the parent", () => {
    const result = loadObject(nestedResource(), { env: { CCP_T_PASSWORD: "test-password-0000" } });

    const step = result.connectors[0]?.properties.stepCollectorConfigs?.details;
    expect(step?.request.maxParallelism).toBe(15);
    expect(step?.request.headers).toBeUndefined();
    expect(step?.request.queryTimeFormat).toBeUndefined();
    expect(step?.auth).toBeUndefined();
    expect(step?.shouldJoinNestedData).toBe(false);
  });
});
