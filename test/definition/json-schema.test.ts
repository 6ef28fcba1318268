import { readFileSync } from "node:fs";
import path from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { connectorJsonSchemaText } from "../../src/definition/json-schema.ts";
import { repoRoot } from "./helpers.ts";

const committedPath = path.join(repoRoot, "schema/connector.schema.json");

describe("schema/connector.schema.json", () => {
  it("is what `npm run schema` writes today (run it after changing src/definition/schema.ts)", () => {
    expect(readFileSync(committedPath, "utf8")).toBe(connectorJsonSchemaText());
  });

  it("accepts the shipped Jira connector's properties (placeholders filled in) and rejects a broken copy", () => {
    const validate = new Ajv2020({ strict: false }).compile(JSON.parse(readFileSync(committedPath, "utf8")));
    const text = readFileSync(path.join(repoRoot, "connectors/jira-audit/connector.json"), "utf8");
    const jira = JSON.parse(text.replaceAll("{{streamName}}", "Custom-JiraAudit_CL"));

    expect(validate(jira.properties)).toBe(true);
    expect(
      validate({ ...jira.properties, request: { ...jira.properties.request, queryWindowInMin: "5" } }),
    ).toBe(false);
  });
});
