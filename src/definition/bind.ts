/**
 * Binds `{{placeholders}}` and then evaluates ARM expressions over the canonical tree. Runtime tokens
 * (`{_QueryWindowStartTime}`, `$step$`) are single-braced or dollar-delimited and pass through untouched.
 */

import { ArmExpressionError, type ArmScope, armExpressionBody, evaluateArm, unbound } from "./arm.ts";
import { pathKey } from "./canonicalize.ts";
import type { JsonPathSegment } from "./errors.ts";
import { DefinitionError } from "./errors.ts";
import { getKey, isRecord } from "./keys.ts";
import type { TemplateContext } from "./locate.ts";
import { secretAuthFields } from "./schema.ts";
import type { ConnectorSettings } from "./settings.ts";

export interface BindContext {
  file: string;
  settings: ConnectorSettings;
  template: TemplateContext;
  /** Original path of a canonical path (for messages). */
  originalPath(canonicalPath: readonly JsonPathSegment[]): string;
  /** `error`: an unbound value is an error. `keep`: leave it in place (structure-only validation). */
  unboundMode: "error" | "keep";
}

export interface BindResult {
  value: unknown;
  errors: DefinitionError[];
  /** Canonical paths whose value stayed unbound (`keep` mode). */
  unboundPaths: Set<string>;
  secretNames: Set<string>;
  /** Bound values of secret settings. */
  secretValues: Set<string>;
}

const placeholderPattern = /\{\{([^{}]+?)\}\}/g;
/** `parameters('x')`, and `variables('x')` a user supplies when the mainTemplate is not in the file. */
const parameterReference = /(?:parameters|variables)\(\s*'([^']+)'\s*\)/gi;

/** Setting names referenced inside secret auth fields (and `securestring` template parameters). */
export function findSecretNames(properties: unknown, template: TemplateContext): Set<string> {
  const names = new Set<string>();
  const steps = isRecord(properties) ? properties.stepCollectorConfigs : undefined;
  // A nested child step's own auth holds credentials just like the root's.
  const auths = [
    isRecord(properties) ? properties.auth : undefined,
    ...(isRecord(steps) ? Object.values(steps).map((step) => (isRecord(step) ? step.auth : undefined)) : []),
  ];
  for (const auth of auths) {
    if (!isRecord(auth)) continue;
    for (const field of secretAuthFields) {
      const value = auth[field];
      const text = isRecord(value) ? value.value : value;
      if (typeof text !== "string") continue;
      for (const m of text.matchAll(placeholderPattern)) names.add((m[1] as string).trim());
      for (const m of text.matchAll(parameterReference)) names.add(m[1] as string);
    }
  }
  for (const [name, spec] of Object.entries(template.parameters)) {
    const type = isRecord(spec) ? getKey(spec, "type") : undefined;
    if (typeof type === "string" && /^secure/i.test(type)) names.add(name);
  }
  return names;
}

export function bindValues(properties: unknown, context: BindContext): BindResult {
  const secretNames = findSecretNames(properties, context.template);
  const result: BindResult = {
    value: undefined,
    errors: [],
    unboundPaths: new Set(),
    secretNames,
    secretValues: new Set(),
  };
  const binder = new Binder(context, result);
  result.value = binder.visit(properties, []);
  return result;
}

class Binder {
  constructor(
    private readonly context: BindContext,
    private readonly result: BindResult,
  ) {}

  visit(value: unknown, path: JsonPathSegment[]): unknown {
    if (typeof value === "string") return this.bindString(value, path);
    if (Array.isArray(value)) return value.map((item, i) => this.visit(item, [...path, i]));
    if (isRecord(value)) {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.visit(v, [...path, k])]));
    }
    return value;
  }

  private bindString(text: string, path: JsonPathSegment[]): unknown {
    const body = armExpressionBody(text);
    if (body !== undefined) return this.evaluateExpression(text, body, path);
    return this.bindPlaceholders(text, path);
  }

  private bindPlaceholders(text: string, path: JsonPathSegment[]): string {
    let missing = false;
    const bound = text.replace(placeholderPattern, (whole, rawName: string) => {
      const value = this.resolve(rawName.trim(), `{{${rawName}}}`, path);
      if (value === unbound) {
        missing = true;
        return whole;
      }
      return typeof value === "string" ? value : JSON.stringify(value);
    });
    if (missing) this.result.unboundPaths.add(pathKey(path));
    return bound;
  }

  private evaluateExpression(text: string, body: string, path: JsonPathSegment[]): unknown {
    let readSecret = false;
    const scope: ArmScope = {
      parameter: (name) => {
        readSecret ||= this.result.secretNames.has(name);
        return this.resolve(name, `parameters('${name}')`, path);
      },
      variable: (name) => {
        const variables = this.context.template.variables;
        if (name in variables) return variables[name];
        readSecret ||= this.result.secretNames.has(name);
        // A connector file cut out of its solution still reads the mainTemplate's variables: the user
        // supplies them as settings (CloudGuard, Ermes).
        return this.resolve(
          name,
          `variables('${name}') (a variable of the solution's mainTemplate, absent from this file)`,
          path,
          { templateDefault: false },
        );
      },
    };
    try {
      const value = evaluateArm(placeholdersAsParameters(body), scope);
      if (value === unbound) {
        this.result.unboundPaths.add(pathKey(path));
        return text;
      }
      return typeof value === "string" ? this.bindPlaceholders(value, path) : value;
    } catch (error) {
      if (!(error instanceof ArmExpressionError)) throw error;
      const got = error.got ?? `ARM expression ${JSON.stringify(text)}`;
      // An argument error quotes the argument, which may be a bound secret or a cut of one.
      const leaks = readSecret || [...this.result.secretValues].some((secret) => got.includes(secret));
      this.addError(path, error.expected, leaks ? "<secret>" : got);
      return text;
    }
  }

  /** A setting's value, or `unbound` (after recording an error in `error` mode). */
  private resolve(
    name: string,
    shownAs: string,
    path: JsonPathSegment[],
    { templateDefault = true } = {},
  ): unknown {
    const isSecret = this.result.secretNames.has(name);
    const { settings } = this.context;
    const found = settings.lookup(name, isSecret);
    if (found.found === true) {
      if (isSecret && typeof found.value === "string") this.result.secretValues.add(found.value);
      return found.value;
    }
    if (found.found === "secret-in-file") {
      this.addError(
        path,
        `secret ${shownAs} only from ${settings.where(name, true)}`,
        `a value in settings file ${settings.settingsFile ?? ""} (ignored)`,
      );
      return unbound;
    }
    const fallback = templateDefault ? this.templateDefault(name) : undefined;
    if (fallback !== undefined) return fallback;
    if (this.context.unboundMode === "error") {
      this.addError(path, `a value for ${shownAs} from ${settings.where(name, isSecret)}`, "nothing");
    }
    return unbound;
  }

  private templateDefault(name: string): unknown {
    const spec = this.context.template.parameters[name];
    const value = isRecord(spec) ? getKey(spec, "defaultValue") : undefined;
    // A default that is itself an expression (`[resourceGroup().location]`) is deployment metadata.
    if (typeof value === "string" && armExpressionBody(value) !== undefined) return undefined;
    return value;
  }

  private addError(path: JsonPathSegment[], expected: string, got: string): void {
    const where = this.context.originalPath(path);
    if (this.result.errors.some((e) => e.jsonPath === where && e.expected === expected)) return;
    this.result.errors.push(new DefinitionError(this.context.file, where, expected, got));
  }
}

/**
 * `{{x}}` inside an ARM expression becomes `parameters('x')` (or its text inside a quoted literal), so
 * placeholders are bound before the expression is evaluated without breaking its syntax.
 */
function placeholdersAsParameters(body: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i] as string;
    if (ch === "'") inString = !inString;
    if (!inString && body.startsWith("{{", i)) {
      const end = body.indexOf("}}", i);
      if (end > i) {
        out += `parameters('${body.slice(i + 2, end).trim()}')`;
        i = end + 1;
        continue;
      }
    }
    out += ch;
  }
  return out;
}
