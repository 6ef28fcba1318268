/**
 * Renames keys to the schema's spelling, case-insensitively and through a short alias table, remembering
 * each original path so errors point at what the file actually says. Unknown keys become warnings.
 */
import type { z } from "zod";
import type { JsonPathSegment } from "./errors.ts";
import { isRecord } from "./keys.ts";
import { describeSchema, discriminatorValues } from "./zod-walk.ts";

type AnySchema = z.core.$ZodType;

/** Spellings real files (and the legacy pollingConfig) use for canonical keys, lower-cased. */
export const keyAliases: Readonly<Record<string, string>> = {
  pagesizeparaname: "pageSizeParameterName",
  authtype: "type",
  flowname: "grantType",
  redirectionendpoint: "redirectUri",
  isclientsecretinheader: "isCredentialsInHeaders",
  istokenendpointpostpayloadjson: "isJsonRequest",
  pagecountattributepath: "pageCountJsonPath",
  pagetotalcountattributepath: "totalResultsJsonPath",
};

/** Legacy enum spellings, by canonical field, lower-cased. */
export const valueAliases: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  pagingType: { pagetoken: "NextPageToken", pagecount: "CountBasedPaging" },
  grantType: { authcode: "authorization_code", clientcredentials: "client_credentials" },
};

/** Keys of the legacy pollingConfig envelope that carry no polling meaning. */
const ignoredKeys = new Set(["owner", "version", "source", "templatefilepath", "templatefilename", "id"]);

export interface CanonicalTree {
  value: unknown;
  /** Canonical path (joined with pathKey) → original path inside the properties object. */
  origins: Map<string, JsonPathSegment[]>;
  unknownKeys: JsonPathSegment[][];
}

export function pathKey(path: readonly JsonPathSegment[]): string {
  return JSON.stringify(path);
}

export function canonicalizeKeys(raw: unknown, schema: AnySchema): CanonicalTree {
  const tree: CanonicalTree = { value: undefined, origins: new Map(), unknownKeys: [] };
  tree.value = walk(raw, schema, [], [], tree);
  return tree;
}

function walk(
  raw: unknown,
  schema: AnySchema,
  canonicalPath: JsonPathSegment[],
  originalPath: JsonPathSegment[],
  tree: CanonicalTree,
): unknown {
  tree.origins.set(pathKey(canonicalPath), originalPath);
  const node = describeSchema(schema);
  if (Array.isArray(raw) && node.kind === "array") {
    return raw.map((item, i) => walk(item, node.element, [...canonicalPath, i], [...originalPath, i], tree));
  }
  if (!isRecord(raw)) return raw;
  if (node.kind === "record") {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw)) {
      out[key] = walk(value, node.value, [...canonicalPath, key], [...originalPath, key], tree);
    }
    return out;
  }
  if (node.kind === "union" && node.discriminator !== undefined) {
    return walkUnion(raw, node.discriminator, node.options, canonicalPath, originalPath, tree);
  }
  if (node.kind === "object") return walkObject(raw, node.shape, canonicalPath, originalPath, tree);
  return raw;
}

function walkUnion(
  raw: Record<string, unknown>,
  discriminator: string,
  options: AnySchema[],
  canonicalPath: JsonPathSegment[],
  originalPath: JsonPathSegment[],
  tree: CanonicalTree,
): unknown {
  const rawKey = Object.keys(raw).find((k) => canonicalKeyFor(k, [discriminator]) === discriminator);
  const rawValue = rawKey === undefined ? undefined : raw[rawKey];
  const allowed = options.flatMap((o) => discriminatorValues(o, discriminator));
  const wanted =
    typeof rawValue === "string" ? canonicalEnumValue(discriminator, rawValue, allowed) : undefined;
  const option = options.find((o) => discriminatorValues(o, discriminator).some((v) => v === wanted));
  if (option !== undefined) {
    const node = describeSchema(option);
    if (node.kind === "object") {
      const out = walkObject(raw, node.shape, canonicalPath, originalPath, tree);
      out[discriminator] = wanted;
      return out;
    }
  }
  // No matching option: keep the keys so the schema reports the bad discriminator at its own path.
  const out: Record<string, unknown> = { ...raw };
  if (rawKey !== undefined && rawKey !== discriminator) {
    delete out[rawKey];
    out[discriminator] = rawValue;
    tree.origins.set(pathKey([...canonicalPath, discriminator]), [...originalPath, rawKey]);
  }
  return out;
}

function walkObject(
  raw: Record<string, unknown>,
  shape: Record<string, AnySchema>,
  canonicalPath: JsonPathSegment[],
  originalPath: JsonPathSegment[],
  tree: CanonicalTree,
): Record<string, unknown> {
  const names = Object.keys(shape);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(raw)) {
    const canonical = canonicalKeyFor(key, names);
    const fieldSchema = canonical === undefined ? undefined : shape[canonical];
    if (canonical === undefined || fieldSchema === undefined) {
      if (!ignoredKeys.has(key.toLowerCase())) tree.unknownKeys.push([...originalPath, key]);
      continue;
    }
    out[canonical] = walk(value, fieldSchema, [...canonicalPath, canonical], [...originalPath, key], tree);
  }
  return out;
}

function canonicalKeyFor(key: string, names: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const direct = names.find((n) => n.toLowerCase() === lower);
  if (direct !== undefined) return direct;
  const alias = keyAliases[lower];
  return alias !== undefined && names.includes(alias) ? alias : undefined;
}

/** Case-insensitive match of an enum value against the schema; legacy spellings through `valueAliases`. */
export function canonicalEnumValue(field: string, value: string, allowed?: readonly string[]): string {
  const alias = valueAliases[field]?.[value.toLowerCase()];
  if (alias !== undefined) return alias;
  return allowed?.find((v) => v.toLowerCase() === value.toLowerCase()) ?? value;
}
