/**
 * Nested polling in the engine, on two real corpus definitions against fakes of their APIs: what goes out on
 * the wire for parent and child calls, what comes back as pages, and that a child failure fails the window.
 */
import type { Dispatcher } from "undici";
import { afterEach, describe, expect, it } from "vitest";
import type { Page } from "../../src/engine/types.ts";
import { type BigIdCase, startBigIdFake } from "../fakes/bigid.ts";
import { epmSets, startCyberArkEpmFake } from "../fakes/cyberark-epm.ts";
import type { FakeServer } from "../fakes/server.ts";
import {
  BIGID_FILE,
  BIGID_ID,
  bigIdEnv,
  corpusPresent,
  EPM_FILE,
  EPM_ID,
  epmEnv,
  loadCorpusConnector,
  nestedEngine,
  towards,
} from "./corpus-connectors.ts";

const window = { start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-01-01T01:00:00Z") };
let fake: FakeServer | undefined;
let agent: (Dispatcher & { close(): Promise<void> }) | undefined;
afterEach(async () => {
  await fake?.close();
  await agent?.close();
});

async function collect(pages: AsyncIterable<Page>): Promise<Page[]> {
  const all: Page[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

describe.skipIf(!corpusPresent)(
  "CyberArk EPM raw events: one child call per set, each paged by nextCursor",
  () => {
    it("sends only the child events, every page of every set, with the parent's window in the child's body", async () => {
      fake = await startCyberArkEpmFake({ sets: epmSets(3, 5) });
      agent = towards(fake.origin);
      const connector = await loadCorpusConnector(EPM_FILE, EPM_ID, epmEnv("https://dce.example.test"));
      // Pages of 2 so each set takes three child pages.
      const step = connector.properties.stepCollectorConfigs?.rawEvents;
      if (!step) throw new Error("rawEvents step missing");
      const small = {
        ...connector,
        properties: {
          ...connector.properties,
          stepCollectorConfigs: {
            rawEvents: {
              ...step,
              request: { ...step.request, queryParameters: { nextCursor: "start", limit: 2 } },
            },
          },
        },
      };

      const pages = await collect(nestedEngine(agent).pollWindow(small, window));

      const events = pages.flatMap((p) => p.events as { eventId: string }[]).map((e) => e.eventId);
      expect(events.sort()).toEqual(
        epmSets(3, 5)
          .flatMap((s) => s.events.map((e) => e.eventId))
          .sort(),
      );
      const searches = fake.requests.filter((r) => r.path.endsWith("/Events/Search"));
      expect(searches).toHaveLength(9);
      expect(searches.map((r) => `${r.path}?${r.rawQuery}`).filter((u) => u.includes("set-2"))).toEqual([
        "/EPM/API/Sets/set-2/Events/Search?nextCursor=start&limit=2",
        "/EPM/API/Sets/set-2/Events/Search?nextCursor=2&limit=2",
        "/EPM/API/Sets/set-2/Events/Search?nextCursor=4&limit=2",
      ]);
      expect(JSON.parse(searches[0]?.body ?? "")).toEqual({
        filter: "arrivalTime GE 2026-01-01T00:00:00Z AND arrivalTime LE 2026-01-01T01:00:00Z",
      });
      // Headers and the token are the parent's (the child names its own headers; auth is inherited).
      expect(searches.every((r) => r.headers.authorization === "Bearer test-access-token-epm-0000")).toBe(
        true,
      );
      expect(fake.requests.filter((r) => r.path.startsWith("/oauth2/token/"))).toHaveLength(1);
      expect(pages.map((p) => p.number)).toEqual(pages.map((_, i) => i + 1));
    });

    it("fails the window when one child call keeps failing, and retries a child 429", async () => {
      fake = await startCyberArkEpmFake({ sets: epmSets(2, 1) });
      agent = towards(fake.origin);
      const connector = await loadCorpusConnector(EPM_FILE, EPM_ID, epmEnv("https://dce.example.test"));
      // token, sets, then the first child call is told to slow down once: retried, the window completes.
      fake.fail({ kind: "pass" }, { kind: "pass" }, { kind: "status", status: 429, retryAfter: "1" });
      const ok = await collect(nestedEngine(agent).pollWindow(connector, window));
      expect(ok.flatMap((p) => p.events)).toHaveLength(2);

      const again = nestedEngine(agent);
      fake.fail(
        { kind: "pass" },
        { kind: "pass" },
        { kind: "pass" },
        ...Array(5).fill({ kind: "status", status: 500 }),
      );
      await expect(collect(again.pollWindow(connector, window))).rejects.toThrow(/HTTP 500/);
    });

    it("keeps at most maxParallelism child calls in flight", async () => {
      const epm = await startCyberArkEpmFake({ sets: epmSets(8, 1), searchDelayMs: 40 });
      fake = epm;
      agent = towards(fake.origin);
      const connector = await loadCorpusConnector(EPM_FILE, EPM_ID, epmEnv("https://dce.example.test"));
      const step = connector.properties.stepCollectorConfigs?.rawEvents;
      if (!step) throw new Error("rawEvents step missing");
      const limited = {
        ...connector,
        properties: {
          ...connector.properties,
          stepCollectorConfigs: { rawEvents: { ...step, request: { ...step.request, maxParallelism: 3 } } },
        },
      };
      const pages = await collect(nestedEngine(agent).pollWindow(limited, window));
      expect(pages.flatMap((p) => p.events)).toHaveLength(8);
      expect(epm.mostSearchesAtOnce()).toBe(3);
    });
  },
);

describe.skipIf(!corpusPresent)(
  "BigID DSPM: each case joined with its data source, itself joined with its catalog objects",
  () => {
    it("sends each case with datasource: [ds_connection + expand: [objects]], placeholders carried two deep", async () => {
      const cases: BigIdCase[] = [
        { id: "case-1", dataSourceName: "crm db", policyName: "PII" },
        { id: "case-2", dataSourceName: "hr-db", policyName: "Salary" },
        { id: "case-3", dataSourceName: "hr-db", policyName: "Missing" },
      ];
      fake = await startBigIdFake({
        cases,
        objects: {
          "crm db/PII": [{ objectName: "customers" }, { objectName: "leads" }],
          "hr-db/Salary": [{ objectName: "payroll" }],
        },
      });
      agent = towards(fake.origin);
      const connector = await loadCorpusConnector(BIGID_FILE, BIGID_ID, bigIdEnv("https://dce.example.test"));

      const pages = await collect(nestedEngine(agent).pollWindow(connector, window));

      const events = pages.flatMap((p) => p.events);
      expect(events).toEqual([
        {
          ...cases[0],
          datasource: [
            {
              name: "crm db",
              type: "rdb-mysql",
              owners: ["crm db-owner"],
              expand: [{ objectName: "customers" }, { objectName: "leads" }],
            },
          ],
        },
        {
          ...cases[1],
          datasource: [
            {
              name: "hr-db",
              type: "rdb-mysql",
              owners: ["hr-db-owner"],
              expand: [{ objectName: "payroll" }],
            },
          ],
        },
        {
          ...cases[2],
          datasource: [{ name: "hr-db", type: "rdb-mysql", owners: ["hr-db-owner"], expand: [] }],
        },
      ]);
      const catalog = fake.requests.filter((r) => r.path === "/api/v1/data-catalog/");
      expect(catalog.map((r) => r.query.filter)).toEqual([
        'SYSTEM = "crm db" AND policy IN ("PII")',
        'SYSTEM = "hr-db" AND policy IN ("Salary")',
        'SYSTEM = "hr-db" AND policy IN ("Missing")',
      ]);
      expect(
        fake.requests.filter((r) => r.path.startsWith("/api/v1/ds_connections/")).map((r) => r.path),
      ).toEqual([
        "/api/v1/ds_connections/crm%20db",
        "/api/v1/ds_connections/hr-db",
        "/api/v1/ds_connections/hr-db",
      ]);
    });
  },
);
