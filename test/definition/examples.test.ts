import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConnectors } from "../../src/definition/load.ts";
import { repoRoot } from "./helpers.ts";

const connectorsDir = path.join(repoRoot, "connectors");
const folders = readdirSync(connectorsDir).filter((f) => !f.startsWith("."));

function sampleEnv(folder: string): Record<string, string> {
  return JSON.parse(readFileSync(path.join(connectorsDir, folder, "settings.sample.json"), "utf8"));
}

describe("shipped connectors", () => {
  it("ships the five sample connectors", () => {
    expect(folders.sort()).toEqual([
      "github-audit",
      "jira-audit",
      "jira-audit-legacy",
      "lastpass",
      "proofpoint-tap",
    ]);
  });

  it.each(folders)("%s loads with its settings sample and nothing else", async (folder) => {
    const result = await loadConnectors([path.join(connectorsDir, folder, "connector.json")], {
      env: sampleEnv(folder),
    });

    expect(result.errors.map((e) => e.message)).toEqual([]);
    expect(result.refused).toEqual([]);
    expect(result.connectors.map((c) => c.id)).toEqual([folder]);
  });

  it("binds the Jira connector's placeholders exactly as the infra template fills them", async () => {
    const env = sampleEnv("jira-audit");
    const result = await loadConnectors([path.join(connectorsDir, "jira-audit")], { env });

    const jira = result.connectors[0];
    expect(jira?.properties).toMatchObject({
      auth: { type: "Basic", userName: "test-user@example.com", password: "test-api-token-jira-0000" },
      request: {
        apiEndpoint: "https://example.atlassian.net/rest/api/3/auditing/record",
        queryWindowInMin: 5,
        queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
        startTimeAttributeName: "from",
        endTimeAttributeName: "to",
      },
      paging: {
        pagingType: "Offset",
        offsetParaName: "offset",
        pageSizeParameterName: "limit",
        pageSize: 1000,
      },
      response: { eventsJsonPaths: ["$.records"] },
      dcrConfig: {
        dataCollectionEndpoint: env.CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT,
        dataCollectionRuleImmutableId: env.CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID,
        streamName: env.CCP_JIRA_AUDIT_STREAMNAME,
      },
    });
    expect(jira?.secrets).toEqual(["test-api-token-jira-0000"]);
    expect(jira?.definitionHash).toMatch(/^[0-9a-f]{16}$/);
  });

  it("ships the legacy Jira copy inactive, so a local run polls Jira once", async () => {
    const result = await loadConnectors([path.join(connectorsDir, "jira-audit-legacy")], {
      env: sampleEnv("jira-audit-legacy"),
    });

    expect(result.connectors[0]?.properties.isActive).toBe(false);
    expect(result.connectors[0]?.sourceKind).toBe("APIPolling");
  });

  it("keeps LastPass's body template tokens for the engine while binding the account number", async () => {
    const result = await loadConnectors([path.join(connectorsDir, "lastpass")], {
      env: sampleEnv("lastpass"),
    });

    expect(result.connectors[0]?.properties.request.queryParametersTemplate).toBe(
      "{'cid': '12345678', 'cmd': 'reporting', 'data': { 'from': '{_QueryWindowStartTime}', 'to': '{_QueryWindowEndTime}' }, '{_APIKeyName}': '{_APIKey}'}",
    );
  });
});
