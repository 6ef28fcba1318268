/**
 * The loader pipeline (design.md "Loading real files"): parse → locate pollers → refuse unsupported
 * features → canonicalize keys → complete legacy definitions → bind placeholders and ARM expressions →
 * coerce → validate → lint → Connector. Every step reports against the original file and JSON path, and
 * every error is collected: a file reports all of its problems at once.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import type { z } from "zod";
import { armExpressionBody } from "./arm.ts";
import { bindValues } from "./bind.ts";
import { canonicalizeKeys, pathKey } from "./canonicalize.ts";
import { coerceToSchema } from "./coerce.ts";
import type { DefinitionWarning, JsonPathSegment, Refusal } from "./errors.ts";
import { DefinitionError, describeValue, formatJsonPath } from "./errors.ts";
import { isRecord } from "./keys.ts";
import { completeLegacyDefinition } from "./legacy.ts";
import { lintProperties } from "./lint.ts";
import { locatePollers, type PollerCandidate } from "./locate.ts";
import { parseDefinitionJson } from "./parse.ts";
import { findRefusal } from "./refuse.ts";
import {
  type Connector,
  type ConnectorProperties,
  connectorProperties,
  type SupportedAuthConfig,
  secretAuthFields,
} from "./schema.ts";
import {
  ConnectorSettings,
  type Env,
  readSettingsFile,
  type SettingsFile,
  settingsEntryFor,
} from "./settings.ts";

export interface LoadOptions {
  env: Env;
  /** Parsed settings file (`loadConnectors` reads it from `settingsFile`). */
  settings?: SettingsFile;
  settingsFile?: string;
  /**
   * `error` (default): an unbound placeholder or parameter is an error. `keep`: leave it in place and skip
   * its validation, to check a definition's structure without its values (corpus conformance, `validate
   * --structure-only`). Connectors loaded this way are not runnable.
   */
  unbound?: "error" | "keep";
}

export interface LoadResult {
  connectors: Connector[];
  refused: Refusal[];
  errors: DefinitionError[];
  warnings: DefinitionWarning[];
}

function emptyResult(): LoadResult {
  return { connectors: [], refused: [], errors: [], warnings: [] };
}

export async function loadConnectors(
  paths: readonly string[],
  options: { env: Env; settingsFile?: string; unbound?: "error" | "keep" },
): Promise<LoadResult> {
  const result = emptyResult();
  let settings: SettingsFile | undefined;
  if (options.settingsFile !== undefined) {
    try {
      settings = await readSettingsFile(options.settingsFile);
    } catch (error) {
      if (!(error instanceof DefinitionError)) throw error;
      result.errors.push(error);
      return result;
    }
  }
  for (const file of await expandPaths(paths, result)) {
    const text = await readFile(file, "utf8");
    merge(result, loadDefinitionText(text, file, { ...options, settings }));
  }
  const seen = new Map<string, Connector>();
  for (const connector of result.connectors) {
    const first = seen.get(connector.id);
    if (first !== undefined) {
      result.errors.push(
        new DefinitionError(
          connector.source.file,
          connector.source.jsonPath,
          `a connector id not already used by ${first.source.file}`,
          `duplicate id "${connector.id}"`,
        ),
      );
    }
    seen.set(connector.id, connector);
  }
  return result;
}

/** Files named on the command line, plus every `*.json` under named folders (settings files excluded). */
async function expandPaths(paths: readonly string[], result: LoadResult): Promise<string[]> {
  const files: string[] = [];
  for (const p of paths) {
    const info = await stat(p).catch(() => undefined);
    if (info === undefined) {
      result.errors.push(new DefinitionError(p, "$", "a definition file or folder", "nothing at that path"));
    } else if (info.isDirectory()) {
      const entries = await readdir(p, { recursive: true, withFileTypes: true });
      const found = entries
        .filter(
          (e) =>
            e.isFile() &&
            e.name.endsWith(".json") &&
            !/^settings(\..*)?\.json$/.test(e.name) &&
            e.name !== "MANIFEST.json",
        )
        .map((e) => path.join(e.parentPath, e.name));
      files.push(...found.sort());
    } else {
      files.push(p);
    }
  }
  return files;
}

function merge(into: LoadResult, from: LoadResult): void {
  into.connectors.push(...from.connectors);
  into.refused.push(...from.refused);
  into.errors.push(...from.errors);
  into.warnings.push(...from.warnings);
}

/** Loads every poller in one file's text. Pure: no file or environment access beyond `options`. */
export function loadDefinitionText(text: string, file: string, options: LoadOptions): LoadResult {
  const result = emptyResult();
  let root: unknown;
  try {
    root = parseDefinitionJson(text, file);
  } catch (error) {
    if (!(error instanceof DefinitionError)) throw error;
    result.errors.push(error);
    return result;
  }
  const located = locatePollers(root);
  result.refused.push(...located.refused.map((r) => ({ ...r, file })));
  if (located.candidates.length === 0 && located.refused.length === 0) {
    result.warnings.push({
      file,
      jsonPath: "$",
      code: "no-poller",
      message: "no RestApiPoller or APIPolling resource in this file (DCR, table or definition companion?)",
    });
  }
  for (const candidate of located.candidates) loadCandidate(candidate, file, options, result);
  return result;
}

function loadCandidate(
  candidate: PollerCandidate,
  file: string,
  options: LoadOptions,
  result: LoadResult,
): void {
  const base = candidate.propertiesPath;
  const refusal = findRefusal(candidate.properties);
  if (refusal !== undefined) {
    result.refused.push({
      file,
      jsonPath: formatJsonPath([...base, ...refusal.path]),
      code: refusal.code,
      reason: refusal.reason,
    });
    return;
  }
  const id = connectorId(candidate, file);
  const settings = new ConnectorSettings(
    id,
    options.env,
    settingsEntryFor(options.settings, id),
    options.settingsFile,
  );
  const canonical = canonicalizeKeys(candidate.properties, connectorProperties);
  const originalPath = (canonicalPath: readonly JsonPathSegment[]): string =>
    formatJsonPath([...base, ...originalSegments(canonical.origins, canonicalPath)]);
  for (const unknown of canonical.unknownKeys) {
    result.warnings.push({
      file,
      jsonPath: formatJsonPath([...base, ...unknown]),
      code: "unknown-field",
      message: "not a field of the connector schema; ignored",
    });
  }
  const tree = canonical.value as Record<string, unknown>;
  if (candidate.sourceKind === "APIPolling") completeLegacyDefinition(tree);
  const definitionHash = createHash("sha256").update(canonicalJson(tree)).digest("hex").slice(0, 16);

  const unboundMode = options.unbound ?? "error";
  const template = candidate.template;
  const bindContext = { file, settings, template, originalPath, unboundMode };
  if (!conditionHolds(candidate, bindContext, result)) return;
  const bound = bindValues(tree, bindContext);
  result.errors.push(...bound.errors);
  if (bound.errors.length > 0) return;

  const coerced = coerceToSchema(bound.value, connectorProperties);
  const parsed = connectorProperties.safeParse(coerced);
  const secretPaths = new Set(
    secretAuthFields.flatMap((f) => [pathKey(["auth", f]), pathKey(["auth", f, "value"])]),
  );
  if (!parsed.success) {
    const issues = parsed.error.issues.filter(
      (issue) => !isUnder(issue.path as JsonPathSegment[], bound.unboundPaths),
    );
    for (const issue of issues) {
      const issuePath = issue.path as JsonPathSegment[];
      const actual = valueAt(coerced, issuePath);
      const secret =
        secretPaths.has(pathKey(issuePath)) || (typeof actual === "string" && bound.secretValues.has(actual));
      result.errors.push(
        new DefinitionError(
          file,
          originalPath(issuePath),
          expectedText(issue),
          describeValue(actual, secret),
        ),
      );
    }
    if (issues.length > 0) return;
  }
  const properties = parsed.success ? parsed.data : parseWithStandIns(coerced);
  for (const finding of lintProperties(properties)) {
    result.warnings.push({
      file,
      jsonPath: originalPath(finding.path),
      code: finding.code,
      message: finding.message,
    });
  }
  const secrets = new Set(bound.secretValues);
  const auth = properties.auth as unknown as Record<string, unknown>;
  for (const field of secretAuthFields) {
    const value = auth[field];
    const text = isRecord(value) ? value.value : value;
    if (typeof text === "string" && text !== "") secrets.add(text);
  }
  result.connectors.push({
    id,
    sourceKind: candidate.sourceKind,
    source: { file, jsonPath: formatJsonPath(candidate.resourcePath) },
    definitionHash,
    properties: properties as ConnectorProperties & { auth: SupportedAuthConfig },
    secrets: [...secrets],
  });
}

/**
 * `keep` mode: the only failures left are at unbound values. Validate with schema-valid stand-ins there (so
 * defaults apply and lint runs), then put the unbound text back: the result shows what is still missing.
 */
function parseWithStandIns(value: unknown): ConnectorProperties {
  const patched = structuredClone(value);
  const replaced: [JsonPathSegment[], unknown][] = [];
  for (let round = 0; round < 5; round++) {
    const attempt = connectorProperties.safeParse(patched);
    if (attempt.success) {
      for (const [at, original] of replaced) setAt(attempt.data, at, original);
      return attempt.data;
    }
    for (const issue of attempt.error.issues) {
      const at = issue.path as JsonPathSegment[];
      replaced.push([at, valueAt(value, at)]);
      setAt(patched, at, standIn(issue));
    }
  }
  return patched as ConnectorProperties;
}

function standIn(issue: z.core.$ZodIssue): unknown {
  if (issue.code === "invalid_value") return issue.values[0];
  if (issue.code === "invalid_format") return "Custom-unbound";
  if (issue.code === "too_small" && typeof issue.minimum === "number") return issue.minimum;
  if (issue.code === "invalid_type") {
    const byType: Record<string, unknown> = {
      number: 1,
      int: 1,
      boolean: false,
      string: "unbound",
      array: [],
      object: {},
    };
    return byType[issue.expected];
  }
  return undefined;
}

function setAt(root: unknown, at: readonly JsonPathSegment[], value: unknown): void {
  const parent = valueAt(root, at.slice(0, -1));
  const key = at.at(-1);
  if (key !== undefined && parent !== null && typeof parent === "object") {
    (parent as Record<PropertyKey, unknown>)[key] = value;
  }
}

/** A resource `condition` that evaluates to false means the resource is not deployed: skip it, with a warning. */
function conditionHolds(
  candidate: PollerCandidate,
  context: Parameters<typeof bindValues>[1],
  result: LoadResult,
): boolean {
  if (typeof candidate.condition !== "string") return candidate.condition !== false;
  const probe = bindValues(
    { condition: candidate.condition },
    { ...context, originalPath: () => formatJsonPath([...candidate.resourcePath, "condition"]) },
  );
  result.errors.push(...probe.errors);
  const value = (probe.value as { condition: unknown }).condition;
  if (probe.errors.length > 0 || value !== false) return probe.errors.length === 0;
  result.warnings.push({
    file: context.file,
    jsonPath: formatJsonPath([...candidate.resourcePath, "condition"]),
    code: "condition-false",
    message: "the resource condition is false with these settings, so this poller is not loaded",
  });
  return false;
}

/** The resource name when it is a plain string (last `/` segment), else `<file name>-<index>`. */
function connectorId(candidate: PollerCandidate, file: string): string {
  const name = candidate.name;
  if (
    typeof name === "string" &&
    name !== "" &&
    !name.includes("{{") &&
    armExpressionBody(name) === undefined &&
    !name.startsWith("[")
  ) {
    return name.split("/").at(-1) as string;
  }
  const stem = path
    .basename(file)
    .replace(/\.json$/i, "")
    .replace(/[^A-Za-z0-9_-]+/g, "-");
  return `${stem}-${candidate.index}`;
}

function originalSegments(
  origins: Map<string, JsonPathSegment[]>,
  canonicalPath: readonly JsonPathSegment[],
): JsonPathSegment[] {
  for (let n = canonicalPath.length; n >= 0; n--) {
    const found = origins.get(pathKey(canonicalPath.slice(0, n)));
    if (found !== undefined) return [...found, ...canonicalPath.slice(n)];
  }
  return [...canonicalPath];
}

function isUnder(issuePath: JsonPathSegment[], unboundPaths: Set<string>): boolean {
  for (let n = issuePath.length; n >= 0; n--)
    if (unboundPaths.has(pathKey(issuePath.slice(0, n)))) return true;
  return false;
}

function valueAt(root: unknown, segments: readonly PropertyKey[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

const typeNames: Record<string, string> = {
  object: "an object",
  array: "an array",
  record: "an object",
  int: "an integer",
};

function expectedText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case "invalid_type":
      return typeNames[issue.expected] ?? `a ${issue.expected}`;
    case "invalid_value":
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}`;
    case "invalid_union": {
      const options = (issue as { options?: unknown[] }).options;
      return Array.isArray(options)
        ? `one of ${options.map((v) => JSON.stringify(v)).join(" | ")}`
        : "a value matching one of the allowed shapes";
    }
    case "too_small":
      return issue.origin === "string"
        ? `a string of at least ${issue.minimum} characters`
        : issue.origin === "array"
          ? `at least ${issue.minimum} item(s)`
          : `a number ${issue.inclusive ? ">=" : ">"} ${issue.minimum}`;
    case "too_big":
      return issue.origin === "string"
        ? `a string of at most ${issue.maximum} characters`
        : issue.origin === "array"
          ? `at most ${issue.maximum} item(s)`
          : `a number ${issue.inclusive ? "<=" : "<"} ${issue.maximum}`;
    default:
      return issue.message;
  }
}

/** JSON with sorted keys, so key order and formatting do not change the hash. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
