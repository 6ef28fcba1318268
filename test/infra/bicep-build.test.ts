/**
 * Compiles and lints every .bicep file under infra/ with the real Bicep CLI and fails on any error or warning (a
 * warning kept on purpose is suppressed in place: `#disable-next-line <rule> // reason`). Then checks the compiled
 * ARM JSON of main.bicep: against the ARM schemas in ../shared/arm-schemas, and for the defects found in review.
 *
 * Bicep comes from PATH, from `az bicep install`/azd, or from the cache bin/install-bicep.sh restores from NuGet
 * (.ci/run does that). Without Bicep and without dotnet the suite skips with one line; under CI it fails instead.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkKql } from "../kql/kql-checks.ts";
import { database } from "../kql/kusto.ts";
import { type ArmValidator, armValidator } from "./arm-schema.ts";
import {
  type BicepRun,
  errorsAndWarnings,
  findBicep,
  howToGetBicep,
  parseDiagnostics,
  runBicep,
} from "./bicep-cli.ts";
import {
  type ArmTemplate,
  assignedRoleIds,
  checkIngestionRegion,
  checkPollerIsActive,
  dcrTransforms,
  ofType,
  resolveVariables,
  resourcesOf,
} from "./compiled-template.ts";
import { bicepRoleIds } from "./infra-checks.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const armSchemasDir = path.join(path.resolve(repoRoot, "../shared"), "arm-schemas");
const haveSchemas = existsSync(armSchemasDir);
const inCi = (process.env.CI ?? "") !== "" && process.env.CI !== "false";

const bicepFiles = (readdirSync(path.join(repoRoot, "infra"), { recursive: true }) as string[])
  .filter((file) => file.endsWith(".bicep"))
  .map((file) => `infra/${file.split(path.sep).join("/")}`)
  .sort();

const lookup = findBicep(repoRoot);
const missing = lookup.bicep === undefined ? `no Bicep CLI (${lookup.reason}); ${howToGetBicep}` : "";
if (missing !== "" && !inCi) console.warn(`Skipping bicep build and lint of infra/: ${missing}`);

describe.runIf(lookup.bicep === undefined && inCi)("bicep under CI", () => {
  it("finds a Bicep CLI, because CI must compile infra/", () => {
    throw new Error(`Under CI, infra/ must be compiled, but there is ${missing}`);
  });
});

describe.skipIf(lookup.bicep === undefined)(
  `bicep build and lint (${lookup.bicep && lookup.version})`,
  () => {
    const bicep = lookup.bicep ?? "bicep";
    let outDir = "";
    let brokenDir = "";
    let build: BicepRun;
    let lint: BicepRun;
    let brokenLint: BicepRun;
    let main: ArmTemplate;

    // One build of all files (each bicep start costs about a second), run alongside the lint runs.
    beforeAll(async () => {
      outDir = mkdtempSync(path.join(os.tmpdir(), "ccp-bicep-out-"));
      brokenDir = mkdtempSync(path.join(os.tmpdir(), "ccp-bicep-broken-"));
      writeFileSync(
        path.join(brokenDir, "broken.bicep"),
        [
          "param unused string",
          "#disable-next-line no-unused-params // kept on purpose: the suppression the real files would use",
          "param kept string",
          "var sum = 1 + 'a'",
          "output sum int = sum",
          "",
        ].join("\n"),
      );
      const pattern = ["--pattern", "infra/**/*.bicep"];
      [build, lint, brokenLint] = await Promise.all([
        runBicep(bicep, ["build", ...pattern, "--outdir", outDir], repoRoot),
        runBicep(bicep, ["lint", ...pattern], repoRoot),
        runBicep(bicep, ["lint", "broken.bicep"], brokenDir),
      ]);
      if (existsSync(path.join(outDir, "main.json"))) {
        main = JSON.parse(readFileSync(path.join(outDir, "main.json"), "utf8")) as ArmTemplate;
      }
    }, 600_000);

    afterAll(() => {
      for (const dir of [outDir, brokenDir]) if (dir !== "") rmSync(dir, { recursive: true, force: true });
    });

    it("compiles every .bicep file under infra/ with no error and no warning", () => {
      const { diagnostics, other } = parseDiagnostics(build.output);
      expect(errorsAndWarnings(diagnostics, repoRoot)).toEqual([]);
      expect(other).toEqual([]);
      expect(build.status).toBe(0);
      const compiled = (readdirSync(outDir, { recursive: true }) as string[])
        .filter((file) => file.endsWith(".json"))
        .map(
          (file) =>
            `infra/${file
              .split(path.sep)
              .join("/")
              .replace(/\.json$/, ".bicep")}`,
        )
        .sort();
      expect(compiled).toEqual(bicepFiles);
      expect(bicepFiles).toContain("infra/modules/sentinel.bicep");
    });

    it("lints every .bicep file under infra/ with no error and no warning", () => {
      const { diagnostics, other } = parseDiagnostics(lint.output);
      expect(errorsAndWarnings(diagnostics, repoRoot)).toEqual([]);
      expect(other).toEqual([]);
      expect(lint.status).toBe(0);
    });

    it("reads a broken file's errors and warnings, and honours #disable-next-line (so the checks above can fail)", () => {
      const { diagnostics, other } = parseDiagnostics(brokenLint.output);
      expect(other).toEqual([]);
      expect(brokenLint.status).not.toBe(0);
      expect(errorsAndWarnings(diagnostics, brokenDir)).toEqual([
        expect.stringMatching(/^broken\.bicep\(1,7\) : Warning no-unused-params: Parameter "unused"/),
        expect.stringMatching(/^broken\.bicep\(4,11\) : Error BCP045: /),
        expect.stringMatching(/^broken\.bicep\(5,18\) : Error BCP062: /),
      ]);
    });

    it("main.json deploys the function app, both DCRs and the native connector", () => {
      const types = resourcesOf(main).map((p) => p.resource.type);
      expect(types).toEqual(
        expect.arrayContaining([
          "Microsoft.Web/sites",
          "Microsoft.Insights/dataCollectionEndpoints",
          "Microsoft.Insights/dataCollectionRules",
          "Microsoft.SecurityInsights/dataConnectorDefinitions",
          "Microsoft.SecurityInsights/dataConnectors",
        ]),
      );
      expect(ofType(resourcesOf(main), "Microsoft.Insights/dataCollectionRules")).toHaveLength(2);
    });

    describe("the defects found in review stay fixed", () => {
      it("the DCE and the DCRs are in the workspace's region, not the location parameter's", () => {
        expect(checkIngestionRegion(main)).toEqual([]);
        const broken = structuredClone(main);
        const dce = ofType(resourcesOf(broken), "Microsoft.Insights/dataCollectionEndpoints")[0];
        if (dce?.deployment === undefined) throw new Error("no DCE module in main.json");
        const params = (dce.deployment.properties as { parameters: Record<string, unknown> }).parameters;
        params.location = { value: "[parameters('location')]" };
        expect(checkIngestionRegion(broken)).toHaveLength(3);
      });

      it("the native RestApiPoller is active", () => {
        expect(checkPollerIsActive(main)).toEqual([]);
        const broken = JSON.parse(JSON.stringify(main).replace(", 'isActive', true()", "")) as ArmTemplate;
        expect(checkPollerIsActive(broken)).toEqual([expect.stringContaining("must set isActive: true")]);
      });

      it("Flex Consumption: azd offers only Flex regions, and the app may scale to at least 40 instances", () => {
        const location = main.parameters?.location;
        expect(location?.metadata?.azd).toEqual({ type: "location" });
        expect(location?.allowedValues).toEqual(
          expect.arrayContaining(["eastus", "westeurope", "swedencentral"]),
        );
        for (const region of location?.allowedValues ?? []) expect(region).toMatch(/^[a-z0-9]+$/);
        expect(location).not.toHaveProperty("defaultValue");

        const functionApp = ofType(resourcesOf(main), "Microsoft.Web/sites")[0]?.template;
        for (const maximumInstanceCount of [
          main.parameters?.maximumInstanceCount,
          functionApp?.parameters?.maximumInstanceCount,
        ]) {
          expect(maximumInstanceCount?.minValue).toBe(40);
          expect(maximumInstanceCount?.maxValue).toBe(1000);
        }
        expect(main.parameters?.maximumInstanceCount?.defaultValue).toBeGreaterThanOrEqual(40);
      });

      it("every DCR transform in main.json analyzes clean over its stream and uses only what transformations support", () => {
        const checkAll = (template: ArmTemplate) => {
          const { transforms, problems } = dcrTransforms(template);
          return [
            ...problems,
            ...transforms.flatMap(({ dcr, transformKql, streamColumns }) =>
              checkKql({
                where: `main.json DCR ${dcr}`,
                kql: transformKql,
                db: database([{ name: "source", columns: streamColumns }]),
                transform: true,
              }),
            ),
          ];
        };
        // The Jira DCRs are one resource (a copy loop over the two tables) with one transform, plus the health DCR.
        expect(dcrTransforms(main).transforms).toHaveLength(2);
        expect(checkAll(main)).toEqual([]);
        const broken = JSON.parse(JSON.stringify(main).replaceAll("iif(", "iff(")) as ArmTemplate;
        expect(checkAll(broken)).toEqual([
          expect.stringMatching(
            /^main\.json DCR \[format\('dcr-jira-audit-.*\(5:18\): function iff is not supported in a DCR transformation/,
          ),
        ]);
      });

      it("the roles read from the Bicep source (what docs/deploying.md is checked against) are the roles main.json assigns", () => {
        const fromSource = [
          ...new Set(
            bicepFiles.flatMap((file) => bicepRoleIds(readFileSync(path.join(repoRoot, file), "utf8"))),
          ),
        ].sort();
        expect(assignedRoleIds(main)).toEqual(fromSource);
        expect(fromSource).toHaveLength(5);
      });
    });

    describe.skipIf(!haveSchemas)("main.json against the ARM schemas (../shared/arm-schemas)", () => {
      let validate: ArmValidator;
      beforeAll(() => {
        validate = armValidator(armSchemasDir);
      });

      const resourceSchemas = [
        [
          "Microsoft.Insights/dataCollectionEndpoints",
          "insights",
          "resourceDefinitions/dataCollectionEndpoints",
        ],
        ["Microsoft.Insights/dataCollectionRules", "insights", "resourceDefinitions/dataCollectionRules"],
        ["Microsoft.OperationalInsights/workspaces", "operationalInsights", "resourceDefinitions/workspaces"],
        [
          "Microsoft.OperationalInsights/workspaces/tables",
          "operationalInsights",
          "resourceDefinitions/workspaces_tables",
        ],
      ] as const;

      it("every DCE, DCR, workspace and table resource is valid as its resource schema declares it", () => {
        const placed = resourcesOf(main);
        for (const [type, schema, definition] of resourceSchemas) {
          // `existing` declarations (languageVersion 2.0 lists them as resources) deploy nothing.
          const resources = ofType(placed, type).filter((p) => p.resource.existing !== true);
          expect(resources.length, type).toBeGreaterThan(0);
          for (const { resource, template } of resources) {
            const resolved = resolveVariables(resource, template.variables);
            expect(validate(schema, definition, resolved), `${type} ${resource.name}`).toEqual([]);
          }
        }
      });

      it("the values Bicep moved into variables are checked, not waved through as expressions", () => {
        const tables = ofType(resourcesOf(main), "Microsoft.OperationalInsights/workspaces/tables");
        const first = tables[0];
        if (first === undefined) throw new Error("no table in main.json");
        const resolved = resolveVariables(first.resource, first.template.variables) as {
          properties: { schema: { columns: { name: string; type: string }[] } };
        };
        expect(resolved.properties.schema.columns.length).toBeGreaterThan(5);
        resolved.properties.schema.columns.push({ name: "Seen", type: "datetime" });
        expect(
          validate("operationalInsights", "resourceDefinitions/workspaces_tables", resolved).length,
        ).toBeGreaterThan(0);
      });

      it("the connector definition and the onboarding state are valid Sentinel properties", () => {
        const placed = resourcesOf(main);
        const definitions = ofType(placed, "Microsoft.SecurityInsights/dataConnectorDefinitions");
        const onboarding = ofType(placed, "Microsoft.SecurityInsights/onboardingStates");
        expect(definitions).toHaveLength(1);
        expect(onboarding).toHaveLength(1);
        for (const { resource, template } of definitions) {
          expect(resource.kind).toBe("Customizable");
          const properties = resolveVariables(resource.properties, template.variables) as Record<
            string,
            unknown
          >;
          expect(typeof properties.connectorUiConfig).toBe("object");
          expect(
            validate("securityInsights", "CustomizableConnectorDefinitionProperties", properties),
          ).toEqual([]);
        }
        for (const { resource } of onboarding) {
          expect(
            validate("securityInsights", "SentinelOnboardingStateProperties", resource.properties),
          ).toEqual([]);
        }
      });
    });
  },
);
