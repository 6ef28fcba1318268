/**
 * The loader pipeline (design.md "Loading real files"): parse → locate pollers → refuse unsupported
 * features → canonicalize keys → complete legacy definitions → bind placeholders and ARM expressions →
 * coerce → validate → lint → Connector. Every step reports against the original file and JSON path, and
 * every error is collected: a file reports all of its problems at once.
 */
import { createHash } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { armExpressionBody } from "./arm.ts";
import { basicLoginAsJwtToken } from "./basic-login.ts";
import { bindValues } from "./bind.ts";
import { canonicalizeKeys, pathKey } from "./canonicalize.ts";
import { coerceToSchema } from "./coerce.ts";
import { completeDestination, mapOwnedStream } from "./destination.ts";
import type { DefinitionWarning, JsonPathSegment, Refusal } from "./errors.ts";
import { DefinitionError, formatJsonPath } from "./errors.ts";
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
import { validateProperties } from "./validate.ts";

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
  const basicLogin = basicLoginAsJwtToken(candidate.properties);
  if (basicLogin !== undefined) {
    result.warnings.push({
      file,
      jsonPath: formatJsonPath([...base, ...basicLogin.authPath]),
      code: "basic-token-login",
      message:
        "Basic with a TokenEndpoint is a login for a token, run as JwtToken: credentials POSTed to TokenEndpoint, token at jwtTokenJsonPath ($.access_token, then $.token), sent as Authorization: Bearer unless apiKeyName/NoAccessTokenPrepend say otherwise",
    });
  }
  const raw = basicLogin?.properties ?? candidate.properties;
  const id = connectorId(candidate, file);
  const settings = new ConnectorSettings(
    id,
    options.env,
    settingsEntryFor(options.settings, id),
    options.settingsFile,
  );
  const canonical = canonicalizeKeys(raw, connectorProperties);
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
  completeDestination(tree);
  const definitionHash = createHash("sha256").update(canonicalJson(tree)).digest("hex").slice(0, 16);

  const unboundMode = options.unbound ?? "error";
  const stream = mapOwnedStream(tree, settings);
  if (stream.kind === "unmapped") {
    const jsonPath = originalPath(["dcrConfig", "streamName"]);
    if (unboundMode === "error") {
      result.refused.push({ file, jsonPath, code: "builtin-stream", reason: stream.instruction });
      return;
    }
    result.warnings.push({ file, jsonPath, code: "builtin-stream", message: stream.instruction });
  }
  const template = candidate.template;
  const bindContext = { file, settings, template, originalPath, unboundMode };
  if (!conditionHolds(candidate, bindContext, result)) return;
  const bound = bindValues(tree, bindContext);
  result.errors.push(...bound.errors);
  if (bound.errors.length > 0) return;

  const validated = validateProperties(coerceToSchema(bound.value, connectorProperties), {
    file,
    originalPath,
    unboundPaths: bound.unboundPaths,
    secretValues: bound.secretValues,
  });
  result.errors.push(...validated.errors);
  if (validated.properties === undefined) return;
  const properties = validated.properties;
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
