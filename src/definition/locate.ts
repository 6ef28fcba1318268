/**
 * Finds the poller resources in any shape Sentinel ships: a whole ARM template (also nested in
 * `contentTemplates`/`mainTemplate`), an array of resources, one resource, or a bare `properties` object.
 */
import type { JsonPathSegment, Refusal } from "./errors.ts";
import { formatJsonPath } from "./errors.ts";
import { getKey, isRecord } from "./keys.ts";

/** The ARM template a resource sits in: where `parameters('x')` defaults and `variables('y')` come from. */
export interface TemplateContext {
  parameters: Record<string, unknown>;
  variables: Record<string, unknown>;
}

export interface PollerCandidate {
  sourceKind: "RestApiPoller" | "APIPolling";
  /** Index among the pollers of the file, for derived ids. */
  index: number;
  /** Path of the resource (or of the bare properties object). */
  resourcePath: JsonPathSegment[];
  /** Path of the object holding auth/request/paging/response (`properties` or `properties.pollingConfig`). */
  propertiesPath: JsonPathSegment[];
  properties: Record<string, unknown>;
  /** The raw resource `name` (may be an ARM expression or contain placeholders). */
  name: unknown;
  condition: unknown;
  template: TemplateContext;
}

export interface LocateResult {
  candidates: PollerCandidate[];
  refused: Omit<Refusal, "file">[];
}

const dataConnectorType = /(^|\/)dataConnectors$/i;

export function locatePollers(root: unknown): LocateResult {
  const result: LocateResult = { candidates: [], refused: [] };
  const emptyTemplate: TemplateContext = { parameters: {}, variables: {} };
  visit(root, [], emptyTemplate, result);
  if (result.candidates.length === 0 && result.refused.length === 0 && isRecord(root)) {
    addBareProperties(root, result);
  }
  return result;
}

function visit(node: unknown, path: JsonPathSegment[], template: TemplateContext, out: LocateResult): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => {
      visit(item, [...path, i], template, out);
    });
    return;
  }
  if (!isRecord(node)) return;
  const type = node.type;
  if (typeof type === "string" && dataConnectorType.test(type)) {
    addResource(node, path, template, out);
    return;
  }
  const scope = Array.isArray(node.resources) ? templateContext(node) : template;
  for (const [key, value] of Object.entries(node)) visit(value, [...path, key], scope, out);
}

function templateContext(template: Record<string, unknown>): TemplateContext {
  const parameters = getKey(template, "parameters");
  const variables = getKey(template, "variables");
  return {
    parameters: isRecord(parameters) ? parameters : {},
    variables: isRecord(variables) ? variables : {},
  };
}

function addResource(
  resource: Record<string, unknown>,
  path: JsonPathSegment[],
  template: TemplateContext,
  out: LocateResult,
): void {
  const kind = getKey(resource, "kind");
  const propertiesKey = Object.keys(resource).find((k) => k.toLowerCase() === "properties") ?? "properties";
  const properties = resource[propertiesKey];
  const kindText = typeof kind === "string" ? kind : "";
  if (/^RestApiPoller$/i.test(kindText) && isRecord(properties)) {
    out.candidates.push({
      sourceKind: "RestApiPoller",
      index: out.candidates.length,
      resourcePath: path,
      propertiesPath: [...path, propertiesKey],
      properties,
      name: getKey(resource, "name"),
      condition: getKey(resource, "condition"),
      template,
    });
    return;
  }
  if (/^APIPolling$/i.test(kindText) && isRecord(properties)) {
    const pollingKey = Object.keys(properties).find((k) => k.toLowerCase() === "pollingconfig");
    const polling = pollingKey === undefined ? undefined : properties[pollingKey];
    if (pollingKey !== undefined && isRecord(polling)) {
      out.candidates.push({
        sourceKind: "APIPolling",
        index: out.candidates.length,
        resourcePath: path,
        propertiesPath: [...path, propertiesKey, pollingKey],
        properties: polling,
        name: getKey(resource, "name"),
        condition: getKey(resource, "condition"),
        template,
      });
      return;
    }
  }
  out.refused.push({
    jsonPath: formatJsonPath(path),
    code: "unsupported-kind",
    reason: `kind ${JSON.stringify(kind ?? null)} is not RestApiPoller or APIPolling (with pollingConfig); only REST pollers run here`,
  });
}

/** `{ auth, request, ... }` or `{ properties: {...} }` or `{ pollingConfig: {...} }` with no resource envelope. */
function addBareProperties(root: Record<string, unknown>, out: LocateResult): void {
  const nested = getKey(root, "properties");
  const holder = isRecord(nested) ? nested : root;
  const holderPath: JsonPathSegment[] =
    holder === root ? [] : [Object.keys(root).find((k) => root[k] === nested) ?? "properties"];
  const pollingKey = Object.keys(holder).find((k) => k.toLowerCase() === "pollingconfig");
  const polling = pollingKey === undefined ? undefined : holder[pollingKey];
  const common = {
    index: 0,
    resourcePath: [],
    name: getKey(root, "name"),
    condition: undefined,
    template: { parameters: {}, variables: {} },
  };
  if (pollingKey !== undefined && isRecord(polling)) {
    out.candidates.push({
      ...common,
      sourceKind: "APIPolling",
      propertiesPath: [...holderPath, pollingKey],
      properties: polling,
    });
  } else if (getKey(holder, "auth") !== undefined || getKey(holder, "request") !== undefined) {
    out.candidates.push({
      ...common,
      sourceKind: "RestApiPoller",
      propertiesPath: holderPath,
      properties: holder,
    });
  }
}
