/** Features this poller deliberately does not run, detected on the raw properties before anything else. */
import type { JsonPathSegment, RefusalCode } from "./errors.ts";
import { findKey, isRecord } from "./keys.ts";
import { findNestedRefusal } from "./refuse-nested.ts";
import { authConfig, unsupportedAuthTypes } from "./schema.ts";
import { discriminatorValues } from "./zod-walk.ts";

export interface RawRefusal {
  path: JsonPathSegment[];
  code: RefusalCode;
  reason: string;
}

const unsupported: readonly string[] = unsupportedAuthTypes;
/** The auth types the engine has a strategy for, from the schema (its discriminator values). */
const supportedAuthTypes = authConfig.options
  .flatMap((option) => discriminatorValues(option, "type"))
  .filter((type) => !unsupported.includes(type));

function knownAuthType(type: string): { name: string; supported: boolean } | undefined {
  const match = (t: string) => t.toLowerCase() === type.toLowerCase();
  const name = supportedAuthTypes.find(match) ?? unsupported.find(match);
  return name === undefined ? undefined : { name, supported: supportedAuthTypes.includes(name) };
}

/** A value written in the file, not an ARM expression or a `{{placeholder}}` bound later. */
function isLiteral(text: string): boolean {
  return !text.trim().startsWith("[") && !text.includes("{{");
}

export function findRefusal(properties: Record<string, unknown>): RawRefusal | undefined {
  const authKey = findKey(properties, "auth");
  const auth = authKey === undefined ? undefined : properties[authKey];
  if (authKey !== undefined && isRecord(auth)) {
    const typeKey = findKey(auth, "type", "authType");
    const type = typeKey === undefined ? undefined : auth[typeKey];
    const known = typeof type === "string" && isLiteral(type) ? knownAuthType(type) : undefined;
    // A type outside the list (AliCloudSlsV1, VisaXpayToken…) is a connector this poller cannot sign for:
    // a refusal with its name, not a schema error. An expression or placeholder is checked after binding.
    if (typeKey !== undefined && typeof type === "string" && isLiteral(type) && !known?.supported) {
      return {
        path: [authKey, typeKey],
        code: "unsupported-auth",
        reason: `auth type ${known?.name ?? type} is not a REST polling auth this poller runs (supported: ${supportedAuthTypes.join(", ")})`,
      };
    }
  }
  const nested = findNestedRefusal(properties);
  if (nested) return nested;
  const pagingKey = findKey(properties, "paging");
  const paging = pagingKey === undefined ? undefined : properties[pagingKey];
  if (pagingKey !== undefined && isRecord(paging)) {
    const typeKey = findKey(paging, "pagingType");
    const type = typeKey === undefined ? undefined : paging[typeKey];
    if (typeKey !== undefined && typeof type === "string" && type.toLowerCase() === "timestamp") {
      return {
        path: [pagingKey, typeKey],
        code: "legacy-timestamp-paging",
        reason:
          "legacy pagingType TimeStamp (next request starts at the latest event time) has no RestApiPoller equivalent",
      };
    }
    const checks: [string, RefusalCode, string][] = [
      [
        "condition",
        "paging-condition",
        "paging.condition holds JavaScript-like expressions, which are never evaluated",
      ],
    ];
    const transformKey = findKey(paging, "tokenTransform");
    const transform = transformKey === undefined ? undefined : paging[transformKey];
    const kindKey = isRecord(transform) ? findKey(transform, "transformType") : undefined;
    const kind = kindKey === undefined || !isRecord(transform) ? undefined : transform[kindKey];
    if (
      transformKey !== undefined &&
      kindKey !== undefined &&
      String(kind).toLowerCase() !== "splitondelimiter"
    ) {
      return {
        path: [pagingKey, transformKey, kindKey],
        code: "token-transform",
        reason: `paging.tokenTransform type ${JSON.stringify(kind)} is not implemented (only SplitOnDelimiter, as SAP BTP uses it)`,
      };
    }
    for (const [field, code, reason] of checks) {
      const key = findKey(paging, field);
      if (key !== undefined) return { path: [pagingKey, key], code, reason };
    }
  }
  return findLogicAppsExpression(properties, []);
}

function findLogicAppsExpression(value: unknown, path: JsonPathSegment[]): RawRefusal | undefined {
  if (typeof value === "string") {
    return /^@\{?[A-Za-z]+\(/.test(value.trim())
      ? {
          path,
          code: "logic-apps-expression",
          reason: `${JSON.stringify(value)} is a Logic Apps expression, not CCP syntax; it would be sent literally`,
        }
      : undefined;
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findLogicAppsExpression(item, [...path, i]);
      if (found) return found;
    }
  } else if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const found = findLogicAppsExpression(item, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}
