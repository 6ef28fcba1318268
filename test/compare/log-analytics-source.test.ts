import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createLogAnalyticsSource,
  createLogsQueryClient,
  DEFAULT_COLUMNS,
  runCompare,
  windowQuery,
} from "../../src/compare/index.ts";
import { asTableRow, type LogsQueryStandin, startLogsQueryStandin } from "./logs-query-standin.ts";
import { FROM, seededRows, TO, WINDOW_STARTS } from "./scenario.ts";

const WORKSPACE = "00000000-0000-0000-0000-00000000000a";
const RESOURCE_ID =
  "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-test/providers/Microsoft.OperationalInsights/workspaces/log-test";
const TABLES = { func: "JiraAudit_Func_CL", ccp: "JiraAudit_CCP_CL" };
const NOW = new Date("2026-01-01T12:00:00.000Z");

let standin: LogsQueryStandin;
beforeAll(async () => {
  standin = await startLogsQueryStandin();
});
afterAll(async () => {
  await standin.stop();
});
beforeEach(() => {
  standin.tables.clear();
  standin.requests.length = 0;
});

function client() {
  return createLogsQueryClient(standin.credential, {
    endpoint: standin.endpoint,
    tlsOptions: { ca: standin.caCertPem },
    retryOptions: { maxRetries: 0 },
  });
}

function compare(workspace = WORKSPACE) {
  const source = createLogAnalyticsSource({
    client: client(),
    workspace,
    tables: TABLES,
    columns: DEFAULT_COLUMNS,
    now: () => NOW,
  });
  return runCompare({
    connectorId: "jira-audit",
    from: new Date(FROM),
    to: new Date(TO),
    windowMinutes: 5,
    source,
    columns: DEFAULT_COLUMNS,
  });
}

/** Both tables as the DCR transform fills them, ingested a few minutes after the range. */
function ingest(rows: ReturnType<typeof seededRows>) {
  standin.tables.set(
    TABLES.func,
    rows.func.map((row) => asTableRow(row, "2026-01-01T10:20:00.000Z")),
  );
  standin.tables.set(
    TABLES.ccp,
    rows.ccp.map((row) => asTableRow(row, "2026-01-01T10:31:00.000Z")),
  );
}

describe("compare over Log Analytics with the real LogsQueryClient", () => {
  it("runs one query per window, each the generated KQL over that window's ingestion-time range", async () => {
    ingest(seededRows());

    const result = await compare();

    expect(result.totals.equal).toBe(true);
    expect(result.totals.rows).toEqual({ func: 12, ccp: 12 });
    expect(standin.requests.map((r) => r.path)).toEqual(Array(3).fill(`/v1/workspaces/${WORKSPACE}/query`));
    const first = standin.requests[0];
    expect(first?.headers.authorization).toBe("Bearer test-logs-query-token-not-a-secret");
    expect(JSON.parse(first?.body ?? "{}")).toEqual({
      query: windowQuery(
        { start: new Date(WINDOW_STARTS[0] as string), end: new Date(WINDOW_STARTS[1] as string) },
        TABLES,
        DEFAULT_COLUMNS,
      ),
      // The query's own lower bound (window start minus the skew margin) to now plus the margin.
      timespan: "2026-01-01T09:00:00.000Z/2026-01-01T13:00:00.000Z",
    });
  });

  it("reports the same seeded differences as the local source, joined on SourceRecordId", async () => {
    ingest(seededRows("missingPage", "duplicatedPage", "transformedField", "shiftedBoundary"));

    const result = await compare();

    expect(result.totals).toMatchObject({
      onlyIn: { func: 2, ccp: 0 },
      duplicated: { func: 2, ccp: 0 },
      changed: 1,
      moved: 1,
    });
    expect(result.windows[0]?.func.onlyHere.map((r) => r.key)).toEqual(["3", "4"]);
    expect(result.windows[2]?.changed).toEqual([
      {
        key: "9",
        eventTime: "2026-01-01T10:10:30.000Z",
        differences: [{ column: "summary", func: "User created 9", ccp: "USER CREATED 9" }],
      },
    ]);
    // Nested dynamic values arrive as JSON text and are compared as objects, whatever their key order.
    expect(result.windows.flatMap((w) => w.changed.map((c) => c.key))).toEqual(["9"]);
  });

  it("queries a workspace given by its ARM resource id (the azd output) through the resource route", async () => {
    ingest(seededRows());

    await compare(RESOURCE_ID);

    expect(standin.requests[0]?.path).toBe(`/v1${RESOURCE_ID}/query`);
  });

  it("refuses a partial result instead of reporting its missing rows as differences", async () => {
    ingest(seededRows());
    standin.partialErrorNext({
      code: "PartialError",
      message: "Query result set has exceeded the internal limit",
    });

    await expect(compare()).rejects.toThrow(
      "Log Analytics query for 2026-01-01T10:00:00.000Z..2026-01-01T10:05:00.000Z: returned a partial result (PartialError: Query result set has exceeded the internal limit)",
    );
  });

  it("surfaces the service's error for a table that does not exist", async () => {
    standin.tables.set(TABLES.func, []);

    await expect(compare()).rejects.toThrow("'JiraAudit_CCP_CL' could not be resolved to a table.");
  });
});
