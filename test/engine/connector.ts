/** Builds connectors for engine tests the way the loader would, without waiting for the loader. */
import {
  type Connector,
  connectorProperties,
  type SupportedAuthConfig,
} from "../../src/definition/schema.ts";

export function makeConnector(
  properties: Record<string, unknown>,
  secrets: readonly string[] = [],
): Connector {
  const parsed = connectorProperties.parse({ auth: { type: "None" }, ...properties });
  return {
    id: "test-connector",
    sourceKind: "RestApiPoller",
    source: { file: "test/connector.json", jsonPath: "$" },
    definitionHash: "0000000000000000",
    properties: { ...parsed, auth: parsed.auth as SupportedAuthConfig },
    secrets,
  };
}
