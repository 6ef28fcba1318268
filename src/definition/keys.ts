/** Case-insensitive property access: real files spell the same key `Paging`, `paging` or `PAGING`. */
export function findKey(object: Record<string, unknown>, ...names: string[]): string | undefined {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  return Object.keys(object).find((key) => wanted.has(key.toLowerCase()));
}

export function getKey(object: Record<string, unknown>, ...names: string[]): unknown {
  const key = findKey(object, ...names);
  return key === undefined ? undefined : object[key];
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `$.a.b` or `$['a']`: a place in a JSON body. `$skip`/`$top` (OData) are plain parameter names. */
export function isBodyJsonPath(name: string): boolean {
  return /^\$[.[]/.test(name);
}
