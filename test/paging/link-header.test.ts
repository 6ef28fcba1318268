import { afterEach, describe, expect, it } from "vitest";
import { collect, makeConnector, testEngine, windowOf } from "../engine/connector.ts";
import { gitHubEvents, startGitHubFake } from "../fakes/github.ts";
import { type OktaFake, oktaEvents, startOktaFake } from "../fakes/okta.ts";
import type { FakeServer } from "../fakes/server.ts";

let fake: FakeServer;
afterEach(async () => {
  await fake?.close();
});

describe("LinkHeader paging against the GitHub audit log fake", () => {
  it("follows rel=next links with the cursor until none is left", async () => {
    const github = await startGitHubFake({ events: gitHubEvents(30, "2026-01-01T00:00:00Z", 30) });
    fake = github;
    const connector = makeConnector(
      {
        auth: {
          type: "APIKey",
          apiKeyName: "Authorization",
          apiKeyIdentifier: "token",
          apiKey: "test-api-key-github-0000",
        },
        request: {
          apiEndpoint: github.endpoint,
          queryWindowInMin: 5,
          queryTimeFormat: "yyyy-MM-ddTHH:mm:ssZ",
          headers: { Accept: "application/json", "User-Agent": "Scuba" },
          queryParameters: { phrase: "created:{_QueryWindowStartTime}..{_QueryWindowEndTime}" },
        },
        paging: { pagingType: "LinkHeader", pageSizeParameterName: "per_page", pageSize: 4 },
        response: { eventsJsonPaths: ["$"] },
      },
      ["test-api-key-github-0000"],
    );
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:02:00Z", "2026-01-01T00:05:00Z")),
    );

    // Events every 30 s; created:00:02..00:05 is inclusive on both ends: 7 events, newest first.
    expect(pages.map((p) => p.events.map((e) => (e as { _document_id: string })._document_id))).toEqual([
      ["doc-11", "doc-10", "doc-9", "doc-8"],
      ["doc-7", "doc-6", "doc-5"],
    ]);
    const phrase = "phrase=created%3A2026-01-01T00%3A02%3A00Z..2026-01-01T00%3A05%3A00Z";
    expect(github.requests.map((r) => r.rawQuery)).toEqual([
      `${phrase}&per_page=4`,
      `${phrase}&per_page=4&after=${Buffer.from("4").toString("base64url")}`,
    ]);
    expect(github.requests.map((r) => [r.headers.authorization, r.headers["user-agent"]])).toEqual([
      ["token test-api-key-github-0000", "Scuba"],
      ["token test-api-key-github-0000", "Scuba"],
    ]);
  });
});

describe("PersistentLinkHeader paging against the Okta System Log fake", () => {
  const oktaConnector = (endpoint: string) =>
    makeConnector(
      {
        auth: {
          type: "APIKey",
          apiKeyName: "Authorization",
          apiKeyIdentifier: "SSWS",
          apiKey: "test-api-key-okta-0000",
        },
        request: {
          apiEndpoint: endpoint,
          queryWindowInMin: 5,
          queryTimeFormat: "yyyy-MM-ddTHH:mm:ss.fffZ",
          startTimeAttributeName: "since",
        },
        paging: { pagingType: "PersistentLinkHeader", pageSizeParameterName: "limit", pageSize: 2 },
        response: { eventsJsonPaths: ["$"] },
      },
      ["test-api-key-okta-0000"],
    );

  it("keeps the last next link as the cursor and resumes from it in the next window", async () => {
    const okta: OktaFake = await startOktaFake({ events: oktaEvents(3, "2026-01-01T00:00:10Z") });
    fake = okta;
    const connector = oktaConnector(okta.endpoint);
    const { engine } = testEngine();

    const first = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    // Polling mode: Okta always sends a next link, so the window ends on the empty page after the last event.
    expect(first.map((p) => p.events.map((e) => (e as { uuid: string }).uuid))).toEqual([
      ["evt-1", "evt-2"],
      ["evt-3"],
      [],
    ]);
    const cursorAfterEvt3 = `${okta.endpoint}?since=2026-01-01T00%3A00%3A00.000Z&limit=2&after=evt-3`;
    expect(first.map((p) => p.cursor)).toEqual([
      `${okta.endpoint}?since=2026-01-01T00%3A00%3A00.000Z&limit=2&after=evt-2`,
      cursorAfterEvt3,
      cursorAfterEvt3,
    ]);
    expect(okta.requests.map((r) => r.rawQuery)).toEqual([
      "since=2026-01-01T00%3A00%3A00.000Z&limit=2",
      "since=2026-01-01T00%3A00%3A00.000Z&limit=2&after=evt-2",
      "since=2026-01-01T00%3A00%3A00.000Z&limit=2&after=evt-3",
    ]);

    okta.add(...oktaEvents(1, "2026-01-01T00:06:00Z", 60, 4));
    okta.requests.length = 0;
    const second = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"), {
        cursor: first.at(-1)?.cursor,
      }),
    );
    expect(okta.requests[0]?.rawQuery).toBe("since=2026-01-01T00%3A00%3A00.000Z&limit=2&after=evt-3");
    expect(second.flatMap((p) => p.events.map((e) => (e as { uuid: string }).uuid))).toEqual(["evt-4"]);
  });

  it("waits for the X-Rate-Limit-Reset time on 429 when rateLimitConfig names the header", async () => {
    const { engine, clock } = testEngine("2026-01-01T00:10:00Z");
    const okta = await startOktaFake({
      events: oktaEvents(1, "2026-01-01T00:00:10Z"),
      rateLimit: 1,
      now: () => clock.now(),
    });
    fake = okta;
    const base = oktaConnector(okta.endpoint);
    const connector = {
      ...base,
      properties: {
        ...base.properties,
        request: {
          ...base.properties.request,
          rateLimitConfig: {
            extraction: {
              source: "CustomHeaders" as const,
              headers: { reset: { name: "X-Rate-Limit-Reset", format: "UnixTimeSeconds" as const } },
            },
          },
        },
      },
    };
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(pages.flatMap((p) => p.events)).toHaveLength(1);
    // The second request hit the limit of 1 per minute; the client waited until the announced reset.
    expect(clock.sleeps).toEqual([60_000]);
    expect(okta.requests.map((r) => r.query.after ?? "")).toEqual(["", "evt-1", "evt-1"]);
  });
});

describe("LinkHeader with linkHeaderTokenJsonPath", () => {
  it("takes the next link from the body (the $.metadata.links.next example) and follows a relative one", async () => {
    const { startFakeServer } = await import("../fakes/server.ts");
    fake = await startFakeServer((request) =>
      request.query.page === "2"
        ? { json: { items: [{ id: 3 }], metadata: { links: {} } } }
        : { json: { items: [{ id: 1 }, { id: 2 }], metadata: { links: { next: "/v2/items?page=2" } } } },
    );
    const connector = makeConnector({
      request: {
        apiEndpoint: `${fake.origin}/v2/items`,
        queryTimeFormat: "UnixTimestamp",
        startTimeAttributeName: "since",
      },
      paging: { pagingType: "LinkHeader", linkHeaderTokenJsonPath: "$.metadata.links.next" },
      response: { eventsJsonPaths: ["$.items"] },
    });
    const { engine } = testEngine();
    const pages = await collect(
      engine.pollWindow(connector, windowOf("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z")),
    );
    expect(pages.map((p) => p.events)).toEqual([[{ id: 1 }, { id: 2 }], [{ id: 3 }]]);
    expect(fake.requests.map((r) => `${r.path}?${r.rawQuery}`)).toEqual([
      "/v2/items?since=1767225600",
      "/v2/items?page=2",
    ]);
  });
});
