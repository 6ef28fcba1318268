/** Auth as the engine uses it: one authenticator per connector across windows, 401 renewal inside pollWindow. */
import { afterEach, describe, expect, it } from "vitest";
import { createEngine } from "../../src/engine/engine.ts";
import type { Window } from "../../src/engine/types.ts";
import { makeConnector } from "../engine/connector.ts";
import { OAUTH2_EVENTS, type OAuth2Fake, startOAuth2Fake } from "../fakes/oauth2.ts";
import { authDeps, formFields } from "./helpers.ts";

const CLIENT_SECRET = "test-client-secret-e2e1";

let fake: OAuth2Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const silent = { info() {}, warn() {}, error() {} };

describe("an OAuth2 connector polled by the engine", () => {
  it("fetches one token for several windows and renews it once when the API revokes it", async () => {
    const deps = authDeps();
    fake = await startOAuth2Fake({ clock: deps.clock, clientId: "test-client", clientSecret: CLIENT_SECRET });
    const connector = makeConnector(
      {
        auth: {
          type: "OAuth2",
          clientId: "test-client",
          clientSecret: CLIENT_SECRET,
          grantType: "client_credentials",
          tokenEndpoint: fake.tokenUrl,
          scope: "events.read",
        },
        request: { apiEndpoint: fake.dataUrl, startTimeAttributeName: "since" },
        response: { eventsJsonPaths: ["$.events"] },
      },
      [CLIENT_SECRET],
    );
    const engine = createEngine({ ...deps, logger: silent });
    const poll = async (window: Window) => {
      const events: unknown[] = [];
      for await (const page of engine.pollWindow(connector, window)) events.push(...page.events);
      return events;
    };
    const window = (start: string, end: string): Window => ({ start: new Date(start), end: new Date(end) });

    const first = await poll(window("2026-01-01T00:00:00Z", "2026-01-01T00:05:00Z"));
    const second = await poll(window("2026-01-01T00:05:00Z", "2026-01-01T00:10:00Z"));
    fake.accessTokens.revokeAll();
    const third = await poll(window("2026-01-01T00:10:00Z", "2026-01-01T00:15:00Z"));

    expect([first, second, third]).toEqual([OAUTH2_EVENTS, OAUTH2_EVENTS, OAUTH2_EVENTS]);
    expect(fake.tokenRequests().map((r) => formFields(r.body).grant_type)).toEqual([
      "client_credentials",
      "client_credentials",
    ]);
    expect(fake.dataRequests().map((r) => r.headers.authorization)).toEqual([
      "Bearer test-access-token-1",
      "Bearer test-access-token-1",
      "Bearer test-access-token-1",
      "Bearer test-access-token-2",
    ]);
  });
});
