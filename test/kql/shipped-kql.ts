/**
 * Every KQL text ccp-poller ships or generates, and the tables each runs against, read from the project's own
 * declarations: the stream and table files infra/modules/log-ingestion.bicep loads, the connector UI file
 * infra/modules/sentinel.bicep loads, infra/queries/, the docs, and compare's query builder.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { windowQuery } from "../../src/compare/kql.ts";
import { DEFAULT_COLUMNS } from "../../src/compare/types.ts";
import { appSettings } from "../../src/config/app-settings.ts";
import { type Column, referencedFiles } from "../infra/infra-checks.ts";
import type { KqlTable } from "./kusto.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const read = (file: string) => readFileSync(path.join(repoRoot, file), "utf8");

export type Category = "transform" | "parity query" | "health query" | "connector UI" | "docs" | "compare";

/** Where a query runs: a DCR transform over its input stream, the workspace, or the Application Insights resource. */
export type Scope =
  | { kind: "transform"; stream: readonly Column[] }
  | { kind: "workspace" }
  | { kind: "application insights" };

export interface KqlText {
  category: Category;
  /** The file (and the place in it), or the generator and its options. */
  where: string;
  kql: string;
  scope: Scope;
}

/** A stream and table declaration file (infra/<name>/ingestion.json) and the transform next to it. */
interface Ingestion {
  file: string;
  spec: { streamColumns: Column[]; tableColumns: Column[] } & Record<string, unknown>;
}

/** The files a module loads, relative to the repository root. */
function loadedBy(bicepFile: string, suffix: string): string[] {
  return referencedFiles(read(bicepFile))
    .filter((file) => file.endsWith(suffix))
    .map((file) => path.posix.join(path.posix.dirname(bicepFile), file));
}

const logIngestionBicep = "infra/modules/log-ingestion.bicep";

function ingestions(): Ingestion[] {
  return loadedBy(logIngestionBicep, ".json").map((file) => ({ file, spec: JSON.parse(read(file)) }));
}

/**
 * Columns Log Analytics adds to every table, which ingestion.json cannot declare (they are reserved): the
 * "Standard columns in Azure Monitor Logs" page (learn.microsoft.com/azure/azure-monitor/logs/log-standard-columns).
 */
const standardColumns: Column[] = columns(
  "TenantId:string _TimeReceived:datetime Type:string _ItemId:string _ResourceId:string _SubscriptionId:string _IsBillable:string _BilledSize:real",
);

/**
 * Built-in tables the queries read, which no file of ours declares, written by hand from their pages in the
 * Azure Monitor Logs table reference (learn.microsoft.com/azure/azure-monitor/reference/tables/<name>).
 */
const builtInTables: KqlTable[] = [
  {
    name: "SentinelHealth",
    columns: columns(
      "TimeGenerated:datetime Description:string ExtendedProperties:dynamic OperationName:string Reason:string RecordId:string SentinelResourceId:string SentinelResourceKind:string SentinelResourceName:string SentinelResourceType:string SourceSystem:string Status:string WorkspaceId:string",
    ),
  },
  {
    name: "AppTraces",
    columns: columns(
      "TimeGenerated:datetime AppRoleInstance:string AppRoleName:string AppVersion:string ClientIP:string IKey:string ItemCount:int Measurements:dynamic Message:string OperationId:string OperationName:string ParentId:string Properties:dynamic ResourceGUID:string SDKVersion:string SessionId:string SeverityLevel:int SourceSystem:string",
    ),
  },
];

/**
 * The Application Insights resource's own `traces` table (docs/operating.md queries it from the resource, not the
 * workspace), from the Application Insights telemetry data model (learn.microsoft.com/azure/azure-monitor/app/data-model-complete).
 */
const applicationInsightsTables: KqlTable[] = [
  {
    name: "traces",
    columns: columns(
      "timestamp:datetime message:string severityLevel:int itemType:string customDimensions:dynamic customMeasurements:dynamic operation_Name:string operation_Id:string operation_ParentId:string cloud_RoleName:string cloud_RoleInstance:string appName:string iKey:string sdkVersion:string itemId:string itemCount:int",
    ),
  },
];

function columns(spec: string): Column[] {
  return spec.split(" ").map((c) => {
    const [name = "", type = ""] = c.split(":");
    return { name, type };
  });
}

/** Every table an ingestion file names (`tableName`, `funcTableName`, ...), with its columns and the standard ones. */
export function workspaceTables(): KqlTable[] {
  const custom = ingestions().flatMap(({ spec }) =>
    Object.entries(spec)
      .filter(([key, value]) => /tableName$/i.test(key) && typeof value === "string")
      .map(([, name]) => {
        const declared = new Set(spec.tableColumns.map((c) => c.name));
        return {
          name: String(name),
          columns: [...spec.tableColumns, ...standardColumns.filter((c) => !declared.has(c.name))],
        };
      }),
  );
  return [...custom, ...builtInTables];
}

export function tablesFor(scope: Scope): KqlTable[] {
  if (scope.kind === "transform") return [{ name: "source", columns: scope.stream }];
  return scope.kind === "workspace" ? workspaceTables() : applicationInsightsTables;
}

/** The transforms log-ingestion.bicep loads, each over the stream declared next to it. */
function transforms(): KqlText[] {
  const byDir = new Map(ingestions().map((i) => [path.posix.dirname(i.file), i.spec.streamColumns]));
  return loadedBy(logIngestionBicep, ".kql").map((file) => {
    const stream = byDir.get(path.posix.dirname(file));
    if (stream === undefined) throw new Error(`${file}: no ingestion.json next to it declares its stream`);
    return { category: "transform", where: file, kql: read(file), scope: { kind: "transform", stream } };
  });
}

function queryFiles(): KqlText[] {
  return readdirSync(path.join(repoRoot, "infra/queries"))
    .filter((name) => name.endsWith(".kql"))
    .sort()
    .map((name) => ({
      category: name.startsWith("health") ? "health query" : "parity query",
      where: `infra/queries/${name}`,
      kql: read(`infra/queries/${name}`),
      scope: { kind: "workspace" },
    }));
}

/** ```kusto / ```kql blocks of a Markdown text. */
export function markdownKql(markdown: string): string[] {
  return [...markdown.matchAll(/^```(?:kusto|kql)\n([\s\S]*?)^```/gm)].map((m) => m[1] ?? "");
}

interface ConnectorUi {
  graphQueries?: { baseQuery: string }[];
  sampleQueries?: { query: string }[];
  dataTypes?: { lastDataReceivedQuery: string }[];
  instructionSteps?: { description?: string }[];
}

/** The native connector's graph, sample and last-data-received queries, and the KQL in its instructions. */
function connectorUiQueries(): KqlText[] {
  return loadedBy("infra/modules/sentinel.bicep", "connector-ui.json").flatMap((file) => {
    const ui = JSON.parse(read(file)) as ConnectorUi;
    const texts: [string, string][] = [
      ...(ui.graphQueries ?? []).map((q, i): [string, string] => [
        `graphQueries[${i}].baseQuery`,
        q.baseQuery,
      ]),
      ...(ui.sampleQueries ?? []).map((q, i): [string, string] => [`sampleQueries[${i}].query`, q.query]),
      ...(ui.dataTypes ?? []).map((t, i): [string, string] => [
        `dataTypes[${i}].lastDataReceivedQuery`,
        t.lastDataReceivedQuery,
      ]),
      ...(ui.instructionSteps ?? []).flatMap((step, i) =>
        markdownKql(step.description ?? "").map((kql, j): [string, string] => [
          `instructionSteps[${i}].description block ${j + 1}`,
          kql,
        ]),
      ),
    ];
    return texts.map(([at, kql]) => ({
      category: "connector UI" as const,
      where: `${file} ${at}`,
      kql,
      scope: { kind: "workspace" as const },
    }));
  });
}

/** docs/operating.md's block reads the function app's logs where Application Insights keeps them. */
const applicationInsightsDocs = new Set(["docs/operating.md"]);

function docsQueries(): KqlText[] {
  const files = [
    "README.md",
    ...readdirSync(path.join(repoRoot, "docs"))
      .filter((name) => name.endsWith(".md"))
      .sort()
      .map((name) => `docs/${name}`),
  ];
  return files.flatMap((file) =>
    markdownKql(read(file)).map((kql, i) => ({
      category: "docs" as const,
      where: `${file} block ${i + 1}`,
      kql,
      scope: applicationInsightsDocs.has(file)
        ? { kind: "application insights" as const }
        : { kind: "workspace" as const },
    })),
  );
}

function settingDefault(name: string): string {
  const setting = appSettings.find((s) => s.name === name);
  if (setting === undefined || !("default" in setting)) throw new Error(`no default for app setting ${name}`);
  return String(setting.default);
}

/**
 * compare's query for the option combinations test/compare uses: the defaults, `--ignore summary,description`,
 * `--no-default-ignore`, and the default ignore list plus a column.
 */
function compareQueries(): KqlText[] {
  const tables = { func: settingDefault("COMPARE_FUNC_TABLE"), ccp: settingDefault("COMPARE_CCP_TABLE") };
  const window = { start: new Date("2026-01-01T10:00:00Z"), end: new Date("2026-01-01T10:05:00Z") };
  const combinations: [options: string, ignore: readonly string[]][] = [
    ["defaults", DEFAULT_COLUMNS.ignore],
    ["--ignore summary,description", [...DEFAULT_COLUMNS.ignore, "summary", "description"]],
    ["--no-default-ignore", []],
    ["ignore: defaults + summary", [...DEFAULT_COLUMNS.ignore, "summary"]],
  ];
  return combinations.map(([options, ignore]) => ({
    category: "compare",
    where: `src/compare/kql.ts windowQuery (${options})`,
    kql: windowQuery(window, tables, { ...DEFAULT_COLUMNS, ignore }),
    scope: { kind: "workspace" },
  }));
}

export function shippedKql(): KqlText[] {
  return [...transforms(), ...queryFiles(), ...connectorUiQueries(), ...docsQueries(), ...compareQueries()];
}
