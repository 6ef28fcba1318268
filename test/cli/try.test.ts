/**
 * `ccp-poller try` against the fakes, with the shipped Jira definition pointed at them: an auth failure, an empty
 * window, paging that stops early, events outside the window, and no secret in any output (plain, --curl, --json).
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { startJiraFake } from "../fakes/jira.ts";
import { startFakeServer } from "../fakes/server.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const token = "test-api-token-try-7f3a91";
const user = "test-user@example.com";
const from = "2026-01-01T10:00:00Z";
const to = "2026-01-01T10:05:00Z";
const inWindow = (n: number) => ({
  id: n,
  summary: `event ${n}`,
  created: `2026-01-01T10:0${n % 5}:1${n % 10}.000Z`,
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "ccp-try-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The shipped definition with its endpoint on the fake (plain http on loopback). */
async function definitionFor(endpoint: string): Promise<string> {
  const text = await readFile(path.join(repoRoot, "connectors/jira-audit/connector.json"), "utf8");
  const file = path.join(dir, `jira-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(file, text.replace("https://{{domain}}/rest/api/3/auditing/record", endpoint));
  return file;
}

async function runTry(file: string, apiToken: string, ...flags: string[]) {
  const out: string[] = [];
  const env = {
    CCP_JIRA_AUDIT_USERNAME: user,
    CCP_JIRA_AUDIT_APITOKEN: apiToken,
    CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: "https://test-dce.example.test",
    CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: "dcr-00000000000000000000000000000000",
    CCP_JIRA_AUDIT_STREAMNAME: "Custom-JiraAudit_CL",
  };
  const io = { stdout: (l: string) => out.push(l), stderr: (l: string) => out.push(l), env };
  const code = await main(["try", file, "--from", from, "--to", to, ...flags], io);
  return { code, text: out.join("\n") };
}

function expectNoSecret(text: string): void {
  expect(text).not.toContain(token);
  expect(text).not.toContain(Buffer.from(`${user}:${token}`).toString("base64"));
}

describe("ccp-poller try", () => {
  it("reports an auth failure, exit 1, without the secret", async () => {
    const jira = await startJiraFake({ apiToken: token, records: [inWindow(1)] });
    try {
      const { code, text } = await runTry(await definitionFor(jira.endpoint), `${token}-wrong`);
      expect(code).toBe(1);
      expect(text).toMatch(/→ 401/);
      expect(text).toMatch(/FAIL auth/);
      expect(text).not.toContain(`${token}-wrong`);
    } finally {
      await jira.close();
    }
  });

  it("shows an empty window as ok with no events", async () => {
    const jira = await startJiraFake({ apiToken: token, records: [] });
    try {
      const { code, text } = await runTry(await definitionFor(jira.endpoint), token);
      expect(code).toBe(0);
      expect(text).toContain("Events extracted: 0");
      expect(text).toMatch(/none events extracted/);
      expectNoSecret(text);
    } finally {
      await jira.close();
    }
  });

  it("shows paging that stops early: the API caps the page below pageSize, so Offset ends after one page", async () => {
    const jira = await startJiraFake({
      apiToken: token,
      maxLimit: 2,
      records: [1, 2, 3, 4, 5].map(inWindow),
    });
    try {
      const { code, text } = await runTry(await definitionFor(jira.endpoint), token);
      expect(code).toBe(0);
      expect(text).toContain("Window ended: no next page (Offset)");
      expect(text).toContain("Events extracted: 2");
      expect(text).toMatch(/"CcpEventId":"[0-9a-f]{32}"/);
      expectNoSecret(text);
    } finally {
      await jira.close();
    }
  });

  it("flags events outside the window", async () => {
    const fake = await startFakeServer(() => ({
      json: {
        offset: 0,
        limit: 1000,
        total: 2,
        records: [inWindow(1), { id: 9, summary: "old", created: "2025-12-31T09:00:00.000Z" }],
      },
    }));
    try {
      const { code, text } = await runTry(
        await definitionFor(`${fake.origin}/rest/api/3/auditing/record`),
        token,
      );
      expect(code).toBe(1);
      expect(text).toContain("1 event(s) outside the window");
      expect(text).toMatch(/FAIL time filter respected/);
    } finally {
      await fake.close();
    }
  });

  it("never prints a secret: plain, --curl (as $CCP_ references) and --json", async () => {
    const jira = await startJiraFake({ apiToken: token, records: [inWindow(2)] });
    try {
      const file = await definitionFor(jira.endpoint);
      const curl = await runTry(file, token, "--curl");
      expect(curl.code).toBe(0);
      expect(curl.text).toContain(`-u "test-user@example.com:\${CCP_JIRA_AUDIT_APITOKEN}"`);
      expect(curl.text).toMatch(/curl -X GET "http:\/\/127\.0\.0\.1:\d+\/rest\/api\/3\/auditing\/record\?/);
      const json = await runTry(file, token, "--json");
      expect(JSON.parse(json.text).verdict).toEqual({
        auth: true,
        paging: true,
        eventsExtracted: true,
        timeFilterRespected: true,
      });
      for (const output of [curl.text, json.text, (await runTry(file, token)).text]) expectNoSecret(output);
    } finally {
      await jira.close();
    }
  });
});
