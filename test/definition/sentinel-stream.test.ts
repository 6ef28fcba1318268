import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadConnectors } from "../../src/definition/load.ts";
import { errorMessages, loadObject, sharedDir, testEnv, validResource } from "./helpers.ts";

function withStream(stream: string): Record<string, unknown> {
  const r = validResource();
  (r.properties as { dcrConfig: Record<string, unknown> }).dcrConfig.streamName = stream;
  return r;
}

describe("a Sentinel-owned stream", () => {
  it.each(["SENTINEL_GOOGLEWORKSPACEREPORTS", "ILUMIO_INSIGHTS"])(
    "%s without a mapping is refused, saying which setting maps it",
    (stream) => {
      const result = loadObject(withStream(stream));

      expect(errorMessages(result)).toEqual([]);
      expect(result.connectors).toEqual([]);
      expect(result.refused).toEqual([
        expect.objectContaining({ jsonPath: "$.properties.dcrConfig.streamName", code: "builtin-stream" }),
      ]);
      expect(result.refused[0]?.reason).toContain(`stream ${stream} is Sentinel-owned`);
      expect(result.refused[0]?.reason).toContain(
        'set environment variable CCP_T_STREAMNAME or "streamName" under "t" in the settings file',
      );
    },
  );

  it("runs into the user's Custom-* stream when mapped, from the environment or the settings file", () => {
    const fromEnv = loadObject(withStream("SENTINEL_QUALYSKNOWLEDGEBASE"), {
      env: { ...testEnv, CCP_T_STREAMNAME: "Custom-QualysKB" },
    });
    expect(errorMessages(fromEnv)).toEqual([]);
    expect(fromEnv.refused).toEqual([]);
    expect(fromEnv.connectors[0]?.properties.dcrConfig).toEqual({
      dataCollectionEndpoint: "https://test-dce.example.test",
      dataCollectionRuleImmutableId: "dcr-00000000000000000000000000000000",
      streamName: "Custom-QualysKB",
    });

    const fromFile = loadObject(withStream("ILUMIO_INSIGHTS"), {
      settings: { t: { streamName: "Custom-IllumioInsights" } },
    });
    expect(fromFile.connectors[0]?.properties.dcrConfig?.streamName).toBe("Custom-IllumioInsights");
  });

  it("rejects a mapping that is not a Custom-* stream", () => {
    const result = loadObject(withStream("SENTINEL_GCPAPIGEE"), {
      env: { ...testEnv, CCP_T_STREAMNAME: "Microsoft-GCPApigee" },
    });
    expect(errorMessages(result)).toEqual([
      'bad.json: $.properties.dcrConfig.streamName — expected a stream name starting with Custom-, got string "Microsoft-GCPApigee"',
    ]);
  });

  it("loads for a structure-only check, with the instruction as a warning", () => {
    const result = loadObject(withStream("SENTINEL_GCPAPIGEE"), { unbound: "keep" });
    expect(errorMessages(result)).toEqual([]);
    expect(result.connectors).toHaveLength(1);
    expect(result.warnings.filter((w) => w.code === "builtin-stream").map((w) => w.jsonPath)).toEqual([
      "$.properties.dcrConfig.streamName",
    ]);
  });

  it("maps each Google Workspace Reports poller by its own connector id", async () => {
    const file = path.join(
      sharedDir,
      "ccp-corpus",
      "GoogleWorkspaceReports__GoogleWorkspaceReports_PollingConfig.json",
    );
    const result = await loadConnectors([file], {
      env: { CCP_GOOGLEWORKSPACEADMIN_STREAMNAME: "Custom-GoogleWorkspaceAdmin" },
      unbound: "keep",
    });
    const admin = result.connectors.find((c) => c.id === "GoogleWorkspaceAdmin");
    expect(admin?.properties.dcrConfig?.streamName).toBe("Custom-GoogleWorkspaceAdmin");
    expect(result.warnings.filter((w) => w.code === "builtin-stream")).toHaveLength(20);
  });
});
