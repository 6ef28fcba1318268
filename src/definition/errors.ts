/**
 * What the loader reports. Every message names the file and the JSON path of the ORIGINAL key spelling,
 * so `<file>: <json path> — expected <what>, got <what>` can be pasted straight into an editor search.
 */

export type JsonPathSegment = string | number;

/** `$.properties.request['odd key'][0]` */
export function formatJsonPath(segments: readonly JsonPathSegment[]): string {
  let out = "$";
  for (const segment of segments) {
    if (typeof segment === "number") out += `[${segment}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(segment)) out += `.${segment}`;
    else out += `['${segment.replaceAll("'", "\\'")}']`;
  }
  return out;
}

export class DefinitionError extends Error {
  override readonly name = "DefinitionError";
  constructor(
    readonly file: string,
    readonly jsonPath: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${file}: ${jsonPath} — expected ${expected}, got ${got}`);
  }
}

export interface DefinitionWarning {
  file: string;
  jsonPath: string;
  /** Stable rule name, e.g. `unknown-field`, `offset-first-call`. */
  code: string;
  message: string;
}

export function formatWarning(warning: DefinitionWarning): string {
  return `${warning.file}: ${warning.jsonPath} — warning [${warning.code}] ${warning.message}`;
}

/** Stable codes for definitions this poller deliberately does not run (docs/connector-definitions.md lists them). */
export const refusalCodes = {
  "unsupported-kind": "the resource kind is not a REST poller (OCI, GCP, Push, StorageAccountBlobContainer…)",
  "unsupported-auth":
    "an auth type this poller has no strategy for: AWS, GCP, GitHub, ServiceBus, Oracle (other connector kinds) or any type outside the list (AliCloudSlsV1…)",
  "legacy-timestamp-paging": "legacy pagingType TimeStamp has no RestApiPoller equivalent",
  "nested-steps":
    "a nested step that cannot run: a KQL operator outside the subset, an unknown stepId, a cycle, a join without a column name, or a child auth type for other kinds",
  "paging-condition": "paging.condition holds JavaScript-like expressions, which are never evaluated",
  "token-transform": "paging.tokenTransform of a type other than SplitOnDelimiter",
  "logic-apps-expression": "a value is a Logic Apps expression (@variables(…)), not CCP syntax",
  "builtin-stream":
    "dcrConfig.streamName is a Sentinel-owned stream (SENTINEL_*, ILUMIO_INSIGHTS…) and no Custom-* stream is mapped to it in CCP_<ID>_STREAMNAME",
} as const;

export type RefusalCode = keyof typeof refusalCodes;

export interface Refusal {
  file: string;
  jsonPath: string;
  code: RefusalCode;
  reason: string;
}

export function formatRefusal(refusal: Refusal): string {
  return `${refusal.file}: ${refusal.jsonPath} — refused [${refusal.code}] ${refusal.reason}`;
}

/** Describes a value for the "got" half of a message, without ever printing a secret. */
export function describeValue(value: unknown, isSecret = false): string {
  if (value === undefined) return "nothing";
  if (isSecret) return "<secret>";
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "object") return "an object";
  if (typeof value === "string") {
    const shown = value.length > 80 ? `${value.slice(0, 77)}...` : value;
    return `string ${JSON.stringify(shown)}`;
  }
  return `${typeof value} ${String(value)}`;
}
