/**
 * The wiring from app settings to the table an on-call reads: `ccp-poller run` with HEALTH_* settings sends health
 * records to the local stand-in like any stream, and `ccp-poller status --source health` shows each connector's
 * latest one. Real Azurite, the stand-in, the Jira fake over HTTPS and the real clock, in-process through `main`.
 */
import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import type { HealthStatusLine } from "../../src/health/latest.ts";
import { useCliFixture } from "../cli/cli-fixture.ts";
import { jiraRecords } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";

const jiraConnectorFile = path.resolve(import.meta.dirname, "../../connectors/jira-audit/connector.json");
const API_TOKEN = "test-api-token-health-0000";

const azurite = useAzurite();
const fixture = useCliFixture({
  azurite,
  apiToken: API_TOKEN,
  records: (hourAgo) => jiraRecords(20, hourAgo, 180),
  tablePrefix: "Health",
  connectorIds: ["JIRA_AUDIT"],
});

function settings(overrides: Record<string, string> = {}): Record<string, string> {
  return fixture.settings({
    HEALTH_DATA_COLLECTION_ENDPOINT: fixture.standin.endpoint,
    HEALTH_DCR_IMMUTABLE_ID: `dcr-${randomBytes(16).toString("hex")}`,
    ...overrides,
  });
}

async function cli(args: string[], env: Record<string, string>) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, {
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    env,
    prompt: async () => undefined,
  });
  return { code, stdout, stderr };
}

describe("status --source health", () => {
  it("shows the latest health record the run sent through the stand-in", async () => {
    const env = settings();
    const run = await cli(["run", "--definitions", jiraConnectorFile], env);
    expect(run.code).toBe(0);
    expect(run.stderr.join("\n")).not.toContain("health records are off");

    const stored = await fixture.standin.readRows(
      env.HEALTH_DCR_IMMUTABLE_ID ?? "",
      "Custom-CcpPollerHealth",
    );
    // Six windows from a 30-minute look-back, all committed: the first ones are further behind than a healthy
    // connector ever is (Warning), the run catches up (Success), and the windows in between send nothing.
    expect(stored.map((row) => `${row.Status} ${row.OperationName}`)).toEqual([
      "Warning Data fetch status change",
      "Success Data fetch status change",
    ]);
    expect(stored[0]?.Reason).toMatch(/^Lagging: \d+ min behind/);

    const status = await cli(
      ["status", "--source", "health", "--data-dir", fixture.standin.store.dataDir, "--json"],
      env,
    );
    expect(status.code).toBe(0);
    const parsed = JSON.parse(status.stdout.join("\n")) as { connectors: HealthStatusLine[] };
    expect(parsed.connectors).toEqual([
      expect.objectContaining({
        connectorId: "jira-audit",
        status: "Success",
        operation: "Data fetch status change",
        attempt: 1,
        at: stored[1]?.TimeGenerated,
      }),
    ]);

    const table = await cli(
      ["status", "--source", "health", "--data-dir", fixture.standin.store.dataDir],
      env,
    );
    expect(table.stdout[0]).toMatch(/^CONNECTOR\s+STATUS\s+OPERATION/);
    expect(table.stdout[2]).toMatch(/^jira-audit\s+Success\s+Data fetch status change/);
  });

  it("without a health destination the run warns once and sends nothing", async () => {
    const env = settings({ HEALTH_DATA_COLLECTION_ENDPOINT: "", HEALTH_DCR_IMMUTABLE_ID: "" });
    const run = await cli(["run", "--definitions", jiraConnectorFile], env);
    expect(run.code).toBe(0);
    expect(run.stderr.filter((line) => line.includes("health records are off"))).toHaveLength(1);
  });

  it("is a usage error without the stand-in's data folder", async () => {
    const result = await cli(["status", "--source", "health"], settings());
    expect(result.code).toBe(2);
    expect(result.stderr.join("\n")).toContain("expected --data-dir");
  });
});
