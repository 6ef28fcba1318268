/** Just enough zod 4 introspection to let the schema drive key canonicalization and value coercion. */
import type { z } from "zod";

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  innerType?: AnySchema;
  in?: AnySchema;
  shape?: Record<string, AnySchema>;
  valueType?: AnySchema;
  element?: AnySchema;
  options?: AnySchema[];
  discriminator?: string;
  entries?: Record<string, string>;
  values?: unknown[];
}

function def(schema: AnySchema): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** Strips optional/default/nullable/pipe wrappers. */
export function unwrap(schema: AnySchema): AnySchema {
  let current = schema;
  for (;;) {
    const d = def(current);
    const inner = d.innerType ?? (d.type === "pipe" ? d.in : undefined);
    if (inner === undefined) return current;
    current = inner;
  }
}

export type SchemaNode =
  | { kind: "object"; shape: Record<string, AnySchema> }
  | { kind: "union"; discriminator?: string; options: AnySchema[] }
  | { kind: "record"; value: AnySchema }
  | { kind: "array"; element: AnySchema }
  | { kind: "enum"; values: string[] }
  | { kind: "number" | "boolean" | "string" | "other" };

export function describeSchema(schema: AnySchema): SchemaNode {
  const d = def(unwrap(schema));
  switch (d.type) {
    case "object":
      return { kind: "object", shape: d.shape ?? {} };
    case "union":
      return { kind: "union", discriminator: d.discriminator, options: d.options ?? [] };
    case "record":
      return { kind: "record", value: d.valueType as AnySchema };
    case "array":
      return { kind: "array", element: d.element as AnySchema };
    case "enum":
      return { kind: "enum", values: Object.values(d.entries ?? {}) };
    case "literal":
      return { kind: "enum", values: (d.values ?? []).filter((v): v is string => typeof v === "string") };
    case "number":
    case "int":
      return { kind: "number" };
    case "boolean":
      return { kind: "boolean" };
    case "string":
      return { kind: "string" };
    default:
      return { kind: "other" };
  }
}

/** The discriminator values of one option of a discriminated union. */
export function discriminatorValues(option: AnySchema, discriminator: string): string[] {
  const node = describeSchema(option);
  if (node.kind !== "object") return [];
  const field = node.shape[discriminator];
  if (field === undefined) return [];
  const described = describeSchema(field);
  return described.kind === "enum" ? described.values : [];
}
