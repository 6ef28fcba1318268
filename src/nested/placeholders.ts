/**
 * `$name$` placeholders of a child step (reference §7.2 step 4): filled in its `apiEndpoint`, `headers`,
 * `queryParameters` and `queryParametersTemplate` before the request is built. Only names the step's queries
 * (and the steps above it) output are replaced, so `$skip` or `$.path` text is left alone.
 *
 * Values go in as written: the endpoint takes Salesforce's `/services/…/LogFile` path unencoded, and the
 * request builder encodes query parameters. In the template a value inside quotes is escaped for that quote,
 * and outside quotes (CyberArk Audit's `{cursorRef:$cursorRef$}`) it becomes a JSON string.
 */
import type { StepCollectorConfig } from "../definition/schema.ts";
import { substituteQuoted } from "../engine/quoted-template.ts";

type StepRequest = StepCollectorConfig["request"];

const PLACEHOLDER = /\$([A-Za-z_][\w]*)\$/g;

export function fillPlaceholders(
  request: StepRequest,
  values: Readonly<Record<string, string>>,
): StepRequest {
  const fill = (text: string) =>
    text.replace(PLACEHOLDER, (whole, name: string) =>
      Object.hasOwn(values, name) ? (values[name] as string) : whole,
    );
  const fillDeep = (value: unknown): unknown => {
    if (typeof value === "string") return fill(value);
    if (Array.isArray(value)) return value.map(fillDeep);
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillDeep(v)]));
    }
    return value;
  };
  return {
    ...request,
    apiEndpoint: fill(request.apiEndpoint),
    ...(request.headers
      ? { headers: Object.fromEntries(Object.entries(request.headers).map(([k, v]) => [k, fill(v)])) }
      : {}),
    ...(request.queryParameters
      ? { queryParameters: fillDeep(request.queryParameters) as Record<string, unknown> }
      : {}),
    ...(request.queryParametersTemplate !== undefined
      ? { queryParametersTemplate: fillTemplate(request.queryParametersTemplate, values) }
      : {}),
  };
}

function fillTemplate(template: string, values: Readonly<Record<string, string>>): string {
  return substituteQuoted(template, /\$([A-Za-z_][\w]*)\$/y, (_token, name) =>
    Object.hasOwn(values, name) ? { value: values[name] as string, bare: false } : undefined,
  );
}
