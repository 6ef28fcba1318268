import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { encodeActivityHours, noActivity, recordActivity } from "../../src/state/activity.ts";
import {
  createStateTableClient,
  createWatermarkStore,
  type RegisteredConnector,
  silentDropRule,
  type WatermarkStore,
} from "../../src/state/index.ts";
import { watermarkPartition } from "../../src/state/row.ts";
import type { StatusLine } from "../../src/status/view.ts";
import { jiraRecords } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";
import { STREAM, useCliFixture } from "./cli-fixture.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const jiraConnectorFile = path.join(repoRoot, "connectors/jira-audit/connector.json");
const API_TOKEN = "test-api-token-cli-0000";
const MINUTE = 60_000;

const azurite = useAzurite();
const fixture = useCliFixture({
  azurite,
  apiToken: API_TOKEN,
  // One audit record a minute over the last hour.
  records: (hourAgo) => jiraRecords(60, hourAgo, 60),
  tablePrefix: "Cli",
  connectorIds: ["JIRA_AUDIT", "JIRA_CURSOR"],
});
const { settings } = fixture;

interface Result {
  code: number;
  stdout: string[];
  stderr: string[];
  prompts: string[];
}

async function cli(args: string[], env: Record<string, string>, answer?: string): Promise<Result> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const prompts: string[] = [];
  const code = await main(args, {
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    env,
    prompt: async (question) => {
      prompts.push(question);
      return answer;
    },
  });
  return { code, stdout, stderr, prompts };
}

/** stderr lines other than definition warnings and warn-level log lines: errors nobody expects. */
const problems = (stderr: readonly string[]) =>
  stderr.filter((line) => !line.includes("— warning [") && !line.includes('"level":"warn"'));

const run = (env: Record<string, string>, ...extra: string[]) =>
  cli(["run", "--definitions", jiraConnectorFile, ...extra], env);

function storeFor(env: Record<string, string>): WatermarkStore {
  const { tableClient } = createStateTableClient(env);
  return createWatermarkStore({ tableClient, clock: { now: () => new Date() } });
}

/** Source ids of the rows the stand-in stored for this test's DCR, sorted. */
const rowIds = async (env: Record<string, string>) =>
  (await fixture.standin.readRows(env.CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID ?? "", STREAM))
    .map((row) => Number(row.id))
    .sort((a, b) => a - b);

/** Ids of the fake's records created in [start, end). */
const recordIdsIn = (start: Date, end: Date) =>
  fixture.jira.records
    .filter(
      (record) => Date.parse(record.created) >= start.getTime() && Date.parse(record.created) < end.getTime(),
    )
    .map((record) => record.id)
    .sort((a, b) => a - b);

describe("run", () => {
  it("polls every due window over HTTPS, prints one plain line per window and a summary, and exits 0", async () => {
    const env = settings();

    const result = await run(env);

    expect(problems(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    const windowLines = result.stdout.filter((line) => line.startsWith("jira-audit  ok "));
    expect(windowLines).toHaveLength(6);
    const summary = result.stdout.slice(result.stdout.indexOf("") + 1);
    expect(summary[0]).toMatch(/^CONNECTOR\s+OUTCOME\s+WINDOWS\s+ACCEPTED\s+COMMITTED THROUGH/);
    expect(summary[2]).toMatch(/^jira-audit\s+caught-up\s+6\s+\d+\s+\d{4}-/);

    const row = await storeFor(env).get("jira-audit");
    const committedThrough = row?.committedThrough ?? new Date(0);
    const expected = recordIdsIn(new Date(committedThrough.getTime() - 30 * MINUTE), committedThrough);
    expect(expected.length).toBeGreaterThanOrEqual(29);
    expect(await rowIds(env)).toEqual(expected);
    expect(summary[2]).toMatch(new RegExp(`\\s${expected.length}\\s+${committedThrough.toISOString()}`));
  });

  it("on a terminal, redraws one live line per connector instead of appending a line per window", async () => {
    const stdout: string[] = [];
    const code = await main(["run", "--definitions", jiraConnectorFile], {
      stdout: (line) => stdout.push(line),
      stderr: () => {},
      env: settings(),
      isTTY: true,
    });

    expect(code).toBe(0);
    const progress = stdout.slice(0, stdout.indexOf(""));
    expect(progress).toHaveLength(6);
    // Every update after the first moves up over the connector's line and clears it before redrawing.
    expect(progress.slice(1).every((line) => line.startsWith("\u001b[1A\r\u001b[2Kjira-audit  ok "))).toBe(
      true,
    );
    expect(progress.at(-1)).toMatch(/\(6 windows\)$/);
  });

  it("exits 3 and names the setting when an app setting holds an unusable value", async () => {
    const stderr: string[] = [];
    const code = await main(["run", "--definitions", jiraConnectorFile], {
      stdout: () => {},
      stderr: (line) => stderr.push(line),
      env: settings({ RUN_BUDGET_SECONDS: "abc" }),
    });

    expect(code).toBe(3);
    expect(stderr.join("\n")).toMatch(
      /AppSettingError: App setting RUN_BUDGET_SECONDS: expected a positive number, got "abc"/,
    );
  });

  it("exits 1 when a connector fails, naming the failure in the summary and never leaking the token", async () => {
    const result = await run(settings({ CCP_JIRA_AUDIT_APITOKEN: "test-api-token-wrong-0000" }));

    expect(result.code).toBe(1);
    expect(result.stdout.some((line) => /^jira-audit\s+failed\s+0 \(\+\d+ pending\)/.test(line))).toBe(true);
    expect(result.stdout.join("\n")).toContain("401");
    expect([...result.stdout, ...result.stderr].join("\n")).not.toContain("test-api-token-wrong-0000");
  });

  it("still runs the connectors that loaded when another definition is broken, naming the file, and exits 1", async () => {
    const folder = await mkdtemp(path.join(fixture.dir, "definitions-"));
    await writeFile(path.join(folder, "jira.json"), await readFile(jiraConnectorFile, "utf8"));
    await writeFile(path.join(folder, "broken.json"), '{ "name": "broken", "kind": "RestApiPoller", ');

    const result = await cli(["run", "--definitions", folder], settings());

    expect(result.code).toBe(1);
    expect(result.stderr.join("\n")).toContain(path.join(folder, "broken.json"));
    expect(result.stdout.some((line) => /^jira-audit\s+caught-up\s+6\s/.test(line))).toBe(true);
  });

  it("exits 1 for an unknown --connector and lists the loaded ones", async () => {
    const result = await run(settings(), "--connector", "nope");

    expect(result.code).toBe(1);
    expect(problems(result.stderr)).toEqual([
      'No connector "nope" among the loaded definitions (loaded: jira-audit).',
    ]);
  });

  it("reads app settings from --settings <local.settings.json> where the environment does not set them", async () => {
    const { STATE_TABLE_NAME, ...rest } = settings();
    const file = path.join(fixture.dir, "local.settings.json");
    await writeFile(
      file,
      JSON.stringify({ IsEncrypted: false, Values: { STATE_TABLE_NAME, AzureWebJobsStorage: "broken" } }),
    );

    const result = await run(rest, "--settings", file);

    expect(result.code).toBe(0);
    const tableFromFile = { ...rest, STATE_TABLE_NAME: STATE_TABLE_NAME ?? "" };
    expect((await storeFor(tableFromFile).get("jira-audit"))?.committedThrough).toBeDefined();
  });
});

const registered = (id: string): RegisteredConnector => ({
  id,
  definitionHash: "hash",
  source: { file: `${id}.json` },
  properties: { isActive: true, request: { queryWindowInMin: 5, queryWindowDelayInMin: 0 } },
});

describe("status", () => {
  async function seedRows(env: Record<string, string>): Promise<void> {
    const store = storeFor(env);
    await store.ensureTable();
    const now = Date.now();
    for (const id of ["a-disabled", "b-healthy", "c-lagging", "d-failing", "e-new"])
      await store.register(registered(id));
    await store.setDisabled("a-disabled", "paused by the on-call");
    await store.reset("b-healthy", new Date(now - 2 * MINUTE));
    await store.reset("c-lagging", new Date(now - 3 * 60 * MINUTE));
    await store.reset("d-failing", new Date(now - 30 * MINUTE));
    const lease = await store.acquireLease("d-failing", "test-owner", MINUTE);
    const window = { start: new Date(now - 30 * MINUTE), end: new Date(now - 25 * MINUTE) };
    await lease?.beginWindow(window);
    const zero = { fetched: 0, extracted: 0, sent: 0, accepted: 0, pages: 0, durationMs: 0 };
    await lease?.failWindow(window, new Error("HTTP 503 from the upstream"), zero);
    await lease?.release();
  }

  it("--json lists every connector worst first with plain fields", async () => {
    const env = settings();
    await seedRows(env);

    const result = await cli(["status", "--json"], env);

    expect(result.code).toBe(0);
    const parsed = JSON.parse(result.stdout.join("\n")) as { generatedAt: string; connectors: StatusLine[] };
    expect(Number.isNaN(Date.parse(parsed.generatedAt))).toBe(false);
    expect(parsed.connectors.map((line) => [line.connectorId, line.status])).toEqual([
      ["d-failing", "Failing"],
      ["c-lagging", "Lagging"],
      ["b-healthy", "Healthy"],
      ["e-new", "Healthy"],
      ["a-disabled", "Disabled"],
    ]);
    expect(parsed.connectors[0]).toMatchObject({
      consecutiveFailures: 1,
      lagMinutes: 30,
      lastError: expect.stringContaining("HTTP 503 from the upstream"),
      windowInFlight: expect.stringMatching(/^\d{4}-.+Z → \d{4}-.+Z$/),
      windowAttempts: 1,
      lastSuccessAt: null,
    });
    expect(parsed.connectors[1]).toMatchObject({ lagMinutes: 180, committedThrough: expect.any(String) });
    expect(parsed.connectors[3]).toMatchObject({ lagMinutes: null, committedThrough: null });
  });

  it("prints the same order as a table with the error on the failing line", async () => {
    const env = settings();
    await seedRows(env);

    const result = await cli(["status"], env);

    expect(result.code).toBe(0);
    expect(result.stdout[0]).toMatch(
      /^CONNECTOR\s+STATUS\s+LAG\s+EVENTS\/H, 24 H\s+LAST SUCCESS\s+FAILURES\s+WINDOW IN FLIGHT\s+LAST ERROR$/,
    );
    expect(result.stdout.slice(2).map((line) => line.split(/\s+/).slice(0, 2).join(" "))).toEqual([
      "d-failing Failing",
      "c-lagging Lagging",
      "b-healthy Healthy",
      "e-new Healthy",
      "a-disabled Disabled",
    ]);
    expect(result.stdout[2]).toMatch(
      // Its one failed attempt this hour accepted nothing (a space); nothing ran in the hours before (dots).
      /30 min\s+·{23} \s+never\s+1\s+\S+ → \S+ \(attempt 1\)\s+.*HTTP 503 from the upstream/,
    );
  });

  it("marks a Healthy connector that went silent, with a 24-hour sparkline, the rule, and the hourly series in --json", async () => {
    const env = settings();
    const store = storeFor(env);
    await store.ensureTable();
    await store.register(registered("okta-silent"));
    await store.reset("okta-silent", new Date(Date.now() - 2 * MINUTE));
    // Four days of 100 events an hour, then nothing for the last 4 hours and this one. Written straight into
    // the row's column: committing 96 hours of windows through a lease is what test/state covers.
    let activity = noActivity;
    for (let hoursAgo = 96; hoursAgo >= 0; hoursAgo -= 1)
      activity = recordActivity(
        activity,
        new Date(Date.now() - hoursAgo * 3_600_000),
        hoursAgo > 4 ? 100 : 0,
        2,
      );
    const { tableClient } = createStateTableClient(env);
    await tableClient.updateEntity(
      {
        partitionKey: "connector",
        rowKey: "okta-silent",
        ActivityHours: encodeActivityHours(activity.hours),
      },
      "Merge",
    );

    const table = await cli(["status"], env);
    expect(table.stdout[2]).toMatch(
      /^okta-silent\s+Healthy \(silent drop\)\s+2 min\s+█{19,20} {4,5}\s+never/,
    );
    expect(table.stdout.at(-1)).toBe(silentDropRule);

    const json = await cli(["status", "--json"], env);
    const [line] = (JSON.parse(json.stdout.join("\n")) as { connectors: StatusLine[] }).connectors;
    expect(line?.activity.silentDrop).toBe(
      "0 events accepted in the last 3 full hours; usually 300 (median of 3 previous days)",
    );
    expect(line?.activity.accepted).toHaveLength(14 * 24);
    expect(line?.activity.accepted.reduce<number>((sum, value) => sum + (value ?? 0), 0)).toBe(92 * 100);
    expect(line?.activity.accepted.slice(-3)).toEqual([0, 0, 0]);
  });

  it("says so when no connector has run yet", async () => {
    const result = await cli(["status"], settings());

    expect(result.code).toBe(0);
    expect(result.stdout.join("\n")).toContain("No connectors in");
  });
});

describe("reset", () => {
  async function seeded(): Promise<{ env: Record<string, string>; store: WatermarkStore }> {
    const env = settings();
    const store = storeFor(env);
    await store.ensureTable();
    await store.register(registered("jira-audit"));
    await store.reset("jira-audit", new Date("2026-01-01T01:00:00Z"));
    return { env, store };
  }

  it("changes nothing and exits 4 when the answer is no", async () => {
    const { env, store } = await seeded();

    const result = await cli(["reset", "jira-audit", "--to", "2026-01-01T00:00:00Z"], env, "n");

    expect(result.code).toBe(4);
    expect(result.prompts).toEqual(['Reset "jira-audit" to 2026-01-01T00:00:00.000Z? [y/N] ']);
    expect(result.stdout).toContain(
      "Moves back: 2026-01-01T00:00:00.000Z → 2026-01-01T01:00:00.000Z is polled and sent again (duplicates in the table).",
    );
    expect((await store.get("jira-audit"))?.committedThrough?.toISOString()).toBe("2026-01-01T01:00:00.000Z");
  });

  it("takes no answer at all (stdin closed) as no", async () => {
    const { env, store } = await seeded();

    const result = await cli(["reset", "jira-audit", "--to", "2026-01-01T00:00:00Z"], env, undefined);

    expect(result.code).toBe(4);
    expect((await store.get("jira-audit"))?.committedThrough?.toISOString()).toBe("2026-01-01T01:00:00.000Z");
  });

  it("resets after a yes and shows the row before and after", async () => {
    const { env, store } = await seeded();

    const result = await cli(["reset", "jira-audit", "--to", "2026-01-01T00:00:00Z"], env, "y");

    expect(result.code).toBe(0);
    const text = result.stdout.join("\n");
    expect(text).toMatch(
      /Before:[\s\S]*CommittedThrough: 2026-01-01T01:00:00.000Z[\s\S]*After:[\s\S]*CommittedThrough: 2026-01-01T00:00:00.000Z/,
    );
    expect((await store.get("jira-audit"))?.committedThrough?.toISOString()).toBe("2026-01-01T00:00:00.000Z");
  });

  it("--yes skips the question", async () => {
    const { env, store } = await seeded();

    const result = await cli(["reset", "jira-audit", "--to", "2026-01-01T00:30:00Z", "--yes"], env, "n");

    expect(result.code).toBe(0);
    expect(result.prompts).toEqual([]);
    expect((await store.get("jira-audit"))?.committedThrough?.toISOString()).toBe("2026-01-01T00:30:00.000Z");
  });

  it("exits 2 for a time that is not ISO 8601, 1 for a connector that never ran", async () => {
    const { env } = await seeded();

    const badTime = await cli(["reset", "jira-audit", "--to", "yesterday", "--yes"], env);
    const unknown = await cli(["reset", "nope", "--to", "2026-01-01T00:00:00Z", "--yes"], env);
    const missingTo = await cli(["reset", "jira-audit"], env);

    expect(badTime.code).toBe(2);
    expect(badTime.stderr.join("\n")).toContain(
      'expected an ISO 8601 time such as 2026-01-31T00:00:00Z, got "yesterday"',
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.join("\n")).toContain('Connector "nope" has no watermark row');
    expect(missingTo.code).toBe(2);
  });
});

describe("replay", () => {
  it("re-sends a past range while the live watermark row stays exactly as it was", async () => {
    const env = settings();
    expect((await run(env)).code).toBe(0);
    const store = storeFor(env);
    const live = await store.get("jira-audit");
    // The row as stored, etag included: status and lag are derived again at every read, on the real clock.
    const { tableClient } = createStateTableClient(env);
    const stored = () => tableClient.getEntity(watermarkPartition, "jira-audit");
    const liveStored = await stored();
    const committedThrough = live?.committedThrough ?? new Date(0);
    const from = new Date(committedThrough.getTime() - 20 * MINUTE);
    const to = new Date(committedThrough.getTime() - 7 * MINUTE);
    const liveRows = await rowIds(env);

    const result = await cli(
      [
        "replay",
        "jira-audit",
        "--definitions",
        jiraConnectorFile,
        "--from",
        from.toISOString(),
        "--to",
        to.toISOString(),
      ],
      env,
    );

    expect(problems(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    // 20 minutes down to 7: two full 5-minute windows and a 3-minute one.
    expect(result.stdout.filter((line) => line.startsWith("jira-audit  ok "))).toHaveLength(3);
    const expected = recordIdsIn(from, to);
    expect(await rowIds(env)).toEqual([...liveRows, ...expected].sort((a, b) => a - b));
    expect(result.stdout.at(-1)).toMatch(
      new RegExp(`^jira-audit\\s+replayed\\s+3\\s+${expected.length}\\s+${to.toISOString()}`),
    );
    expect(await stored()).toEqual(liveStored);
  });

  it("stops at the first failed window, says how far it got, and exits 1", async () => {
    const env = settings({ CCP_JIRA_AUDIT_APITOKEN: "test-api-token-wrong-0000" });
    const to = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE);
    const from = new Date(to.getTime() - 15 * MINUTE);

    const result = await cli(
      [
        "replay",
        "jira-audit",
        "--definitions",
        jiraConnectorFile,
        "--from",
        from.toISOString(),
        "--to",
        to.toISOString(),
      ],
      env,
    );

    expect(result.code).toBe(1);
    expect(result.stdout.filter((line) => line.startsWith("jira-audit  FAILED "))).toHaveLength(1);
    expect(result.stdout.at(-1)).toMatch(/^jira-audit\s+failed\s+0 \(\+3 not replayed\)\s+0\s+-\s+.*401/);
    expect(await rowIds(env)).toEqual([]);
  });

  it("refuses Persistent* paging and a range that reaches past the latest complete window, polling nothing", async () => {
    const env = settings();
    const definition = JSON.parse(await readFile(jiraConnectorFile, "utf8")) as {
      name: string;
      properties: { paging: unknown };
    };
    definition.name = "jira-cursor";
    definition.properties.paging = {
      pagingType: "PersistentToken",
      nextPageTokenJsonPath: "$.next",
      nextPageParaName: "cursor",
    };
    const cursorFile = path.join(fixture.dir, "jira-cursor.json");
    await writeFile(cursorFile, JSON.stringify(definition));
    const requestsBefore = fixture.jira.requests.length;
    const now = Date.now();

    const persistent = await cli(
      [
        "replay",
        "jira-cursor",
        "--definitions",
        cursorFile,
        "--from",
        new Date(now - 60 * MINUTE).toISOString(),
        "--to",
        new Date(now - 30 * MINUTE).toISOString(),
      ],
      env,
    );
    const future = await cli(
      [
        "replay",
        "jira-audit",
        "--definitions",
        jiraConnectorFile,
        "--from",
        new Date(now - 10 * MINUTE).toISOString(),
        "--to",
        new Date(now + 60 * MINUTE).toISOString(),
      ],
      env,
    );

    expect(persistent.code).toBe(1);
    expect(persistent.stderr.join("\n")).toContain("uses PersistentToken paging");
    expect(future.code).toBe(1);
    expect(future.stderr.join("\n")).toMatch(/--to .* is after .*latest complete window/);
    expect(fixture.jira.requests.length).toBe(requestsBefore);
  });

  it("warns when the range starts more than 2 days ago", async () => {
    const env = settings();
    const from = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 3 * 24 * 60 * MINUTE);

    const result = await cli(
      [
        "replay",
        "jira-audit",
        "--definitions",
        jiraConnectorFile,
        "--from",
        from.toISOString(),
        "--to",
        new Date(from.getTime() + 5 * MINUTE).toISOString(),
      ],
      env,
    );

    expect(result.code).toBe(0);
    expect(result.stderr.join("\n")).toContain("Log Analytics replaces a TimeGenerated older than 2 days");
  });
});

describe("exit codes", () => {
  it("exits 3 when the watermark table cannot be reached", async () => {
    const unreachable = azurite().connectionString.replace(
      /TableEndpoint=http:\/\/127\.0\.0\.1:\d+/,
      "TableEndpoint=http://127.0.0.1:9",
    );

    const result = await cli(["status"], settings({ AzureWebJobsStorage: unreachable }));

    expect(result.code).toBe(3);
    expect(result.stderr.join("\n")).toMatch(
      /^StateUnavailableError: Table Storage at http:\/\/127\.0\.0\.1:9/,
    );
    expect(result.stderr.join("\n")).not.toContain("AccountKey");
  });

  it("exits 2 on an unknown option and 0 for --help of every command", async () => {
    expect((await cli(["run", "--bogus"], settings())).code).toBe(2);
    for (const command of ["run", "status", "reset", "replay", "demo"]) {
      const help = await cli([command, "--help"], settings());
      expect(help.code, command).toBe(0);
      expect(help.stdout.join("\n"), command).toContain(`Usage: ccp-poller ${command}`);
    }
  });
});
