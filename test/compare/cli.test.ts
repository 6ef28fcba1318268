import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Command } from "commander";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createCompareCommand } from "../../src/cli/commands/compare.ts";
import { main } from "../../src/cli/main.ts";
import { createLogsQueryClient } from "../../src/compare/index.ts";
import { createRowStore } from "../../src/local/standin/row-store.ts";
import { asTableRow, type LogsQueryStandin, startLogsQueryStandin } from "./logs-query-standin.ts";
import { FROM, type Seed, seededRows, TO } from "./scenario.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const DCR_ID = "dcr-00000000000000000000000000000001";
const STREAM = "Custom-JiraAuditRecords";
/** The shipped connector's values, as a local run sets them. */
const env = {
  CONNECTORS_DIR: path.join(repoRoot, "connectors/jira-audit"),
  CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: DCR_ID,
  CCP_JIRA_AUDIT_STREAMNAME: STREAM,
};

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "ccp-compare-cli-"));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

/** ccp-poller's rows under the connector's DCR, the native side under the `ccp-native` convention. */
async function storeSeeded(...seeds: Seed[]) {
  const rows = seededRows(...seeds);
  const store = createRowStore(dataDir);
  await store.append(DCR_ID, STREAM, rows.func);
  await store.append("ccp-native", STREAM, rows.ccp);
}

async function compare(...args: string[]) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(
    ["compare", "--connector", "jira-audit", "--from", FROM, "--to", TO, "--data-dir", dataDir, ...args],
    { stdout: (l) => stdout.push(l), stderr: (l) => stderr.push(l), env },
  );
  return { code, stdout: stdout.join("\n"), stderr: stderr.join("\n") };
}

describe("ccp-poller compare (local stand-in streams)", () => {
  it("prints a table with one row per window and an EQUAL verdict, exit 0", async () => {
    await storeSeeded();

    const result = await compare();

    expect(result.code).toBe(0);
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe(
      "jira-audit: 2026-01-01T10:00:00.000Z .. 2026-01-01T10:15:00.000Z, windows of 5 min on created",
    );
    expect(lines[1]).toMatch(
      /^window \(UTC\)\s+func\s+ccp\s+only func\s+only ccp\s+dup func\s+dup ccp\s+changed\s+moved/,
    );
    expect(lines[2]).toMatch(/^-+ {2}-+/);
    expect(lines[3]).toMatch(
      /^2026-01-01 10:00–10:05\s+4\s+4\s+0\s+0\s+0\s+0\s+0\s+0\s+10:00:30 \/ 10:00:30\s+10:04:15 \/ 10:04:15\s+equal$/,
    );
    expect(lines.at(-1)).toBe("Verdict: EQUAL: 3 window(s), 12 rows in func, 12 in ccp");
  });

  it("lists each difference under its window and exits 1", async () => {
    await storeSeeded("missingPage", "duplicatedPage", "transformedField", "shiftedBoundary");

    const result = await compare();

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^2026-01-01 10:00–10:05\s+4\s+2\s+2\s+0\s+.*DIFFERENT$/m);
    expect(result.stdout).toContain(
      "  only in func (2): 3 (2026-01-01T10:03:00.000Z), 4 (2026-01-01T10:04:15.000Z)",
    );
    expect(result.stdout).toContain("  duplicated in func (2): 5 ×2, 6 ×2");
    expect(result.stdout).toContain(
      '  changed 9 (2026-01-01T10:10:30.000Z): summary: func "User created 9" / ccp "USER CREATED 9"',
    );
    expect(result.stdout).toContain(
      '  moved across a window boundary (1): 13 (func 2026-01-01T10:09:59.600Z in window 2026-01-01T10:05:00.000Z, ccp 2026-01-01T10:10:00.000Z in window 2026-01-01T10:10:00.000Z; created: func "2026-01-01T10:09:59.600Z" / ccp "2026-01-01T10:10:00.000Z")',
    );
    expect(result.stdout.split("\n").at(-1)).toBe(
      "Verdict: DIFFERENT: 3 of 3 window(s) differ (15 rows in func, 11 in ccp): 2 only in func, 2 duplicated in func, 1 changed, 1 moved across a window boundary",
    );
  });

  it("--json prints the whole result as JSON, with the streams it read", async () => {
    await storeSeeded("missingPage");

    const result = await compare("--json");

    expect(result.code).toBe(1);
    const parsed = JSON.parse(result.stdout);
    expect(parsed.totals.onlyIn).toEqual({ func: 2, ccp: 0 });
    expect(parsed.windows).toHaveLength(3);
    expect(parsed.sources).toEqual({
      func: `stand-in ${dataDir} ${DCR_ID}/${STREAM}`,
      ccp: `stand-in ${dataDir} ccp-native/${STREAM}`,
    });
    expect(parsed.columns.ignore).toContain("TimeGenerated");
  });

  it("--report writes a Markdown report with the verdict, the windows, the differences and the query", async () => {
    await storeSeeded("transformedField");
    const file = path.join(dataDir, "parity.md");

    const result = await compare("--report", file);

    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`Report written to ${file}`);
    const report = await readFile(file, "utf8");
    expect(report).toContain("# Parity compare: jira-audit");
    expect(report).toContain(
      "**Verdict: DIFFERENT: 1 of 3 window(s) differ (12 rows in func, 12 in ccp): 1 changed**",
    );
    expect(report).toContain("| 2026-01-01 10:10–10:15 | 4 | 4 | 0 | 0 | 0 | 0 | 1 | 0 |");
    expect(report).toContain("### 2026-01-01 10:10–10:15");
    expect(report).toContain(
      '- changed 9 (2026-01-01T10:10:30.000Z): summary: func "User created 9" / ccp "USER CREATED 9"',
    );
    expect(report).toContain(
      "```kql\n// ccp-poller compare: event time created in [2026-01-01T10:00:00.000Z, 2026-01-01T10:05:00.000Z)",
    );
  });

  it("--show-query prints each window's KQL on stderr, leaving --json output parsable", async () => {
    await storeSeeded();

    const result = await compare("--show-query", "--json");

    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).totals.equal).toBe(true);
    expect(result.stderr.match(/^union$/gm)).toHaveLength(3);
    expect(result.stderr).toContain(
      '    (JiraAudit_Func_CL | extend Side = "func"),\n    (JiraAudit_CCP_CL | extend Side = "ccp")',
    );
    expect(result.stderr).toContain(
      "| where todatetime(created) >= datetime(2026-01-01T10:10:00.000Z) and todatetime(created) < datetime(2026-01-01T10:15:00.000Z)",
    );
  });

  it("--ignore leaves a column out of the comparison", async () => {
    await storeSeeded("transformedField");

    expect((await compare("--ignore", "summary,description")).code).toBe(0);
  });

  it("exits 2 with the reason when it cannot compare", async () => {
    const unknown = await compare("--connector", "nope");
    const badTime = await compare("--from", "yesterday");
    const noWorkspace = await compare("--source", "azure");
    const badTable = await compare("--show-query", "--func-table", "Jira Audit");
    const missingOption = await compare("--connector");

    expect([unknown.code, badTime.code, noWorkspace.code, badTable.code, missingOption.code]).toEqual([
      2, 2, 2, 2, 2,
    ]);
    expect(unknown.stderr).toContain('no connector "nope" (found: jira-audit)');
    expect(badTime.stderr).toBe(
      'compare: --from: expected an ISO 8601 time such as 2026-01-01T00:00:00Z, got "yesterday"',
    );
    expect(noWorkspace.stderr).toContain(
      "--source azure: expected --workspace or LOG_ANALYTICS_WORKSPACE_ID",
    );
    expect(badTable.stderr).toContain(
      'func table: expected a table or column name (letters, digits, _), got "Jira Audit"',
    );
  });
});

describe("ccp-poller compare --source azure", () => {
  let standin: LogsQueryStandin;
  beforeAll(async () => {
    standin = await startLogsQueryStandin();
  });
  afterAll(async () => {
    await standin.stop();
  });
  const standinClient = () =>
    createLogsQueryClient(standin.credential, {
      endpoint: standin.endpoint,
      tlsOptions: { ca: standin.caCertPem },
      retryOptions: { maxRetries: 0 },
    });

  it("queries the workspace from LOG_ANALYTICS_WORKSPACE_ID and reports like the local source", async () => {
    const rows = seededRows("missingPage");
    standin.tables.set(
      "JiraAudit_Func_CL",
      rows.func.map((row) => asTableRow(row, "2026-01-01T10:20:00.000Z")),
    );
    standin.tables.set(
      "JiraAudit_CCP_CL",
      rows.ccp.map((row) => asTableRow(row, "2026-01-01T10:20:00.000Z")),
    );
    const stdout: string[] = [];
    let code = -1;
    const program = new Command("ccp-poller").exitOverride();
    createCompareCommand({ createLogsQueryClient: standinClient }).register(
      program,
      {
        stdout: (l) => stdout.push(l),
        stderr: () => {},
        env: { ...env, LOG_ANALYTICS_WORKSPACE_ID: "ws-test" },
      },
      (c) => {
        code = c;
      },
    );

    await program.parseAsync(
      ["compare", "--source", "azure", "--connector", "jira-audit", "--from", FROM, "--to", TO],
      {
        from: "user",
      },
    );

    expect(code).toBe(1);
    expect(stdout.join("\n")).toContain(
      "only in func (2): 3 (2026-01-01T10:03:00.000Z), 4 (2026-01-01T10:04:15.000Z)",
    );
    expect(standin.requests.map((r) => r.path)).toEqual(Array(3).fill("/v1/workspaces/ws-test/query"));
  });

  it("exits 3 when a side cannot be read, naming the service's reason", async () => {
    standin.tables.clear();
    standin.tables.set("JiraAudit_Func_CL", []);
    const stderr: string[] = [];
    let code = -1;
    const program = new Command("ccp-poller").exitOverride();
    createCompareCommand({ createLogsQueryClient: standinClient }).register(
      program,
      {
        stdout: () => {},
        stderr: (l) => stderr.push(l),
        env: { ...env, LOG_ANALYTICS_WORKSPACE_ID: "ws-test" },
      },
      (c) => {
        code = c;
      },
    );

    await program.parseAsync(
      ["compare", "--source", "azure", "--connector", "jira-audit", "--from", FROM, "--to", TO],
      {
        from: "user",
      },
    );

    expect(code).toBe(3);
    expect(stderr.join("\n")).toContain("compare: could not read Log Analytics:");
    expect(stderr.join("\n")).toContain("'JiraAudit_CCP_CL' could not be resolved to a table.");
  });
});
