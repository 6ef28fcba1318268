/**
 * Each connector shipped in `connectors/` runs one window end to end: loaded from its file with its
 * sample settings, planned, and polled against the fake of its API. A dispatcher sends every request to
 * the fake (as DNS would), so the definition's real host names stay untouched.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { Agent, type Dispatcher } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import { loadConnectors } from "../../src/definition/load.ts";
import type { Connector } from "../../src/definition/schema.ts";
import { gitHubEvents, startGitHubFake } from "../fakes/github.ts";
import { jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { startLastPassFake } from "../fakes/lastpass.ts";
import { startProofpointFake } from "../fakes/proofpoint.ts";
import type { FakeServer } from "../fakes/server.ts";
import { collect, testEngine } from "./connector.ts";

const connectorsDir = path.resolve(import.meta.dirname, "../../connectors");
const now = new Date("2026-01-01T01:00:30Z");

let fake: FakeServer | undefined;
let agent: Agent | undefined;
afterEach(async () => {
  await fake?.close();
  await agent?.close();
  fake = undefined;
  agent = undefined;
});

async function loadShipped(name: string): Promise<Connector> {
  const dir = path.join(connectorsDir, name);
  const env = JSON.parse(readFileSync(path.join(dir, "settings.sample.json"), "utf8")) as Record<
    string,
    string
  >;
  const result = await loadConnectors([path.join(dir, "connector.json")], { env });
  expect(result.errors.map((e) => e.message)).toEqual([]);
  const [connector] = result.connectors;
  if (!connector) throw new Error(`${name}: no connector loaded`);
  return connector;
}

function towards(server: FakeServer): Dispatcher {
  agent = new Agent();
  return agent.compose(
    (dispatch) => (options, handler) => dispatch({ ...options, origin: server.origin }, handler),
  );
}

const cases: Array<{
  name: string;
  start: () => Promise<FakeServer>;
  events: number;
  firstRequest: string;
}> = [
  {
    name: "jira-audit",
    start: () => startJiraFake({ records: jiraRecords(3, "2026-01-01T00:56:00Z") }),
    events: 3,
    firstRequest:
      "GET /rest/api/3/auditing/record?from=2026-01-01T00%3A55%3A00Z&to=2026-01-01T01%3A00%3A00Z&limit=1000&offset=0",
  },
  {
    name: "jira-audit-legacy",
    start: () =>
      startJiraFake({ records: jiraRecords(2, "2026-01-01T00:56:00Z"), apiToken: "test-password-jira-0000" }),
    events: 2,
    firstRequest:
      "GET /rest/api/3/auditing/record?from=2026-01-01T00%3A55%3A00Z&to=2026-01-01T01%3A00%3A00Z&limit=1000&offset=0",
  },
  {
    name: "github-audit",
    start: () => startGitHubFake({ events: gitHubEvents(4, "2026-01-01T00:50:00Z") }),
    events: 4,
    firstRequest:
      "GET /organizations/example-org/audit-log?phrase=created%3A2026-01-01T00%3A45%3A00Z..2026-01-01T01%3A00%3A00Z&per_page=100",
  },
  {
    name: "lastpass",
    start: () =>
      startLastPassFake({
        events: ["00:51:00", "00:55:00", "00:59:59"].map((t) => ({
          Time: `2026-01-01 ${t}`,
          Username: "user@example.com",
          IP_Address: "192.0.2.1",
          Action: "Log in",
          Data: "",
        })),
      }),
    events: 3,
    firstRequest: "POST /enterpriseapi.php?",
  },
  {
    name: "proofpoint-tap",
    start: () =>
      startProofpointFake({
        delivered: [
          {
            GUID: "g1",
            messageTime: "2026-01-01T00:57:00Z",
            sender: "a@example.com",
            recipient: [],
            subject: "s",
          },
        ],
      }),
    events: 1,
    firstRequest:
      "GET /v2/siem/messages/delivered?interval=2026-01-01T00%3A55%3A00Z%2F2026-01-01T01%3A00%3A00Z&format=json",
  },
];

describe("shipped connectors, one window each against their fake", () => {
  it.each(cases)("$name", async ({ name, start, events, firstRequest }) => {
    const connector = await loadShipped(name);
    const server = await start();
    fake = server;
    const { engine } = testEngine(now.toISOString(), { dispatcher: towards(server) });

    const [window] = engine.planWindows(connector, undefined, { now });
    if (!window) throw new Error("no window planned");
    const pages = await collect(engine.pollWindow(connector, window));

    expect(pages.flatMap((p) => p.events)).toHaveLength(events);
    const request = server.requests[0];
    expect(`${request?.method} ${request?.path}?${request?.rawQuery}`).toBe(firstRequest);
  });
});
