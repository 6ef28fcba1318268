import { afterEach, describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine.ts";
import { EngineError, HttpStatusError, RateLimitedError, TimeoutError } from "../../src/engine/errors.ts";
import { createFakeClock, createHttpClient } from "../../src/engine/http.ts";
import { ResponseFormatError } from "../../src/engine/response.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { lastPassAuth, lastPassPaging, startLastPassFake } from "../fakes/lastpass.ts";
import type { FakeServer } from "../fakes/server.ts";
import { collect, makeConnector, testEngine, windowOf } from "./connector.ts";

let fake: FakeServer;
afterEach(async () => {
  await fake?.close();
});

const PASSWORD = "test-api-token-jira-0000";
const window = windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z");

/** Jira with 5 records in the window and pages of 2: three requests when nothing goes wrong. */
async function jiraSetup(
  request: Record<string, unknown> = {},
): Promise<{ jira: JiraFake; connector: ReturnType<typeof makeConnector> }> {
  const jira = await startJiraFake({ records: jiraRecords(5, "2026-01-01T00:00:30Z") });
  fake = jira;
  const connector = makeConnector(
    {
      auth: { type: "Basic", userName: "test-user@example.com", password: PASSWORD },
      request: {
        apiEndpoint: jira.endpoint,
        queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
        startTimeAttributeName: "from",
        endTimeAttributeName: "to",
        ...request,
      },
      paging: { pagingType: "Offset", offsetParaName: "offset", pageSizeParameterName: "limit", pageSize: 2 },
      response: { eventsJsonPaths: ["$.records"] },
    },
    [PASSWORD],
  );
  return { jira, connector };
}

const ids = (pages: { events: unknown[] }[]) =>
  pages.flatMap((p) => p.events.map((e) => (e as { id: number }).id));

describe("pollWindow", () => {
  it("yields each page before requesting the next", async () => {
    const { jira, connector } = await jiraSetup();
    const { engine } = testEngine();
    const requestsSeenPerPage: number[] = [];
    for await (const page of engine.pollWindow(connector, window)) {
      requestsSeenPerPage.push(jira.requests.length);
      expect(page.number).toBe(requestsSeenPerPage.length);
    }
    expect(requestsSeenPerPage).toEqual([1, 2, 3]);
  });

  it("retries a 5xx burst mid-window with backoff and still returns every event once", async () => {
    const { jira, connector } = await jiraSetup();
    jira.fail({ kind: "pass" }, { kind: "status", status: 502 }, { kind: "status", status: 503 });
    const { engine, clock } = testEngine("2026-01-01T00:10:00Z", { random: () => 1, backoffBaseMs: 1000 });
    const pages = await collect(engine.pollWindow(connector, window));
    expect(ids(pages)).toEqual([5, 4, 3, 2, 1]);
    expect(jira.requests.map((r) => r.query.offset)).toEqual(["0", "2", "2", "2", "4"]);
    expect(clock.sleeps).toEqual([1000, 2000]);
  });

  it("honours Retry-After on 429", async () => {
    const { jira, connector } = await jiraSetup();
    jira.fail({ kind: "status", status: 429, retryAfter: "12" });
    const { engine, clock } = testEngine();
    expect(ids(await collect(engine.pollWindow(connector, window)))).toEqual([5, 4, 3, 2, 1]);
    expect(clock.sleeps).toEqual([12_000]);
  });

  it("fails the window with RateLimitedError when the server asks for more than the cap, after yielding earlier pages", async () => {
    const { jira, connector } = await jiraSetup();
    jira.fail({ kind: "pass" }, { kind: "status", status: 429, retryAfter: "86400" });
    const { engine, clock } = testEngine();
    const received: number[] = [];
    const error = await (async () => {
      for await (const page of engine.pollWindow(connector, window)) received.push(page.number);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as Error).message).toContain("asked to wait 24.0 h, more than the 5 min cap");
    expect(received).toEqual([1]);
    expect(clock.sleeps).toEqual([]);
  });

  it("gives up after retryCount retries with the last status", async () => {
    const { jira, connector } = await jiraSetup({ retryCount: 1 });
    jira.fail(
      { kind: "status", status: 500 },
      { kind: "status", status: 500 },
      { kind: "status", status: 500 },
    );
    const { engine } = testEngine();
    const error = await collect(engine.pollWindow(connector, window)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect((error as HttpStatusError).status).toBe(500);
    expect(jira.requests).toHaveLength(2);
  });

  it("fails on 401 without retrying when the authenticator cannot renew, and never shows the password", async () => {
    const { jira, connector } = await jiraSetup();
    jira.fail({ kind: "status", status: 401, body: `bad credentials for ${PASSWORD}` });
    const { engine } = testEngine();
    const error = await collect(engine.pollWindow(connector, window)).catch((e: unknown) => e);
    expect((error as HttpStatusError).status).toBe(401);
    expect((error as Error).message).toContain("bad credentials for ***");
    expect(`${(error as Error).message}\n${(error as Error).stack}`).not.toContain(PASSWORD);
    expect(jira.requests).toHaveLength(1);
  });

  it("times out a slow server per timeoutInSeconds", async () => {
    const { jira, connector } = await jiraSetup({ retryCount: 0 });
    // The schema's minimum is 1 s; the internal model takes a fraction so the test stays fast.
    connector.properties.request.timeoutInSeconds = 0.1;
    jira.fail({ kind: "slowBody", delayMs: 2000 });
    const { engine } = testEngine();
    const error = await collect(engine.pollWindow(connector, window)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toMatch(
      /^GET http:\/\/127\.0\.0\.1:\d+\/rest\/api\/3\/auditing\/record\?.* timed out after 100 ms$/,
    );
  });

  it.each([
    [
      "truncated JSON",
      { kind: "truncated" } as const,
      /returned HTTP 200 \(application\/json\) that is not valid JSON .*: \{"offset":0/,
    ],
    [
      "an HTML error page",
      {
        kind: "contentType",
        contentType: "text/html",
        body: "<html><body>Bad gateway</body></html>",
      } as const,
      /returned HTTP 200 \(text\/html\) that is not valid JSON .*: <html><body>Bad gateway<\/body><\/html>$/,
    ],
  ])("fails the window on %s with status, content type and an excerpt", async (_, fault, message) => {
    const { jira, connector } = await jiraSetup();
    jira.fail(fault);
    const { engine } = testEngine();
    const error = await collect(engine.pollWindow(connector, window)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponseFormatError);
    expect((error as Error).message).toMatch(message);
  });

  it("stops with a loop error when the API repeats its next-page token", async () => {
    const lastpass = await startLastPassFake({
      events: ["01", "02", "03", "04", "05", "06"].map((s) => ({
        Time: `2026-01-01 00:00:${s}`,
        Username: "u",
        IP_Address: "192.0.2.1",
        Action: "Log in",
        Data: "",
      })),
      pageSize: 2,
    });
    fake = lastpass;
    const connector = makeConnector({
      auth: lastPassAuth,
      request: {
        apiEndpoint: lastpass.endpoint,
        httpMethod: "POST",
        queryTimeFormat: "yyyy-MM-dd HH:mm:ss",
        isPostPayloadJson: true,
        queryParametersTemplate:
          "{'cid': '12345678', 'cmd': 'reporting', 'data': {'from': '{_QueryWindowStartTime}', 'to': '{_QueryWindowEndTime}'}, '{_APIKeyName}': '{_APIKey}'}",
      },
      paging: lastPassPaging,
      response: { eventsJsonPaths: ["$.data"], convertChildPropertiesToArray: true },
    });
    lastpass.fail({ kind: "pass" }, { kind: "repeat" });
    const { engine } = testEngine();
    const error = await collect(engine.pollWindow(connector, window)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EngineError);
    expect((error as Error).message).toBe(
      "test/connector.json: page 3 would repeat the request of page 2 (NextPageToken returned the same next-page token or URL); stopped to avoid a loop",
    );
    expect(lastpass.requests).toHaveLength(2);
  });

  it("stops with an error past maxPages instead of succeeding silently", async () => {
    const { connector } = await jiraSetup();
    const { engine } = testEngine();
    const error = await collect(engine.pollWindow(connector, window, { maxPages: 2 })).catch(
      (e: unknown) => e,
    );
    expect((error as EngineError).kind).toBe("paging");
    expect((error as Error).message).toContain(
      "more than 2 pages in window 2026-01-01T00:00:00.000Z/2026-01-01T00:05:00.000Z",
    );
  });

  it("reuses one HTTP client per connector, so the QPS budget spans windows", async () => {
    const { connector } = await jiraSetup({ rateLimitQPS: 1 });
    const { engine, clock } = testEngine();
    const start = clock.now().getTime();
    await collect(engine.pollWindow(connector, window));
    await collect(engine.pollWindow(connector, windowOf("2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z")));
    // 3 + 1 requests at one per second: the fourth goes out 3 s after the first.
    expect(clock.now().getTime() - start).toBe(3000);
  });

  it("picks up a rotated secret instead of reusing the cached authenticator", async () => {
    const { jira, connector } = await jiraSetup();
    const { engine } = testEngine();
    await collect(engine.pollWindow(connector, window));
    const rotated = {
      ...connector,
      properties: {
        ...connector.properties,
        auth: { type: "Basic" as const, userName: "test-user@example.com", password: "test-api-token-new" },
      },
      secrets: ["test-api-token-new"],
    };
    const error = await collect(engine.pollWindow(rotated, window)).catch((e: unknown) => e);
    expect((error as HttpStatusError).status).toBe(401);
    expect(jira.requests.at(-1)?.headers.authorization).toBe(
      `Basic ${Buffer.from("test-user@example.com:test-api-token-new").toString("base64")}`,
    );
  });

  it("logs decoded response content, redacted, when logResponseContent is set", async () => {
    const { jira, connector } = await jiraSetup({ logResponseContent: true });
    jira.add({ id: 99, summary: `leaked ${PASSWORD}`, created: "2026-01-01T00:01:10Z" });
    const lines: Array<Record<string, unknown> | undefined> = [];
    const logger = {
      info: (_: string, fields?: Record<string, unknown>) => lines.push(fields),
      warn() {},
      error() {},
    };
    const clock = createFakeClock();
    const engine = createEngine({ clock, logger, http: createHttpClient({ clock }) });
    await collect(engine.pollWindow(connector, window));
    // Six records in pages of two: three full pages and the empty one that ends the window.
    expect(lines.map((line) => line?.page)).toEqual([1, 2, 3, 4]);
    expect(lines[0]).toMatchObject({ connector: "test-connector", status: 200 });
    expect(lines.map((line) => String(line?.content)).join()).toContain('"summary":"leaked ***"');
    expect(JSON.stringify(lines)).not.toContain(PASSWORD);
  });

  it("stops when the caller aborts", async () => {
    const { jira, connector } = await jiraSetup();
    const { engine } = testEngine();
    const controller = new AbortController();
    const error = await (async () => {
      for await (const _ of engine.pollWindow(connector, window, { signal: controller.signal }))
        controller.abort();
    })().catch((e: unknown) => e);
    expect((error as Error).name).toBe("AbortError");
    expect(jira.requests).toHaveLength(1);
  });
});
