/**
 * JSONPath evaluation for events, tokens and flags. Plain member chains (`$`, `$.a.b`) are walked directly,
 * because they are what almost every definition uses and run once per page; everything else (filters,
 * slices like `$.alerts[-1:]._id`, wildcards, bracket names) goes to jsonpath-plus, which caches parsed paths.
 */
import { JSONPath } from "jsonpath-plus";

/**
 * Splits a plain member chain (`$`, `$.a.b`, `$['@odata.nextLink']`) into keys; undefined for anything else.
 * Bracketed names are handled here because jsonpath-plus gives `@` a meaning inside brackets.
 */
function memberChain(path: string): string[] | undefined {
  const keys: string[] = [];
  const segment = /\.([A-Za-z_$][\w$-]*)|\['([^'\\]*)'\]|\["([^"\\]*)"\]/y;
  if (!path.startsWith("$")) return undefined;
  let at = 1;
  while (at < path.length) {
    segment.lastIndex = at;
    const match = segment.exec(path);
    if (!match) return undefined;
    keys.push((match[1] ?? match[2] ?? match[3]) as string);
    at = segment.lastIndex;
  }
  return keys;
}

/** Whether `path` is a plain member chain (`$`, `$.a.b`): it names one place rather than selecting elements. */
export function isMemberChain(path: string): boolean {
  return memberChain(path.trim() === "" ? "$" : path.trim()) !== undefined;
}

/** Every match of `path` in `document`, in document order. An empty path means the root. */
export function queryJsonPath(document: unknown, path: string): unknown[] {
  const trimmed = path.trim() === "" ? "$" : path.trim();
  const keys = memberChain(trimmed);
  if (keys) {
    let current: unknown = document;
    for (const key of keys) {
      if (current === null || typeof current !== "object") return [];
      current = (current as Record<string, unknown>)[key];
    }
    return current === undefined ? [] : [current];
  }
  if (document === null || typeof document !== "object") return [];
  return JSONPath({ path: trimmed, json: document, wrap: true, eval: "safe" }) as unknown[];
}

/** The first match, or undefined. */
export function firstJsonPath(document: unknown, path: string): unknown {
  return queryJsonPath(document, path)[0];
}

/** Whether `name` is a JSONPath (`$…`) rather than a plain key. */
export function isJsonPath(name: string): boolean {
  return name.startsWith("$");
}

/**
 * Sets a value at a member-chain path (`$.variables.after`) in a copy of `document`, creating objects on
 * the way. Only member chains are supported: the request body is ours to shape.
 */
export function withJsonPathValue(document: unknown, path: string, value: unknown): Record<string, unknown> {
  const keys = memberChain(path);
  if (!keys || keys.length === 0) {
    throw new Error(`cannot place a value at JSONPath ${path}: only member chains like $.a.b are supported`);
  }
  const root: Record<string, unknown> = isRecord(document) ? structuredClone(document) : {};
  let target = root;
  for (const key of keys.slice(0, -1)) {
    const child = target[key];
    target[key] = isRecord(child) ? child : {};
    target = target[key] as Record<string, unknown>;
  }
  target[keys.at(-1) as string] = value;
  return root;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
