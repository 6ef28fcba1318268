/**
 * Validators for resource `properties` against the ARM JSON schemas in ../shared/arm-schemas (read in place).
 * The files are draft-04 with a cross-file `$ref` to common/definitions.json (ARM expressions); both are
 * registered under their published ids, without the draft-04 `$schema`/`id` keywords Ajv 8 does not speak.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

const schemaIds = {
  securityInsights: "https://schema.management.azure.com/schemas/2025-09-01/Microsoft.SecurityInsights.json",
  insights: "https://schema.management.azure.com/schemas/2024-03-11/Microsoft.Insights.json",
  operationalInsights:
    "https://schema.management.azure.com/schemas/2025-07-01/Microsoft.OperationalInsights.json",
  common: "https://schema.management.azure.com/schemas/common/definitions.json",
} as const;

const files: Record<keyof typeof schemaIds, string> = {
  securityInsights: "2025-09-01__Microsoft.SecurityInsights.json",
  insights: "2024-03-11__Microsoft.Insights.json",
  operationalInsights: "2025-07-01__Microsoft.OperationalInsights.json",
  common: "common__definitions.json",
};

type Schema = Record<string, unknown> & { definitions?: Record<string, Record<string, unknown>> };

function load(dir: string, file: string): Schema {
  const {
    $schema: _draft,
    id: _id,
    ...schema
  } = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as Schema;
  return schema;
}

/**
 * `definition` names an entry of the file's `definitions` (resource properties), or is a path inside the file
 * such as `resourceDefinitions/dataCollectionRules` (a whole resource as a template declares it).
 */
export type ArmValidator = (schema: keyof typeof schemaIds, definition: string, value: unknown) => string[];

export function armValidator(armSchemasDir: string): ArmValidator {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  for (const [key, id] of Object.entries(schemaIds) as [keyof typeof schemaIds, string][]) {
    const schema = load(armSchemasDir, files[key]);
    const authConfig = schema.definitions?.CcpAuthConfig;
    if (authConfig !== undefined) {
      // Generator defect: the first allOf branch allows only `type` (additionalProperties: false), which
      // rejects every real auth object. The per-type models in the second branch are the real contract.
      schema.definitions = { ...schema.definitions, CcpAuthConfig: (authConfig.allOf as Schema[])[1] ?? {} };
    }
    const dataFlow = schema.definitions?.DataFlow as { properties?: { streams?: { oneOf?: Schema[] } } };
    const streamsArray = dataFlow?.properties?.streams?.oneOf?.[0];
    if (streamsArray !== undefined) {
      // Generator defect: the stream names are an open enum in the API spec (known Microsoft-* streams), but the
      // schema closes it, which rejects every Custom-* stream a Logs Ingestion DCR declares.
      streamsArray.items = { type: "string", pattern: "^(Microsoft|Custom)-" };
    }
    ajv.addSchema(schema, id);
  }
  const compiled = new Map<string, ValidateFunction>();
  return (schema, definition, value) => {
    const pointer = definition.includes("/") ? definition : `definitions/${definition}`;
    const ref = `${schemaIds[schema]}#/${pointer}`;
    let validate = compiled.get(ref);
    if (validate === undefined) {
      validate = ajv.compile({ $ref: ref });
      compiled.set(ref, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map((e: ErrorObject) => `${definition}${e.instancePath}: ${e.message}`);
  };
}
