/**
 * An upstream that answers 429 with a Retry-After longer than the client will wait (24 h): the window fails at
 * once, and the wait is remembered on the row (NotBefore), so runs before then skip the connector without a
 * request instead of asking again every five minutes. The status line says until when, and why.
 */
import { afterEach, describe, expect, it } from "vitest";
import { runAll } from "../../src/runner/run-all.ts";
import { statusView } from "../../src/status/view.ts";
import { type JiraFake, jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";
import { type Pipeline, startPipeline } from "./harness.ts";

const azurite = useAzurite();
let jira: JiraFake | undefined;
let pipeline: Pipeline | undefined;
afterEach(async () => {
  await pipeline?.close();
  await jira?.close();
  pipeline = undefined;
  jira = undefined;
});

describe("a long Retry-After", () => {
  it("is kept on the row as NotBefore; runs before then send nothing upstream; the first run after polls again", async () => {
    jira = await startJiraFake({ records: jiraRecords(6, "2026-01-01T00:45:30Z", 150) });
    const p = await startPipeline(azurite(), jira, { now: "2026-01-01T01:00:30Z" });
    pipeline = p;
    const run = () =>
      runAll(p.deps(), [p.connector], { budgetMs: 60_000, concurrency: 1, initialLookbackMin: 15 });

    jira.fail({ kind: "status", status: 429, retryAfter: "86400" });
    const first = await run();
    expect(first.reports[0]?.outcome).toBe("failed");
    expect(jira.requests).toHaveLength(1);
    const throttled = await p.store.get("jira-audit");
    expect(throttled?.notBefore?.toISOString()).toBe("2026-01-02T01:00:30.000Z");
    expect(throttled?.statusReason).toContain("upstream asked to wait until 2026-01-02T01:00:30.000Z");
    const [line] = statusView(throttled ? [throttled] : [], p.clock.now());
    expect(line?.notBefore).toBe("2026-01-02T01:00:30.000Z");

    // Every tick for the next 24 h: no request, no new failure, the row says why.
    for (const at of ["2026-01-01T01:05:30Z", "2026-01-01T13:00:00Z", "2026-01-02T01:00:00Z"]) {
      p.clock.set(at);
      const skipped = await run();
      expect(skipped.reports[0]).toMatchObject({ outcome: "deferred", windowsCommitted: 0 });
    }
    expect(jira.requests).toHaveLength(1);
    expect((await p.store.get("jira-audit"))?.consecutiveFailures).toBe(1);

    // The window that failed is polled again, not skipped for a look-back from the new now.
    p.clock.set("2026-01-02T01:00:31Z");
    const resumed = await run();
    expect(resumed.reports[0]?.outcome).toBe("caught-up");
    const row = await p.store.get("jira-audit");
    expect(row?.notBefore).toBeUndefined();
    expect(row?.consecutiveFailures).toBe(0);
    expect((await p.rows()).length).toBe(6);
  });
});
