/** Coerces values real files give as strings (`"1000"`, `"true"`, `Get`) to what the schema expects. */
import type { z } from "zod";
import { canonicalEnumValue } from "./canonicalize.ts";
import { isRecord } from "./keys.ts";
import { describeSchema, discriminatorValues } from "./zod-walk.ts";

type AnySchema = z.core.$ZodType;

export function coerceToSchema(value: unknown, schema: AnySchema, field = ""): unknown {
  const node = describeSchema(schema);
  switch (node.kind) {
    case "number":
      return typeof value === "string" && /^\s*-?\d+(\.\d+)?\s*$/.test(value) ? Number(value) : value;
    case "boolean":
      if (typeof value === "string" && /^(true|false)$/i.test(value.trim()))
        return value.trim().toLowerCase() === "true";
      return value;
    case "enum":
      return typeof value === "string" ? canonicalEnumValue(field, value, node.values) : value;
    case "array":
      return Array.isArray(value) ? value.map((item) => coerceToSchema(item, node.element)) : value;
    case "record":
      // A null map value means "no entry" in real files (Meraki's addOnAttributes).
      return isRecord(value)
        ? Object.fromEntries(
            Object.entries(value)
              .filter(([, v]) => v !== null)
              .map(([k, v]) => [k, coerceToSchema(v, node.value)]),
          )
        : value;
    case "object":
      return isRecord(value) ? coerceObject(value, node.shape) : value;
    case "union": {
      if (!isRecord(value) || node.discriminator === undefined) return value;
      const disc = node.discriminator;
      const option = node.options.find((o) => discriminatorValues(o, disc).includes(String(value[disc])));
      const described = option === undefined ? undefined : describeSchema(option);
      return described?.kind === "object" ? coerceObject(value, described.shape) : value;
    }
    default:
      return value;
  }
}

function coerceObject(
  value: Record<string, unknown>,
  shape: Record<string, AnySchema>,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => {
      const fieldSchema = shape[key];
      return [key, fieldSchema === undefined ? v : coerceToSchema(v, fieldSchema, key)];
    }),
  );
}
