/**
 * What a Bicep compile does not catch (bicep-build.test.ts compiles and lints infra/): that the template, its
 * parameter file, the app's settings, the shared connector file, the DCR streams, the tables and the code agree
 * on every name. Each checker is also fed a broken input to prove it can fail.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appSettings } from "../../src/config/app-settings.ts";
import { envVarName } from "../../src/definition/settings.ts";
import { EVENT_ID_COLUMN } from "../../src/sink/rows.ts";
import { checkRolesDocumented, readmeSection } from "./compiled-template.ts";
import {
  bicepObjectVarKeys,
  bicepRoleIds,
  checkAppSettings,
  checkBicepPortability,
  checkConnectorRouting,
  checkDcrDependsOnTable,
  checkDcrWiring,
  checkIngestionNames,
  checkParametersFile,
  checkPlaceholders,
  checkReferencedFilesExist,
  checkStreamCovers,
  type IngestionSpec,
  placeholdersIn,
} from "./infra-checks.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const infra = (...parts: string[]) => path.join(repoRoot, "infra", ...parts);
const read = (file: string) => readFileSync(file, "utf8");

const mainBicep = read(infra("main.bicep"));
const functionAppBicep = read(infra("modules/function-app.bicep"));
const sentinelBicep = read(infra("modules/sentinel.bicep"));
const logIngestionBicep = read(infra("modules/log-ingestion.bicep"));
const ingestion = JSON.parse(read(infra("jira-audit/ingestion.json"))) as IngestionSpec;
const transformKql = read(infra("jira-audit/transform.kql"));

const connectorFile = path.join(repoRoot, "connectors/jira-audit/connector.json");
function readConnector(): { name: string; text: string; properties: Record<string, unknown> } {
  if (!existsSync(connectorFile)) {
    throw new Error(
      `${connectorFile} is missing: infra/modules/sentinel.bicep deploys the native connector from it`,
    );
  }
  const text = read(connectorFile);
  const parsed = JSON.parse(text) as { name: string; properties: Record<string, unknown> };
  return { name: parsed.name, text, properties: parsed.properties };
}

const appSettingKeys = bicepObjectVarKeys(functionAppBicep, "appSettings");

/** Azure built-in role definition ids (fixed across tenants) and their names. */
const builtInRoles: Record<string, string> = {
  "b7e6dc6d-f1e8-4753-8033-0f276bb0955b": "Storage Blob Data Owner",
  "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3": "Storage Table Data Contributor",
  "974c5e8b-45b9-4653-ba55-5f855dd0fb88": "Storage Queue Data Contributor",
  "3913510d-42f4-4e42-8a64-420c390055eb": "Monitoring Metrics Publisher",
  "4633458b-17de-408a-b874-0445c86b69e6": "Key Vault Secrets User",
};
const replacedByBicep = [...sentinelBicep.matchAll(/placeholder:\s*'\{\{(\w+)\}\}'/g)].map((m) => m[1] ?? "");

describe("infra files", () => {
  const bicepFiles = [
    infra("main.bicep"),
    ...[
      "identity",
      "workspace",
      "storage",
      "app-insights",
      "key-vault",
      "log-ingestion",
      "sentinel",
      "function-app",
    ].map((m) => infra(`modules/${m}.bicep`)),
  ];

  it("every module and loaded file a Bicep file references exists", () => {
    expect(bicepFiles.flatMap((file) => checkReferencedFilesExist(file, read(file)))).toEqual([]);
    expect(checkReferencedFilesExist(infra("main.bicep"), "module x 'modules/nope.bicep' = {")).toEqual([
      `${infra("main.bicep")}: references modules/nope.bicep, which does not exist`,
    ]);
  });

  it("uses no registry modules and only Sentinel api versions that have Bicep types", () => {
    expect(bicepFiles.flatMap((file) => checkBicepPortability(file, read(file)))).toEqual([]);
    const broken =
      "module m 'br/public:avm/res/web/site:0.15.1' = {}\nresource d 'Microsoft.SecurityInsights/dataConnectors@2022-12-01-preview' = {}";
    expect(checkBicepPortability("x.bicep", broken)).toEqual([
      "x.bicep: uses a registry module (br:), which cannot be restored",
      "x.bicep: Microsoft.SecurityInsights/dataConnectors@2022-12-01-preview has no Bicep types; expected one of 2024-09-01, 2025-03-01, 2025-06-01, 2025-09-01",
    ]);
  });

  it("main.parameters.json maps exactly the params main.bicep declares and needs", () => {
    const parameters = JSON.parse(read(infra("main.parameters.json")));
    expect(checkParametersFile(parameters, mainBicep)).toEqual([]);
    expect(
      checkParametersFile({ parameters: { ...parameters.parameters, jiraDomian: {} } }, mainBicep),
    ).toEqual(["main.parameters.json: parameters.jiraDomian is not a param of main.bicep"]);
    const { existingWorkspaceResourceId: _optional, ...withoutOptional } = parameters.parameters;
    expect(checkParametersFile({ parameters: withoutOptional }, mainBicep)).toEqual([]);
    const { jiraApiToken: _, ...withoutToken } = parameters.parameters;
    expect(checkParametersFile({ parameters: withoutToken }, mainBicep)).toEqual([
      "main.bicep: required param jiraApiToken is not mapped in main.parameters.json",
    ]);
  });

  it("azure.yaml requires azd 1.24.0 or later (older azd deletes an existing workspace's group on azd down)", () => {
    expect(read(path.join(repoRoot, "azure.yaml"))).toMatch(/^requiredVersions:\n {2}azd: ">= 1\.24\.0"$/m);
  });

  it("docs/deploying.md's 'What gets created' names every role the templates assign", () => {
    const roleIds = [...new Set(bicepFiles.flatMap((file) => bicepRoleIds(read(file))))].sort();
    const section = readmeSection(
      read(path.join(repoRoot, "docs/deploying.md")),
      "## What gets created (`infra/`)",
    );
    expect(section).toContain("Role assignments");
    expect(checkRolesDocumented(roleIds, builtInRoles, section)).toEqual([]);
    expect(
      checkRolesDocumented(roleIds, builtInRoles, section.replaceAll("Storage Queue Data Contributor", "")),
    ).toEqual([
      'docs/deploying.md "What gets created" does not name the role Storage Queue Data Contributor (974c5e8b-45b9-4653-ba55-5f855dd0fb88)',
    ]);
    expect(checkRolesDocumented(["00000000-0000-0000-0000-000000000000"], builtInRoles, section)).toEqual([
      "role 00000000-0000-0000-0000-000000000000 is assigned but has no name in the test's table of built-in roles",
    ]);
  });

  it("azure.yaml deploys service poller, and the function app carries its azd-service-name tag", () => {
    expect(read(path.join(repoRoot, "azure.yaml"))).toMatch(
      /^ {2}poller:\n(?: {4}.*\n)*? {4}host: function$/m,
    );
    expect(functionAppBicep).toContain("'azd-service-name': 'poller'");
  });
});

describe("the function app's settings", () => {
  it("sets every setting src/config/app-settings.ts marks setInAzure", () => {
    const required = appSettings.filter((s) => s.setInAzure).map((s) => s.name);
    expect(required.length).toBeGreaterThan(0);
    expect(checkAppSettings(required, appSettingKeys)).toEqual([]);
    expect(checkAppSettings([...required, "STATE_TABEL_NAME"], appSettingKeys)).toEqual([
      "infra/modules/function-app.bicep: app setting STATE_TABEL_NAME is not set (appSettings)",
    ]);
  });

  it("gives the app no setting Flex Consumption rejects", () => {
    const unsupported = [
      "FUNCTIONS_WORKER_RUNTIME",
      "FUNCTIONS_EXTENSION_VERSION",
      "WEBSITE_RUN_FROM_PACKAGE",
      "WEBSITE_CONTENTSHARE",
      "WEBSITE_TIME_ZONE",
      "AzureWebJobsStorage",
    ];
    expect(appSettingKeys.filter((key) => unsupported.includes(key))).toEqual([]);
  });

  it("uses the watermark table and dead-letter container names the app defaults to", () => {
    const defaults = Object.fromEntries(
      appSettings.map((s) => [s.name, "default" in s ? s.default : undefined]),
    );
    expect(mainBicep).toContain(`var stateTableName = '${defaults.STATE_TABLE_NAME}'`);
    expect(mainBicep).toContain(`var deadLetterContainerName = '${defaults.DEAD_LETTER_CONTAINER}'`);
  });

  it("reads the API token through a Key Vault reference resolved with the app's identity", () => {
    expect(functionAppBicep).toMatch(
      /CCP_JIRA_AUDIT_APITOKEN: '@Microsoft\.KeyVault\(SecretUri=\$\{\w+\}\)'/,
    );
    expect(functionAppBicep).toMatch(/keyVaultReferenceIdentity: identityId/);
  });
});

describe("the shared connector file", () => {
  it("has every {{placeholder}} filled by the native connector's Bicep and set as the app's CCP_* setting", () => {
    const connector = readConnector();
    const placeholders = placeholdersIn(connector.text);
    expect(placeholders).toEqual(
      expect.arrayContaining(["apiToken", "streamName", "dataCollectionEndpoint"]),
    );
    const envVarFor = (p: string) => envVarName(connector.name, p);
    expect(checkPlaceholders({ placeholders, replacedByBicep, appSettingKeys, envVarFor })).toEqual([]);
    expect(
      checkPlaceholders({
        placeholders: [...placeholders, "tenant"],
        replacedByBicep,
        appSettingKeys,
        envVarFor,
      }),
    ).toEqual([
      "infra/modules/sentinel.bicep: placeholder {{tenant}} is never replaced",
      "infra/modules/function-app.bicep: {{tenant}} needs app setting CCP_JIRA_AUDIT_TENANT",
    ]);
  });

  it("leaves routing to the deployment: stream from {{streamName}}, dataType one of the two tables", () => {
    const { properties } = readConnector();
    expect(checkConnectorRouting(properties, ingestion)).toEqual([]);
    const broken = {
      ...properties,
      dataType: "Jira_Audit_v2_CL",
      dcrConfig: { streamName: "Custom-Jira_Audit_v2_CL" },
    };
    expect(checkConnectorRouting(broken, ingestion)).toEqual([
      'connectors/jira-audit/connector.json: properties.dcrConfig.streamName is "Custom-Jira_Audit_v2_CL"; expected "{{streamName}}" or "Custom-JiraAuditRecords"',
      'connectors/jira-audit/connector.json: properties.dataType "Jira_Audit_v2_CL" is neither JiraAudit_Func_CL nor JiraAudit_CCP_CL',
    ]);
  });
});

describe("streams, tables and transform", () => {
  it("agree with each other and with the dedup column the code writes", () => {
    expect(checkIngestionNames({ ingestion, transformKql, eventIdColumn: EVENT_ID_COLUMN })).toEqual([]);
  });

  const jiraDcr = path.resolve(repoRoot, "../shared/ccp-corpus/AtlassianJiraAudit__JiraAudit_DCR.json");
  it.skipIf(!existsSync(jiraDcr))(
    "declare every Jira audit field Microsoft's own Jira DCR declares (skipped without ../shared/ccp-corpus)",
    () => {
      const dcr = JSON.parse(read(jiraDcr));
      const reference = dcr.properties.streamDeclarations["Custom-Jira_Audit_v2_CL"]
        .columns as IngestionSpec["streamColumns"];
      const refName = "Microsoft's JiraAudit_DCR.json";
      expect(reference.length).toBeGreaterThan(5);
      expect(checkStreamCovers(ingestion.streamColumns, reference, refName)).toEqual([]);
      const narrowed = ingestion.streamColumns.map((c) => (c.name === "id" ? { ...c, type: "string" } : c));
      expect(
        checkStreamCovers(
          narrowed.filter((c) => c.name !== "authorKey"),
          reference,
          refName,
        ),
      ).toEqual([
        "infra/jira-audit/ingestion.json: id is string, Microsoft's JiraAudit_DCR.json has int",
        "infra/jira-audit/ingestion.json: streamColumns lack authorKey (Microsoft's JiraAudit_DCR.json)",
      ]);
    },
  );

  it("report a column the code sends but the stream does not declare", () => {
    expect(checkIngestionNames({ ingestion, transformKql, eventIdColumn: "CcpEventID" })).toEqual([
      "infra/jira-audit/ingestion.json: streamColumns lack CcpEventID, the dedup column the app sends",
      "infra/jira-audit/ingestion.json: tableColumns lack CcpEventID",
    ]);
  });

  it("report a table column the transform never fills, and a reserved name", () => {
    const broken = { ...ingestion, tableColumns: [...ingestion.tableColumns, { name: "id", type: "long" }] };
    expect(checkIngestionNames({ ingestion: broken, transformKql, eventIdColumn: EVENT_ID_COLUMN })).toEqual([
      'infra/jira-audit/ingestion.json: table column "id" is reserved or not a valid Log Analytics column name',
      "infra/jira-audit/transform.kql: never outputs column id",
    ]);
  });

  it("report a misspelt pass-through column, a type mismatch and a bad stream name", () => {
    const broken: IngestionSpec = {
      ...ingestion,
      streamName: "JiraAuditRecords",
      streamColumns: ingestion.streamColumns.map((c) =>
        c.name === "created" ? { ...c, type: "string" } : c,
      ),
    };
    const kql = transformKql.replace("remoteAddress,", "remoteAdress,");
    expect(
      checkIngestionNames({ ingestion: broken, transformKql: kql, eventIdColumn: EVENT_ID_COLUMN }),
    ).toEqual([
      'infra/jira-audit/ingestion.json: streamName "JiraAuditRecords" must start with "Custom-"',
      "infra/jira-audit/transform.kql: never outputs column remoteAddress",
      "infra/jira-audit/transform.kql: outputs remoteAdress, which the tables do not have",
      "infra/jira-audit/transform.kql: passes through remoteAdress, which the stream lacks",
      "infra/jira-audit/ingestion.json: created is string in the stream but dateTime in the tables",
    ]);
  });

  it("the two DCRs each depend on their own table and feed Custom-<table>", () => {
    expect(checkDcrDependsOnTable(logIngestionBicep)).toEqual([]);
    expect(checkDcrDependsOnTable(logIngestionBicep.replace("dependsOn: [tables[i]]", ""))).toEqual([
      "infra/modules/log-ingestion.bicep: each DCR must dependsOn its own table (tables[i])",
    ]);
  });

  it("the CCP connector gets the CCP DCR and table, the function app the function DCR", () => {
    expect(checkDcrWiring(mainBicep)).toEqual([]);
    const swapped = mainBicep.replace(
      "dataCollectionRuleImmutableId: logIngestion.outputs.funcDcrImmutableId",
      "dataCollectionRuleImmutableId: logIngestion.outputs.ccpDcrImmutableId",
    );
    expect(checkDcrWiring(swapped)).toEqual([
      "infra/main.bicep: module functionApp must pass dataCollectionRuleImmutableId: logIngestion.outputs.funcDcrImmutableId",
    ]);
  });

  it("the native connector's UI config names the CCP table", () => {
    const text = read(infra("jira-audit/connector-ui.json"));
    const ui = JSON.parse(text) as {
      graphQueries: { baseQuery: string }[];
      dataTypes: { name: string; lastDataReceivedQuery: string }[];
    };
    // The table is spelt out: the 2025-09-01 type has no graphQueriesTableName to fill {{graphQueriesTableName}}.
    expect(text).not.toContain("{{");
    expect(ui.graphQueries.map((q) => q.baseQuery)).toEqual([ingestion.ccpTableName]);
    expect(ui.dataTypes.map((t) => t.name)).toEqual([ingestion.ccpTableName]);
    expect(ui.dataTypes[0]?.lastDataReceivedQuery).toMatch(new RegExp(`^${ingestion.ccpTableName}\\n`));
  });

  it("the parity queries use the deployed table names and the shared join key", () => {
    for (const file of [
      "parity-by-window.kql",
      "keys-only-in-one-side.kql",
      "duplicates.kql",
      "health.kql",
    ]) {
      const kql = read(infra("queries", file));
      expect(kql, file).toContain(ingestion.funcTableName);
      expect(kql, file).toContain(ingestion.ccpTableName);
    }
    expect(read(infra("queries/keys-only-in-one-side.kql"))).toContain("on SourceRecordId");
  });
});
