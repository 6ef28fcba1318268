import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { connectorJsonSchemaText } from "../../src/definition/json-schema.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const run = promisify(execFile);

/** Runs the real bin script as a child process; resolves with its exit code and output. */
async function ccpPoller(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["bin/ccp-poller.js", ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? "" },
      timeout: 20_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

async function inProcess(args: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(args, { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l), env });
  return { code, stdout, stderr };
}

describe("ccp-poller validate", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "ccp-cli-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints one OK line per shipped connector and exits 0 (child process)", async () => {
    const folders = await readdir(path.join(repoRoot, "connectors"));
    const envFiles = folders.flatMap((f) => ["--env-file", `connectors/${f}/settings.sample.json`]);

    const result = await ccpPoller(["validate", "connectors", ...envFiles]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      "OK jira-audit (auth Basic, paging Offset, window 5 min) connectors/jira-audit/connector.json",
    );
    expect(result.stdout).toContain("5 connector(s) OK, 0 refused, 0 error(s), 2 warning(s)");
    expect(result.stderr).toContain("warning [offset-first-call]");
    expect(result.stdout + result.stderr).not.toContain("test-api-token-jira-0000");
  });

  it("prints every error and exits 1 on a broken definition (child process)", async () => {
    const broken = path.join(dir, "broken.json");
    await writeFile(broken, JSON.stringify({ auth: { type: "None" }, request: { queryWindowInMin: "x" } }));

    const result = await ccpPoller(["validate", broken]);

    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toEqual([
      `${broken}: $.request.apiEndpoint — expected a string, got nothing`,
      `${broken}: $.request.queryWindowInMin — expected a number, got string "x"`,
      `${broken}: $.response — expected an object, got nothing`,
    ]);
  });

  it("checks structure only when asked, so unbound placeholders are not errors", async () => {
    const result = await inProcess([
      "validate",
      "--structure-only",
      path.join(repoRoot, "connectors/jira-audit"),
    ]);

    expect(result.code).toBe(0);
    expect(result.stdout[0]).toMatch(/^OK jira-audit \(auth Basic, paging Offset, window 5 min\)/);
  });

  it("reads non-secret values from the settings file named by CONNECTOR_SETTINGS_FILE", async () => {
    const settings = path.join(dir, "settings.json");
    const sample = JSON.parse(
      await readFile(path.join(repoRoot, "connectors/jira-audit/settings.sample.json"), "utf8"),
    );
    await writeFile(settings, JSON.stringify({ "jira-audit": { domain: "from-file.example.test" } }));
    const { CCP_JIRA_AUDIT_DOMAIN: _fromFile, ...env } = sample;

    const result = await inProcess(["validate", path.join(repoRoot, "connectors/jira-audit")], {
      ...env,
      CONNECTOR_SETTINGS_FILE: settings,
    });

    expect(result.stderr.filter((l) => !l.includes("warning"))).toEqual([]);
    expect(result.code).toBe(0);
  });

  it("reports an --env-file that is not JSON with its line and column, and exits 1", async () => {
    const envFile = path.join(dir, "env.json");
    await writeFile(envFile, '{ "CCP_X": 1, }');

    const result = await inProcess([
      "validate",
      "--env-file",
      envFile,
      path.join(repoRoot, "connectors/jira-audit"),
    ]);

    expect(result.code).toBe(1);
    expect(result.stderr).toEqual([
      `${envFile}: $ (line 1, column 15) — expected a property name after ',' (no trailing commas in JSON), got "}"`,
    ]);
  });

  it("lists refusals with their code and exits 0 when nothing is an error", async () => {
    const gcp = path.join(dir, "gcp.json");
    await writeFile(
      gcp,
      JSON.stringify({ type: "Microsoft.SecurityInsights/dataConnectors", kind: "GCP", properties: {} }),
    );

    const result = await inProcess(["validate", gcp]);

    expect(result.code).toBe(0);
    expect(result.stdout[0]).toBe(
      `${gcp}: $ — refused [unsupported-kind] kind "GCP" is not RestApiPoller or APIPolling (with pollingConfig); only REST pollers run here`,
    );
  });
});

describe("ccp-poller schema", () => {
  it("prints the JSON Schema, or writes it with --out", async () => {
    const printed = await inProcess(["schema"]);
    expect(printed.code).toBe(0);
    expect(`${printed.stdout.join("\n")}\n`).toBe(connectorJsonSchemaText());

    const dir = await mkdtemp(path.join(tmpdir(), "ccp-schema-"));
    try {
      const out = path.join(dir, "schema.json");
      expect((await inProcess(["schema", "--out", out])).code).toBe(0);
      expect(await readFile(out, "utf8")).toBe(connectorJsonSchemaText());
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("exits 2 (usage error) on an unknown command", async () => {
    const result = await inProcess(["frobnicate"]);

    expect(result.code).toBe(2);
    expect(result.stderr.join("\n")).toContain("unknown command 'frobnicate'");
  });
});
