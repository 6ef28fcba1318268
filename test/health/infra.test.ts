/**
 * The health path's names agree everywhere: the record the reporter builds, the DCR stream and table in
 * infra/health/, the Bicep wiring to the function app's settings, and the queries in infra/queries/health-*.kql.
 * Each checker is also fed a broken input to prove it can fail.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appSettings } from "../../src/config/app-settings.ts";
import { loadConnectors } from "../../src/definition/load.ts";
import { healthOperations, healthRecord } from "../../src/health/record.ts";
import { EVENT_ID_COLUMN } from "../../src/sink/rows.ts";
import { emptyRow } from "../../src/state/row.ts";
import { armValidator } from "../infra/arm-schema.ts";
import {
  type Column,
  checkIngestionNames,
  type IngestionSpec,
  topLevelBlock,
} from "../infra/infra-checks.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const read = (...parts: string[]) => readFileSync(path.join(repoRoot, ...parts), "utf8");

interface HealthIngestion {
  streamName: string;
  tableName: string;
  streamColumns: Column[];
  tableColumns: Column[];
}
const health = JSON.parse(read("infra/health/ingestion.json")) as HealthIngestion;
const jira = JSON.parse(read("infra/jira-audit/ingestion.json")) as IngestionSpec;
const files = { ingestion: "infra/health/ingestion.json", transform: "infra/health/transform.kql" };

/** Every field the code sends is declared with a type its value fits, and every declared column is sent. */
function checkRecordFitsStream(record: Record<string, unknown>, streamColumns: readonly Column[]): string[] {
  const declared = new Map(streamColumns.map((c) => [c.name, c.type]));
  const fits = (value: unknown, type: string): boolean => {
    if (value === null) return true;
    if (typeof value === "number") return ["int", "long", "real"].includes(type);
    if (typeof value === "string") {
      return type === "string" || (type === "datetime" && !Number.isNaN(Date.parse(value)));
    }
    return typeof value === "object" && type === "dynamic";
  };
  return [
    ...Object.entries(record).flatMap(([name, value]) => {
      const type = declared.get(name);
      if (type === undefined) return [`${files.ingestion}: streamColumns lack ${name}, which the app sends`];
      return fits(value, type)
        ? []
        : [`${files.ingestion}: ${name} is ${type}, the app sends ${typeof value}`];
    }),
    ...[...declared.keys()]
      .filter((name) => !(name in record))
      .map((name) => `${files.ingestion}: stream column ${name} is never sent`),
  ];
}

/** The health DCR feeds its own table once the table exists, the app may write to it, and gets its settings. */
function checkHealthWiring(bicep: { logIngestion: string; main: string; functionApp: string }): string[] {
  const dcr = topLevelBlock(bicep.logIngestion, "resource", "healthDcr");
  const expectations: [ok: boolean, problem: string][] = [
    [/dependsOn:\s*\[healthTable\]/.test(dcr), "log-ingestion.bicep: healthDcr must dependsOn healthTable"],
    [
      /outputStream:\s*'Custom-\$\{health\.tableName\}'/.test(dcr),
      "log-ingestion.bicep: healthDcr's outputStream must be Custom-<health table>",
    ],
    [
      /scope:\s*healthDcr\b/.test(bicep.logIngestion),
      "log-ingestion.bicep: the app needs a role assignment scoped to healthDcr",
    ],
    ...[
      "healthDcrImmutableId: logIngestion.outputs.healthDcrImmutableId",
      "healthStreamName: logIngestion.outputs.healthStreamName",
    ].map((wiring): [boolean, string] => [
      topLevelBlock(bicep.main, "module", "functionApp").includes(wiring),
      `main.bicep: module functionApp must pass ${wiring}`,
    ]),
    ...[
      "HEALTH_DATA_COLLECTION_ENDPOINT: dataCollectionEndpoint",
      "HEALTH_DCR_IMMUTABLE_ID: healthDcrImmutableId",
      "HEALTH_STREAM_NAME: healthStreamName",
    ].map((setting): [boolean, string] => [
      topLevelBlock(bicep.functionApp, "var", "appSettings").includes(setting),
      `function-app.bicep: appSettings must set ${setting}`,
    ]),
  ];
  return expectations.filter(([ok]) => !ok).map(([, problem]) => `infra/modules/${problem}`);
}

async function sampleRecord(): Promise<Record<string, unknown>> {
  const loaded = await loadConnectors([path.join(repoRoot, "connectors/jira-audit/connector.json")], {
    env: {
      CCP_JIRA_AUDIT_DOMAIN: "jira.example.test",
      CCP_JIRA_AUDIT_USERNAME: "test-user@example.com",
      CCP_JIRA_AUDIT_APITOKEN: "test-api-key-0000",
      CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: "https://127.0.0.1:1",
      CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: "dcr-00000000000000000000000000000001",
      CCP_JIRA_AUDIT_STREAMNAME: jira.streamName,
    },
  });
  const [connector] = loaded.connectors;
  if (connector === undefined) throw new Error(loaded.errors.map((e) => e.message).join("; "));
  const window = { start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-01-01T00:05:00Z") };
  const counts = { fetched: 3, extracted: 3, sent: 3, accepted: 3, pages: 1, durationMs: 40 };
  const record = healthRecord(
    {
      connector,
      report: { connectorId: connector.id, window, outcome: "committed", counts, deadLettered: 0 },
      attempt: 1,
      row: { ...emptyRow(connector.id), committedThrough: window.end, lagMinutes: 6 },
      recordHealth: () => Promise.reject(new Error("not used")),
    },
    { status: "Success", reason: "" },
    healthOperations.statusChange,
    new Date("2026-01-01T00:11:00Z"),
  );
  // The sink adds the dedup key to every row it sends.
  return { ...record, [EVENT_ID_COLUMN]: "0123456789abcdef0123456789abcdef" };
}

describe("health stream, table and transform", () => {
  it("declare exactly the columns the reporter sends, with types their values fit", async () => {
    const record = await sampleRecord();
    expect(checkRecordFitsStream(record, health.streamColumns)).toEqual([]);
    const broken = health.streamColumns
      .filter((c) => c.name !== "Reason")
      .map((c) => (c.name === "Fetched" ? { ...c, type: "string" } : c));
    expect(checkRecordFitsStream({ ...record, Extra: true }, broken)).toEqual([
      `${files.ingestion}: streamColumns lack Reason, which the app sends`,
      `${files.ingestion}: Fetched is string, the app sends number`,
      `${files.ingestion}: streamColumns lack Extra, which the app sends`,
    ]);
  });

  it("agree with each other: every table column is output, types match, names are allowed", () => {
    const spec: IngestionSpec = {
      ...health,
      funcTableName: health.tableName,
      ccpTableName: health.tableName,
    };
    const transformKql = read(files.transform);
    expect(
      checkIngestionNames({ ingestion: spec, transformKql, eventIdColumn: EVENT_ID_COLUMN, files }),
    ).toEqual([]);
    const broken = transformKql.replace("    LagMinutes,\n", "");
    expect(
      checkIngestionNames({ ingestion: spec, transformKql: broken, eventIdColumn: EVENT_ID_COLUMN, files }),
    ).toEqual([`${files.transform}: never outputs column LagMinutes`]);
  });

  it("the app's default stream is the one the DCR declares", () => {
    const setting = appSettings.find((s) => s.name === "HEALTH_STREAM_NAME");
    expect(setting && "default" in setting ? setting.default : undefined).toBe(health.streamName);
  });

  const armSchemasDir = path.join(path.resolve(repoRoot, "../shared"), "arm-schemas");
  it.skipIf(!existsSync(armSchemasDir))(
    "use types the DCR and table APIs accept (skipped without ../shared/arm-schemas)",
    () => {
      const validate = armValidator(armSchemasDir);
      expect(validate("insights", "StreamDeclaration", { columns: health.streamColumns })).toEqual([]);
      const table = { plan: "Analytics", schema: { name: health.tableName, columns: health.tableColumns } };
      expect(validate("operationalInsights", "TableProperties", table)).toEqual([]);
    },
  );
});

describe("health wiring in Bicep", () => {
  const bicep = {
    logIngestion: read("infra/modules/log-ingestion.bicep"),
    main: read("infra/main.bicep"),
    functionApp: read("infra/modules/function-app.bicep"),
  };

  it("the health DCR writes its own table, the app may ingest into it and gets its settings", () => {
    expect(checkHealthWiring(bicep)).toEqual([]);
    const broken = {
      ...bicep,
      logIngestion: bicep.logIngestion.replace("dependsOn: [healthTable]", ""),
      functionApp: bicep.functionApp.replace("HEALTH_STREAM_NAME: healthStreamName", ""),
    };
    expect(checkHealthWiring(broken)).toEqual([
      "infra/modules/log-ingestion.bicep: healthDcr must dependsOn healthTable",
      "infra/modules/function-app.bicep: appSettings must set HEALTH_STREAM_NAME: healthStreamName",
    ]);
  });
});

describe("health queries", () => {
  const query = (name: string) => read("infra/queries", `health-${name}.kql`);

  it("read the health table, and the tables and operations they compare against", () => {
    for (const name of ["failing", "lag", "silent-drop", "vs-sentinelhealth"]) {
      expect(query(name), name).toContain(health.tableName);
    }
    expect(query("failing")).toContain(`"${healthOperations.statusChange}"`);
    expect(query("silent-drop")).toContain(jira.funcTableName);
    expect(query("silent-drop")).toContain('["jira-audit", "JiraAudit_Func_CL"]');
    expect(query("vs-sentinelhealth")).toContain("SentinelHealth");
    expect(query("vs-sentinelhealth")).toContain(`native = "ccp-poller-jira-audit"`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Bicep's own interpolation, matched literally
    const nativeName = "name: 'ccp-poller-jira-audit-${resourceToken}'";
    expect(read("infra/modules/sentinel.bicep")).toContain(nativeName);
  });
});
