import path from "node:path";
import { type LoadOptions, type LoadResult, loadDefinitionText } from "../../src/definition/load.ts";

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const sharedDir = path.resolve(repoRoot, "../shared");

/** A valid bare RestApiPoller resource; cases clone and break it. */
export function validResource(): Record<string, unknown> {
  return {
    name: "t",
    type: "Microsoft.SecurityInsights/dataConnectors",
    kind: "RestApiPoller",
    properties: {
      connectorDefinitionName: "TestDefinition",
      auth: { type: "Basic", userName: "test-user", password: "{{password}}" },
      request: { apiEndpoint: "https://api.example.test/v1/events", queryWindowInMin: 5 },
      paging: { pagingType: "None" },
      response: { eventsJsonPaths: ["$"] },
      dcrConfig: {
        dataCollectionEndpoint: "https://test-dce.example.test",
        dataCollectionRuleImmutableId: "dcr-00000000000000000000000000000000",
        streamName: "Custom-Test_CL",
      },
    },
  };
}

export const testEnv = { CCP_T_PASSWORD: "test-password-t1" };

export function loadText(text: string, options: Partial<LoadOptions> = {}): LoadResult {
  return loadDefinitionText(text, "bad.json", { env: testEnv, ...options });
}

export function loadObject(value: unknown, options: Partial<LoadOptions> = {}): LoadResult {
  return loadText(JSON.stringify(value, null, 2), options);
}

export function errorMessages(result: LoadResult): string[] {
  return result.errors.map((e) => e.message);
}
