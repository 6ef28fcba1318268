/**
 * Cross-checks of infra/ that need no Bicep compiler: small regex readers of the Bicep text and checker
 * functions that return a list of problems (empty = fine), so each check can be fed a broken input in a test.
 */
import { existsSync } from "node:fs";
import path from "node:path";

/** `param name type` declarations, with whether they have a default (`= ...`). */
export function bicepParams(bicep: string): { name: string; hasDefault: boolean }[] {
  return [...bicep.matchAll(/^param\s+(\w+)\s+[^=\n]*(=)?/gm)].map((m) => ({
    name: m[1] ?? "",
    hasDefault: m[2] !== undefined,
  }));
}

/**
 * The text of a top-level block (`var name = {`, `module name '...' = {`, `resource name '...' = [`): from its
 * declaration to the first line that closes it at column 0.
 */
export function topLevelBlock(bicep: string, keyword: "var" | "module" | "resource", name: string): string {
  const start = bicep.search(new RegExp(`^${keyword}\\s+${name}\\b`, "m"));
  if (start < 0) return "";
  const end = bicep.slice(start).search(/^[}\]]/m);
  return end < 0 ? bicep.slice(start) : bicep.slice(start, start + end + 1);
}

/** Keys of a flat Bicep object literal assigned to `var name = { ... }`. */
export function bicepObjectVarKeys(bicep: string, name: string): string[] {
  const block = topLevelBlock(bicep, "var", name);
  return [...block.matchAll(/^\s+'?([\w-]+)'?\s*:/gm)].map((m) => m[1] ?? "");
}

/** `{{name}}` placeholders in a text, each once. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(/\{\{(\w+)\}\}/g)].map((m) => m[1] ?? ""))];
}

/** Files a Bicep file loads or calls (modules, loadTextContent, loadJsonContent), relative to it. */
export function referencedFiles(bicep: string): string[] {
  const modules = [...bicep.matchAll(/^module\s+\w+\s+'([^']+)'/gm)].map((m) => m[1] ?? "");
  const loads = [...bicep.matchAll(/load(?:Text|Json)Content\('([^']+)'/g)].map((m) => m[1] ?? "");
  return [...modules, ...loads];
}

/** `'Type@version'` resource and module references in a Bicep file. */
export function resourceApiVersions(bicep: string): { type: string; version: string }[] {
  return [...bicep.matchAll(/'([A-Za-z]+\.[A-Za-z]+\/[\w/]+)@([\w-]+)'/g)].map((m) => ({
    type: m[1] ?? "",
    version: m[2] ?? "",
  }));
}

export function checkReferencedFilesExist(bicepFile: string, bicep: string): string[] {
  return referencedFiles(bicep)
    .filter((ref) => !existsSync(path.resolve(path.dirname(bicepFile), ref)))
    .map((ref) => `${bicepFile}: references ${ref}, which does not exist`);
}

/** Registry modules cannot be restored offline; the Sentinel types below 2024-09-01 have no Bicep types. */
export function checkBicepPortability(bicepFile: string, bicep: string): string[] {
  const problems: string[] = [];
  if (/'br[:/]/.test(bicep))
    problems.push(`${bicepFile}: uses a registry module (br:), which cannot be restored`);
  const typed = new Set(["2024-09-01", "2025-03-01", "2025-06-01", "2025-09-01"]);
  for (const { type, version } of resourceApiVersions(bicep)) {
    if (type.startsWith("Microsoft.SecurityInsights/") && !typed.has(version)) {
      problems.push(
        `${bicepFile}: ${type}@${version} has no Bicep types; expected one of ${[...typed].join(", ")}`,
      );
    }
  }
  return problems;
}

/** main.parameters.json ↔ main.bicep: every mapped parameter exists, every required one is mapped. */
export function checkParametersFile(parametersFile: unknown, bicep: string): string[] {
  const mapped = Object.keys(
    (parametersFile as { parameters?: Record<string, unknown> } | undefined)?.parameters ?? {},
  );
  const declared = bicepParams(bicep);
  const declaredNames = new Set(declared.map((p) => p.name));
  return [
    ...mapped
      .filter((name) => !declaredNames.has(name))
      .map((name) => `main.parameters.json: parameters.${name} is not a param of main.bicep`),
    ...declared
      .filter((p) => !p.hasDefault && !mapped.includes(p.name))
      .map((p) => `main.bicep: required param ${p.name} is not mapped in main.parameters.json`),
  ];
}

export function checkAppSettings(required: readonly string[], setByTemplate: readonly string[]): string[] {
  const set = new Set(setByTemplate);
  return required
    .filter((name) => !set.has(name))
    .map((name) => `infra/modules/function-app.bicep: app setting ${name} is not set (appSettings)`);
}

/**
 * Every `{{placeholder}}` of the shared connector file must be filled by the native connector's Bicep (else
 * it deploys a literal `{{x}}`) and given to the function app as its `CCP_<ID>_<NAME>` setting.
 */
export function checkPlaceholders(args: {
  placeholders: readonly string[];
  replacedByBicep: readonly string[];
  appSettingKeys: readonly string[];
  envVarFor: (placeholder: string) => string;
}): string[] {
  const replaced = new Set(args.replacedByBicep);
  const settings = new Set(args.appSettingKeys);
  return args.placeholders.flatMap((p) => [
    ...(replaced.has(p) ? [] : [`infra/modules/sentinel.bicep: placeholder {{${p}}} is never replaced`]),
    ...(settings.has(args.envVarFor(p))
      ? []
      : [`infra/modules/function-app.bicep: {{${p}}} needs app setting ${args.envVarFor(p)}`]),
  ]);
}

export interface Column {
  name: string;
  type: string;
}

export interface IngestionSpec {
  streamName: string;
  funcTableName: string;
  ccpTableName: string;
  streamColumns: Column[];
  tableColumns: Column[];
}

/** The columns a `source | project a = expr, b, ...` transform outputs; `passThrough` = bare column names. */
export function projectedColumns(kql: string): { name: string; passThrough: boolean }[] {
  const body = kql.split(/\|\s*project\b/)[1] ?? "";
  const items: string[] = [];
  let depth = 0;
  let current = "";
  for (const char of body) {
    if (char === "(") depth++;
    if (char === ")") depth--;
    if (char === "," && depth === 0) {
      items.push(current);
      current = "";
    } else current += char;
  }
  items.push(current);
  return items
    .map((item) => item.trim())
    .filter((item) => item !== "")
    .map((item) => {
      const assigned = /^(\w+)\s*=/.exec(item);
      return assigned ? { name: assigned[1] ?? "", passThrough: false } : { name: item, passThrough: true };
    });
}

/** Log Analytics refuses these as custom column names (Logs Ingestion API overview). */
const reservedColumns = new Set([
  "id",
  "_ResourceId",
  "_SubscriptionId",
  "TenantId",
  "Type",
  "UniqueId",
  "Title",
]);

/** DCR stream types → table column types for a column passed through unchanged. */
const tableTypeOf: Record<string, string> = { datetime: "dateTime" };

export function checkIngestionNames(args: {
  ingestion: IngestionSpec;
  transformKql: string;
  eventIdColumn: string;
  /** The files named in problems (default: the Jira audit pair). */
  files?: { ingestion: string; transform: string };
}): string[] {
  const { ingestion, transformKql, eventIdColumn } = args;
  const problems: string[] = [];
  const streamColumns = new Map(ingestion.streamColumns.map((c) => [c.name, c.type]));
  const tableColumns = new Map(ingestion.tableColumns.map((c) => [c.name, c.type]));
  const where = args.files?.ingestion ?? "infra/jira-audit/ingestion.json";
  const transformFile = args.files?.transform ?? "infra/jira-audit/transform.kql";

  if (!ingestion.streamName.startsWith("Custom-")) {
    problems.push(`${where}: streamName "${ingestion.streamName}" must start with "Custom-"`);
  }
  for (const table of [ingestion.funcTableName, ingestion.ccpTableName]) {
    if (!/^[A-Za-z]\w*_CL$/.test(table))
      problems.push(`${where}: table "${table}" must be a custom table (_CL)`);
  }
  if (!streamColumns.has(eventIdColumn)) {
    problems.push(`${where}: streamColumns lack ${eventIdColumn}, the dedup column the app sends`);
  }
  if (!tableColumns.has(eventIdColumn)) problems.push(`${where}: tableColumns lack ${eventIdColumn}`);
  if (tableColumns.get("TimeGenerated") !== "dateTime") {
    problems.push(`${where}: tableColumns need TimeGenerated of type dateTime`);
  }
  for (const name of tableColumns.keys()) {
    if (reservedColumns.has(name) || !/^[A-Za-z]\w{0,44}$/.test(name)) {
      problems.push(`${where}: table column "${name}" is reserved or not a valid Log Analytics column name`);
    }
  }

  const projected = projectedColumns(transformKql);
  const projectedNames = new Set(projected.map((c) => c.name));
  for (const name of tableColumns.keys()) {
    if (!projectedNames.has(name)) problems.push(`${transformFile}: never outputs column ${name}`);
  }
  for (const column of projected) {
    if (!tableColumns.has(column.name)) {
      problems.push(`${transformFile}: outputs ${column.name}, which the tables do not have`);
    }
    if (!column.passThrough) continue;
    const streamType = streamColumns.get(column.name);
    if (streamType === undefined) {
      problems.push(`${transformFile}: passes through ${column.name}, which the stream lacks`);
    } else if ((tableTypeOf[streamType] ?? streamType) !== tableColumns.get(column.name)) {
      problems.push(
        `${where}: ${column.name} is ${streamType} in the stream but ${tableColumns.get(column.name)} in the tables`,
      );
    }
  }
  return problems;
}

/**
 * The shared connector file must leave routing to the deployment: its streamName is the `{{streamName}}`
 * placeholder (or the stream itself), and a literal dataType names one of the two tables.
 */
export function checkConnectorRouting(
  connectorProperties: Record<string, unknown>,
  ingestion: IngestionSpec,
) {
  const problems: string[] = [];
  const where = "connectors/jira-audit/connector.json";
  const dcrConfig = connectorProperties.dcrConfig as Record<string, unknown> | undefined;
  const streamName = dcrConfig?.streamName;
  if (streamName !== "{{streamName}}" && streamName !== ingestion.streamName) {
    problems.push(
      `${where}: properties.dcrConfig.streamName is ${JSON.stringify(streamName)}; expected "{{streamName}}" or "${ingestion.streamName}"`,
    );
  }
  const dataType = connectorProperties.dataType;
  const tables = [ingestion.funcTableName, ingestion.ccpTableName];
  if (typeof dataType === "string" && !dataType.includes("{{") && !tables.includes(dataType)) {
    problems.push(`${where}: properties.dataType "${dataType}" is neither ${tables.join(" nor ")}`);
  }
  return problems;
}

/** The CCP connector must get the CCP DCR and table, the function app the function DCR. */
export function checkDcrWiring(mainBicep: string): string[] {
  const expectations: [module: string, wiring: string][] = [
    ["sentinel", "dataCollectionRuleImmutableId: logIngestion.outputs.ccpDcrImmutableId"],
    ["sentinel", "tableName: logIngestion.outputs.ccpTableName"],
    ["functionApp", "dataCollectionRuleImmutableId: logIngestion.outputs.funcDcrImmutableId"],
  ];
  return expectations
    .filter(([module, wiring]) => !topLevelBlock(mainBicep, "module", module).includes(wiring))
    .map(([module, wiring]) => `infra/main.bicep: module ${module} must pass ${wiring}`);
}

/** Each DCR depends on its own table (InvalidOutputTable otherwise) and writes to `Custom-<its table>`. */
export function checkDcrDependsOnTable(logIngestionBicep: string): string[] {
  const dcrs = topLevelBlock(logIngestionBicep, "resource", "dcrs");
  const problems: string[] = [];
  if (!/for \(path, i\) in paths/.test(dcrs) || !/dependsOn:\s*\[tables\[i\]\]/.test(dcrs)) {
    problems.push("infra/modules/log-ingestion.bicep: each DCR must dependsOn its own table (tables[i])");
  }
  if (!/outputStream:\s*'Custom-\$\{path\.tableName\}'/.test(dcrs)) {
    problems.push("infra/modules/log-ingestion.bicep: a DCR's outputStream must be Custom-<its table>");
  }
  return problems;
}

/** Stream types that hold every value of another (the source's int fits our long). */
const widerStreamTypes: Record<string, readonly string[]> = {
  long: ["int", "long"],
  real: ["int", "long", "real"],
};

/** Every field a reference stream declares (e.g. Microsoft's own Jira DCR) is declared here with a type that fits. */
export function checkStreamCovers(
  streamColumns: readonly Column[],
  reference: readonly Column[],
  refName: string,
) {
  const ours = new Map(streamColumns.map((c) => [c.name, c.type]));
  return reference.flatMap((column) => {
    const type = ours.get(column.name);
    if (type === undefined)
      return [`infra/jira-audit/ingestion.json: streamColumns lack ${column.name} (${refName})`];
    const fits = type === column.type || (widerStreamTypes[type] ?? []).includes(column.type);
    return fits
      ? []
      : [`infra/jira-audit/ingestion.json: ${column.name} is ${type}, ${refName} has ${column.type}`];
  });
}

/** Role definition ids in a Bicep file: its GUID literals (infra/ has no GUIDs but built-in role ids). */
export function bicepRoleIds(bicep: string): string[] {
  const ids = [...bicep.matchAll(/'([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})'/gi)];
  return [...new Set(ids.map((m) => (m[1] ?? "").toLowerCase()))];
}
