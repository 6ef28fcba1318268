import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { refusalCodes } from "../../src/definition/errors.ts";
import { type LoadResult, loadConnectors } from "../../src/definition/load.ts";
import { sharedDir } from "./helpers.ts";

const corpusDir = path.join(sharedDir, "ccp-corpus");
const corpusPresent = existsSync(corpusDir);
if (!corpusPresent)
  console.warn(`corpus conformance skipped: ${corpusDir} is absent (clone ../shared beside the repo)`);

/** MANIFEST.tsv: local_name → kind (RestApiPoller, APIPolling, OCI, GCP, Push, DCR, table, definition…). */
function manifestKinds(): Map<string, string> {
  const lines = readFileSync(path.join(corpusDir, "MANIFEST.tsv"), "utf8").trim().split("\n").slice(1);
  return new Map(lines.map((line) => line.split("\t")).map((cols) => [cols[0] as string, cols[4] as string]));
}

describe.skipIf(!corpusPresent)("corpus conformance (../shared/ccp-corpus)", () => {
  it("loads or refuses, with a documented code, every poller of every file, and explains every other file", async () => {
    const kinds = manifestKinds();
    const files = readdirSync(corpusDir).filter((f) => f.endsWith(".json"));
    const tally = { files: files.length, loaded: 0, refused: new Map<string, number>(), companions: 0 };
    const unexplained: string[] = [];

    for (const name of files) {
      // Structure only: the corpus leaves every {{placeholder}} and parameter for the portal to fill.
      const result: LoadResult = await loadConnectors([path.join(corpusDir, name)], {
        env: {},
        unbound: "keep",
      });
      unexplained.push(...result.errors.map((e) => e.message));
      for (const refusal of result.refused) {
        expect(Object.keys(refusalCodes)).toContain(refusal.code);
        tally.refused.set(refusal.code, (tally.refused.get(refusal.code) ?? 0) + 1);
      }
      tally.loaded += result.connectors.length;
      const kind = kinds.get(name);
      const handled = result.connectors.length + result.refused.length;
      if (kind === "RestApiPoller" || kind === "APIPolling") {
        expect(handled, `${name} holds pollers`).toBeGreaterThan(0);
      } else if (handled === 0) {
        expect(
          result.warnings.map((w) => w.code),
          `${name} (${kind})`,
        ).toContain("no-poller");
        tally.companions++;
      } else {
        expect(
          result.refused.map((r) => r.code),
          `${name} (${kind})`,
        ).toEqual(["unsupported-kind"]);
      }
    }

    console.log(
      `corpus tally: ${tally.files} files, ${tally.loaded} pollers loaded, ` +
        `${[...tally.refused.values()].reduce((a, b) => a + b, 0)} refused (${[...tally.refused].map(([c, n]) => `${c} ${n}`).join(", ")}), ` +
        `${tally.companions} companion files (DCR, table, definition)`,
    );
    expect(unexplained).toEqual([]);
    expect(tally.loaded).toBeGreaterThan(100);
  });

  it("loads every nested (stepInfo) poller, none refused; a stepId naming no entry takes the sole one with a warning", async () => {
    const files = readdirSync(corpusDir).filter(
      (f) => f.endsWith(".json") && readFileSync(path.join(corpusDir, f), "utf8").includes("stepInfo"),
    );
    const nested: string[] = [];
    const unmatched: string[] = [];
    for (const name of files) {
      const result = await loadConnectors([path.join(corpusDir, name)], { env: {}, unbound: "keep" });
      expect(result.refused, name).toEqual([]);
      expect(result.errors, name).toEqual([]);
      for (const c of result.connectors.filter((c) => c.properties.stepInfo)) nested.push(c.id);
      for (const w of result.warnings.filter((w) => w.code === "step-id-unmatched")) {
        unmatched.push(`${name.split("__")[0]} ${w.jsonPath}`);
      }
    }
    expect(nested).toHaveLength(13);
    expect(unmatched).toEqual([
      "CrowdStrike_Falcon_Endpoint_Protection $[2].properties.stepInfo.nextSteps[0].stepId",
      "CyberArkAudit $[0].properties.stepInfo.nextSteps[0].stepId",
    ]);
  });

  it("maps the legacy Jira template's pollingConfig onto the canonical model", async () => {
    const file = path.join(corpusDir, "AtlassianJiraAudit__azuredeploy_Jira_native_poller_connector.json");
    const result = await loadConnectors([file], { env: {}, unbound: "keep" });

    const [connector] = result.connectors;
    expect(connector?.sourceKind).toBe("APIPolling");
    expect(connector?.properties.paging).toMatchObject({
      pagingType: "Offset",
      pageSizeParameterName: "limit",
    });
    expect(connector?.properties.request.httpMethod).toBe("GET");
  });

  it("loads Cortex XDR's body-range pollers without the query-string offset warnings", async () => {
    const file = path.join(corpusDir, "Palo_Alto_Cortex_XDR_CCP__PollingConfig.json");
    const result = await loadConnectors([file], { env: {}, unbound: "keep" });

    expect(result.refused).toEqual([]);
    expect(result.connectors.map((c) => c.properties.paging)).toContainEqual(
      expect.objectContaining({
        pagingType: "Offset",
        offsetParaName: "$.request_data.search_from",
        offsetEndParaName: "$.request_data.search_to",
        pageSize: 100,
      }),
    );
    const codes = result.warnings.map((w) => w.code);
    for (const code of ["offset-first-call", "page-size-not-sent", "post-paging-placement"]) {
      expect(codes).not.toContain(code);
    }
  });

  it("refuses the OCI connector by kind at the resource's own path", async () => {
    const file = path.join(corpusDir, "Oracle_Cloud_Infrastructure__OCI_DataConnector_PollingConfig.json");
    const result = await loadConnectors([file], { env: {}, unbound: "keep" });

    expect(result.refused.map((r) => [r.jsonPath, r.code])).toEqual([["$[0]", "unsupported-kind"]]);
  });

  it("reports the typo'd runtime token in the Zoom poller instead of guessing", async () => {
    const file = path.join(corpusDir, "ZoomReports__ZoomReportsCCP__ZOOMREPORTLOG_PollingConfig.json");
    const result = await loadConnectors([file], { env: {}, unbound: "keep" });

    expect(result.warnings.filter((w) => w.code === "unknown-runtime-token").map((w) => w.jsonPath)).toEqual([
      "$[3].properties.request.queryParameters.to",
    ]);
  });
});
