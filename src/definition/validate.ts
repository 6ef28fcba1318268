/**
 * Validates coerced properties against the schema and turns zod issues into `DefinitionError`s at the
 * file's original JSON paths. Issues at values left unbound (structure-only mode) are not errors.
 */
import type { z } from "zod";
import { pathKey } from "./canonicalize.ts";
import type { JsonPathSegment } from "./errors.ts";
import { DefinitionError, describeValue } from "./errors.ts";
import { type ConnectorProperties, connectorProperties, secretAuthFields } from "./schema.ts";

export interface ValidationContext {
  file: string;
  originalPath(canonicalPath: readonly JsonPathSegment[]): string;
  /** Canonical paths still holding unbound placeholders (structure-only mode). */
  unboundPaths: ReadonlySet<string>;
  secretValues: ReadonlySet<string>;
}

const secretPaths = new Set(
  secretAuthFields.flatMap((f) => [pathKey(["auth", f]), pathKey(["auth", f, "value"])]),
);

export function validateProperties(
  value: unknown,
  context: ValidationContext,
): { properties?: ConnectorProperties; errors: DefinitionError[] } {
  const parsed = connectorProperties.safeParse(value);
  if (parsed.success) return { properties: parsed.data, errors: [] };
  const issues = parsed.error.issues.filter(
    (issue) => !isUnder(issue.path as JsonPathSegment[], context.unboundPaths),
  );
  if (issues.length === 0) return { properties: parseWithStandIns(value), errors: [] };
  const errors = issues.map((issue) => {
    const issuePath = issue.path as JsonPathSegment[];
    const actual = valueAt(value, issuePath);
    const secret =
      secretPaths.has(pathKey(issuePath)) ||
      (typeof actual === "string" && [...context.secretValues].some((secret) => actual.includes(secret)));
    return new DefinitionError(
      context.file,
      context.originalPath(issuePath),
      expectedText(issue),
      describeValue(actual, secret),
    );
  });
  return { errors };
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

function isUnder(issuePath: JsonPathSegment[], unboundPaths: ReadonlySet<string>): boolean {
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
