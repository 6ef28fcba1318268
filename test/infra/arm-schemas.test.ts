/**
 * What the Bicep templates load, validated against the ARM schemas of the resource properties
 * (../shared/arm-schemas, read in place): the native poller as sentinel.bicep builds it from the shared
 * connector file, its UI config, the DCR stream declaration and the table schema.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type ArmValidator, armValidator } from "./arm-schema.ts";
import type { IngestionSpec } from "./infra-checks.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const armSchemasDir = path.join(path.resolve(repoRoot, "../shared"), "arm-schemas");
const haveSchemas = existsSync(armSchemasDir);
if (!haveSchemas)
  console.warn(`Skipping ARM schema checks: ${armSchemasDir} is absent (../shared not mounted)`);

const read = (...parts: string[]) => readFileSync(path.join(repoRoot, ...parts), "utf8");
const ingestion = JSON.parse(read("infra/jira-audit/ingestion.json")) as IngestionSpec;
const sentinelBicep = read("infra/modules/sentinel.bicep");

/** Sample values that look fake; the API token is the secret. */
const sampleValues: Record<string, string> = {
  domain: "example-org.atlassian.net",
  username: "test-user@example.com",
  apiToken: 'test-api-key-0000"with\\quotes',
  dataCollectionEndpoint: "https://dce-test-0000.westeurope-1.ingest.monitor.azure.com",
  dataCollectionRuleImmutableId: "dcr-00000000000000000000000000000000",
  streamName: ingestion.streamName,
};

/** What sentinel.bicep does: splice each value JSON-escaped in place of its placeholder, then parse. */
function bindLikeBicep(text: string, values: Record<string, string>): unknown {
  const replaced = [...sentinelBicep.matchAll(/placeholder:\s*'\{\{(\w+)\}\}'/g)].map((m) => m[1] ?? "");
  let bound = text;
  for (const name of replaced) {
    const value = values[name];
    if (value === undefined) throw new Error(`no sample value for {{${name}}}`);
    bound = bound.replaceAll(`{{${name}}}`, JSON.stringify([value]).slice(2, -2));
  }
  return JSON.parse(bound);
}

/** The poller's properties as deployed: the file's, with the definition name, CCP table and isActive set by Bicep. */
function deployedPollerProperties(): Record<string, unknown> {
  const definitionName = /var definitionName = '(\w+)'/.exec(sentinelBicep)?.[1];
  const bound = bindLikeBicep(read("connectors/jira-audit/connector.json"), sampleValues) as {
    properties: Record<string, unknown>;
  };
  return {
    ...bound.properties,
    connectorDefinitionName: definitionName,
    dataType: ingestion.ccpTableName,
    isActive: /^\s+isActive: true$/m.test(sentinelBicep),
  };
}

describe.skipIf(!haveSchemas)("ARM schemas (../shared/arm-schemas)", () => {
  let validate: ArmValidator;
  beforeAll(() => {
    validate = armValidator(armSchemasDir);
  });

  it("the native poller built from connectors/jira-audit/connector.json is a valid RestApiPoller", () => {
    const properties = deployedPollerProperties();
    expect(JSON.stringify(properties)).not.toContain("{{");
    expect(validate("securityInsights", "RestApiPollerDataConnectorProperties", properties)).toEqual([]);
    expect((properties.auth as Record<string, unknown>).password).toBe(sampleValues.apiToken);
    expect(properties.isActive).toBe(true);
  });

  it("rejects a poller whose auth lost its password or whose dcrConfig lost a field", () => {
    const properties = deployedPollerProperties();
    const auth = { ...(properties.auth as Record<string, unknown>) };
    delete auth.password;
    const errors = validate("securityInsights", "RestApiPollerDataConnectorProperties", {
      ...properties,
      auth,
      dcrConfig: { streamName: ingestion.streamName },
    });
    expect(errors).toContain(
      "RestApiPollerDataConnectorProperties/auth: must have required property 'password'",
    );
    expect(errors).toContain(
      "RestApiPollerDataConnectorProperties/dcrConfig: must have required property 'dataCollectionEndpoint'",
    );
  });

  it("the connector UI config is a valid Customizable connector definition", () => {
    const connectorUiConfig = JSON.parse(read("infra/jira-audit/connector-ui.json"));
    expect(
      validate("securityInsights", "CustomizableConnectorDefinitionProperties", { connectorUiConfig }),
    ).toEqual([]);
    const { instructionSteps: _, ...withoutSteps } = connectorUiConfig;
    expect(
      validate("securityInsights", "CustomizableConnectorDefinitionProperties", {
        connectorUiConfig: withoutSteps,
      }),
    ).toContain(
      "CustomizableConnectorDefinitionProperties/connectorUiConfig: must have required property 'instructionSteps'",
    );
  });

  it("the DCR stream declaration and the table columns use types the APIs accept", () => {
    expect(validate("insights", "StreamDeclaration", { columns: ingestion.streamColumns })).toEqual([]);
    expect(
      validate("operationalInsights", "TableProperties", {
        plan: "Analytics",
        schema: { name: ingestion.funcTableName, columns: ingestion.tableColumns },
      }),
    ).toEqual([]);
    // The stream and table type vocabularies differ in case: "datetime" is a stream type, not a table type.
    const tableWithStreamType = [...ingestion.tableColumns, { name: "Seen", type: "datetime" }];
    expect(
      validate("operationalInsights", "TableProperties", { schema: { columns: tableWithStreamType } }),
    ).toContain("TableProperties/schema/columns/14/type: must be equal to one of the allowed values");
  });
});
