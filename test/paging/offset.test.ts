import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";

let jira: JiraFake;
afterEach(async () => {
  await jira?.close();
});

const jiraConnector = (endpoint: string, pageSize: number) =>
  makeConnector(
    {
      auth: { type: "Basic", userName: "test-user@example.com", password: "test-api-token-jira-0000" },
      request: {
        apiEndpoint: endpoint,
        queryWindowInMin: 5,
        queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
        startTimeAttributeName: "from",
        endTimeAttributeName: "to",
        headers: { Accept: "application/json" },
      },
      paging: { pagingType: "Offset", offsetParaName: "offset", pageSizeParameterName: "limit", pageSize },
      response: { eventsJsonPaths: ["$.records"] },
    },
    ["test-api-token-jira-0000"],
  );

describe("Offset paging against the Jira audit records fake", () => {
  it("starts at offset 0, advances by the events received and stops on a short page", async () => {
    // Records every 60 s from 00:00:30: the window 00:00–00:05 holds ids 1–5 (Jira returns newest first).
    jira = await startJiraFake({ records: jiraRecords(10, "2026-01-01T00:00:30Z") });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        jiraConnector(jira.endpoint, 2),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );

    expect(jira.requests.map((r) => r.rawQuery)).toEqual([
      "from=2026-01-01T00%3A00%3A00Z&to=2026-01-01T00%3A05%3A00Z&limit=2&offset=0",
      "from=2026-01-01T00%3A00%3A00Z&to=2026-01-01T00%3A05%3A00Z&limit=2&offset=2",
      "from=2026-01-01T00%3A00%3A00Z&to=2026-01-01T00%3A05%3A00Z&limit=2&offset=4",
    ]);
    const first = jira.requests[0];
    expect(first?.method).toBe("GET");
    expect(first?.path).toBe("/rest/api/3/auditing/record");
    expect(first?.headers.accept).toBe("application/json");
    expect(first?.headers.authorization).toBe(
      `Basic ${Buffer.from("test-user@example.com:test-api-token-jira-0000").toString("base64")}`,
    );
    expect(pages.map((p) => p.number)).toEqual([1, 2, 3]);
    expect(pages.map((p) => p.events.map((e) => (e as { id: number }).id))).toEqual([[5, 4], [3, 2], [1]]);
    expect(pages.every((p) => p.cursor === undefined && p.bytes > 0)).toBe(true);
  });

  it("asks once more after a full last page, and Jira's inclusive `to` returns a boundary record", async () => {
    // Records on whole minutes: 00:00 … 00:05 all match, because Jira treats `to` as inclusive.
    jira = await startJiraFake({ records: jiraRecords(8, "2026-01-01T00:00:00Z") });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(
        jiraConnector(jira.endpoint, 3),
        windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"),
      ),
    );
    expect(jira.requests.map((r) => r.query.offset)).toEqual(["0", "3", "6"]);
    expect(pages.map((p) => p.events.length)).toEqual([3, 3, 0]);
  });
});
