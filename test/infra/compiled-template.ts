/**
 * Readers of the ARM JSON that `bicep build infra/main.bicep` produces (modules become nested deployments with
 * their template inline) and checkers over it that return a list of problems (empty = fine), so each can be fed a
 * broken template in a test.
 */

export interface ArmParameter {
  type: string;
  defaultValue?: unknown;
  minValue?: number;
  maxValue?: number;
  allowedValues?: unknown[];
  metadata?: Record<string, unknown>;
}

export interface ArmResource {
  type: string;
  apiVersion: string;
  name: string;
  kind?: string;
  location?: string;
  properties?: unknown;
  [key: string]: unknown;
}

export interface ArmTemplate {
  parameters?: Record<string, ArmParameter>;
  variables?: Record<string, unknown>;
  /** An array, or an object keyed by symbolic name when Bicep emits languageVersion 2.0. */
  resources: ArmResource[] | Record<string, ArmResource>;
  outputs?: Record<string, { type: string; value: unknown }>;
}

/** A resource with the template that declares it and, for a module's resources, the deployment calling it. */
export interface PlacedResource {
  resource: ArmResource;
  template: ArmTemplate;
  deployment?: ArmResource;
}

const deploymentType = "Microsoft.Resources/deployments";

export function resourcesOf(template: ArmTemplate, deployment?: ArmResource): PlacedResource[] {
  const list = Array.isArray(template.resources) ? template.resources : Object.values(template.resources);
  return list.flatMap((resource) => {
    const here: PlacedResource = { resource, template, ...(deployment ? { deployment } : {}) };
    const nested = (resource.properties as { template?: ArmTemplate } | undefined)?.template;
    return resource.type === deploymentType && nested ? [here, ...resourcesOf(nested, resource)] : [here];
  });
}

export function ofType(placed: readonly PlacedResource[], type: string): PlacedResource[] {
  return placed.filter((p) => p.resource.type.toLowerCase() === type.toLowerCase());
}

/** The nested template of the module that declares a resource of `type`. */
export function moduleDeclaring(template: ArmTemplate, type: string): PlacedResource | undefined {
  const declaring = ofType(resourcesOf(template), type)[0];
  return resourcesOf(template).find(
    (p) => p.resource.type === deploymentType && p.resource === declaring?.deployment,
  );
}

const variableAccess = /^\[variables\('([^']+)'\)((?:\.\w+)*)\]$/;

/**
 * Replaces every string that is exactly `[variables('name').a.b]` with that variable's value (itself resolved),
 * so values Bicep moved into variables (loadJsonContent, loadTextContent, shared vars) can be checked. Any other
 * expression is left as it is.
 */
export function resolveVariables(value: unknown, variables: Record<string, unknown> = {}): unknown {
  if (typeof value === "string") {
    const m = variableAccess.exec(value);
    const name = m?.[1];
    if (m === null || name === undefined || !(name in variables)) return value;
    let resolved: unknown = resolveVariables(variables[name], variables);
    for (const key of (m[2] ?? "").split(".").filter((k) => k !== "")) {
      resolved = (resolved as Record<string, unknown> | undefined)?.[key];
    }
    return resolved === undefined ? value : resolved;
  }
  if (Array.isArray(value)) return value.map((item) => resolveVariables(item, variables));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveVariables(v, variables)]));
  }
  return value;
}

const workspaceType = "Microsoft.OperationalInsights/workspaces";

/**
 * DCE and DCRs take the workspace's region: each one's location is a module parameter that main.bicep fills from
 * the new workspace module's output or the existing workspace's own location, never from main's `location`.
 */
export function checkIngestionRegion(template: ArmTemplate): string[] {
  const problems: string[] = [];
  const placed = resourcesOf(template);
  const targets = [
    ...ofType(placed, "Microsoft.Insights/dataCollectionEndpoints"),
    ...ofType(placed, "Microsoft.Insights/dataCollectionRules"),
  ];
  if (targets.length === 0) problems.push("main.json: no DCE or DCR found");
  for (const { resource, deployment } of targets) {
    const param = /^\[parameters\('(\w+)'\)\]$/.exec(resource.location ?? "")?.[1];
    const passed = param && deployment ? (deployment.properties as { parameters?: unknown }).parameters : {};
    const given = JSON.stringify(
      param ? ((passed as Record<string, unknown> | undefined)?.[param] ?? passed) : resource.location,
    );
    const fromNewWorkspace = given.includes("outputs.location.value");
    const fromExistingWorkspace = given.includes(`'${workspaceType}'`) && given.includes("'full').location");
    if (!param || !fromNewWorkspace || !fromExistingWorkspace || given.includes("parameters('location')")) {
      problems.push(
        `${resource.type} ${resource.name}: location must come from the workspace (new or existing), got ${given}`,
      );
    }
  }
  const workspaceModule = moduleDeclaring(template, workspaceType);
  const output = JSON.stringify(
    (workspaceModule?.resource.properties as { template?: ArmTemplate } | undefined)?.template?.outputs
      ?.location,
  );
  if (!output?.includes(`'${workspaceType}'`) || !output.includes("'full').location")) {
    problems.push(`the new workspace module must output its workspace's location, got ${output}`);
  }
  return problems;
}

/** The native poller's properties: the bound file united with what the template sets, isActive: true included. */
export function checkPollerIsActive(template: ArmTemplate): string[] {
  const pollers = ofType(resourcesOf(template), "Microsoft.SecurityInsights/dataConnectors").filter(
    (p) => p.resource.kind === "RestApiPoller",
  );
  if (pollers.length !== 1) return [`main.json: expected one RestApiPoller, found ${pollers.length}`];
  const properties = JSON.stringify(pollers[0]?.resource.properties);
  return /'isActive', true\(\)/.test(properties)
    ? []
    : [`the RestApiPoller must set isActive: true: ${properties}`];
}

export interface DcrTransform {
  /** The DCR's resource name expression, to name it in problems. */
  dcr: string;
  transformKql: string;
  /** The columns of the stream the transform reads (its `source`). */
  streamColumns: { name: string; type: string }[];
}

/**
 * Each DCR data flow's transformKql and its input stream's columns, as deployed (values Bicep moved into variables
 * resolved); a problem for a transform that is not a literal text or a DCR whose stream cannot be told (the
 * declarations' keys are expressions, so a DCR must declare exactly one stream).
 */
export function dcrTransforms(template: ArmTemplate): { transforms: DcrTransform[]; problems: string[] } {
  const transforms: DcrTransform[] = [];
  const problems: string[] = [];
  for (const { resource, template: declaring } of ofType(
    resourcesOf(template),
    "Microsoft.Insights/dataCollectionRules",
  )) {
    const properties = resolveVariables(resource.properties, declaring.variables) as {
      streamDeclarations?: Record<string, { columns?: unknown }>;
      dataFlows?: { transformKql?: unknown }[];
    };
    const declarations = Object.values(properties.streamDeclarations ?? {});
    const columns = declarations[0]?.columns;
    if (declarations.length !== 1 || !Array.isArray(columns)) {
      problems.push(`${resource.name}: expected one stream declaration with literal columns`);
      continue;
    }
    for (const flow of properties.dataFlows ?? []) {
      const kql = flow.transformKql;
      if (typeof kql !== "string" || kql.startsWith("[")) {
        problems.push(`${resource.name}: transformKql is not a literal text: ${JSON.stringify(kql)}`);
      } else transforms.push({ dcr: resource.name, transformKql: kql, streamColumns: columns });
    }
  }
  return { transforms, problems };
}

const guidPattern = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/** The role definition ids the template assigns (literal, or in variables of the declaring template). */
export function assignedRoleIds(template: ArmTemplate): string[] {
  const ids = ofType(resourcesOf(template), "Microsoft.Authorization/roleAssignments").flatMap(
    ({ resource, template: declaring }) => {
      const expression = String((resource.properties as { roleDefinitionId?: unknown }).roleDefinitionId);
      const fromVariables = [...expression.matchAll(/variables\('([^']+)'\)/g)].map((m) =>
        String(declaring.variables?.[m[1] ?? ""] ?? ""),
      );
      return [expression, ...fromVariables].flatMap((text) =>
        [...text.matchAll(guidPattern)].map((m) => m[0]),
      );
    },
  );
  return [...new Set(ids.map((id) => id.toLowerCase()))].sort();
}

/** The docs section that lists what `azd up` creates (docs/deploying.md): from its heading to the next heading of any level. */
export function readmeSection(readme: string, heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  if (start < 0) return "";
  const rest = readme.slice(start + heading.length + 2);
  const end = rest.search(/^#{1,6} /m);
  return end < 0 ? rest : rest.slice(0, end);
}

export function checkRolesDocumented(
  roleIds: readonly string[],
  roleNames: Readonly<Record<string, string>>,
  section: string,
): string[] {
  return roleIds.flatMap((id) => {
    const name = roleNames[id];
    if (name === undefined)
      return [`role ${id} is assigned but has no name in the test's table of built-in roles`];
    return section.includes(name)
      ? []
      : [`docs/deploying.md "What gets created" does not name the role ${name} (${id})`];
  });
}
