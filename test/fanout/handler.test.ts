/**
 * POLL_MODE=fanout in one process, the way the host calls the functions: the timer plans onto a real Azurite
 * queue, and the exported `work` queue handler gets each message as the trigger would hand it over. Real
 * Azurite tables, the stand-in and the HTTPS Jira fake; a fake clock.
 */
import { randomBytes } from "node:crypto";
import functions from "@azure/functions";
import { afterEach, describe, expect, it } from "vitest";
import { createRangeStore } from "../../src/fanout/ranges.ts";
import { pollTimer } from "../../src/functions/poll.ts";
import { workerRuntime } from "../../src/functions/support/worker-runtime.ts";
import { workQueue } from "../../src/functions/work.ts";
import { createStateTableClient } from "../../src/state/index.ts";
import { jiraRecords } from "../fakes/jira.ts";
import { type AppEnv, JIRA_API_TOKEN, onTimeTick, startAppEnv } from "../functions/app-env.ts";
import { useAzurite } from "../support/azurite.ts";
import { drainQueue, queuesOf, sourceIds } from "./support.ts";

const { InvocationContext } = functions;
const azurite = useAzurite();
const timer = onTimeTick;

let app: AppEnv | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

// Two records in each 5-minute window from 00:00 to 01:00: twelve windows due at 01:00:30 with a 60-minute look-back.
const backlog = () => jiraRecords(24, "2026-01-01T00:00:30Z", 150);
const NOW = "2026-01-01T01:00:30Z";

async function startFanout(settings: Record<string, string> = {}): Promise<AppEnv> {
  return startAppEnv(azurite(), {
    now: NOW,
    records: backlog(),
    settings: {
      POLL_MODE: "fanout",
      FANOUT_QUEUE_NAME: `work-${randomBytes(4).toString("hex")}`,
      FANOUT_RANGE_WINDOWS: "3",
      INITIAL_LOOKBACK_MINUTES: "60",
      ...settings,
    },
  });
}

type Received = Awaited<ReturnType<typeof drainQueue>>[number];

/** Hands each message to the handler as the trigger does (decoded, parsed), with `dequeueCount` in its metadata. */
async function deliver(env: AppEnv, messages: readonly Received[], dequeueCount = 1): Promise<string[]> {
  const failed: string[] = [];
  for (const message of messages) {
    const context = new InvocationContext({
      functionName: "work",
      invocationId: randomBytes(8).toString("hex"),
      triggerMetadata: { dequeueCount },
      logHandler: (level, ...args) => env.logs.push(`${level} ${args.map(String).join(" ")}`),
    });
    const body = JSON.parse(Buffer.from(message.messageText, "base64").toString("utf8"));
    await workQueue(body, context).catch((error: Error) => failed.push(error.message));
  }
  return failed;
}

const deliverAll = async (env: AppEnv) => deliver(env, await drainQueue(queuesOf(process.env).work));

async function tick(env: AppEnv, at = NOW): Promise<number> {
  env.clock.set(at);
  await pollTimer(timer, env.context("poll"));
  const planned = env.logs.filter((line) => line.includes('"fan-out planned"')).at(-1) ?? "{}";
  return JSON.parse(planned.replace(/^\w+ /, "")).enqueued as number;
}

describe("fan-out in one process", () => {
  it("plans a catch-up as parallel ranges once, and the work handler ingests every window once with a contiguous watermark", async () => {
    app = await startFanout();
    expect(await tick(app)).toBe(4); // 12 windows in ranges of 3
    // Idempotent: the next tick, at the same time or a minute later, finds everything queued.
    expect(await tick(app)).toBe(0);
    expect(await tick(app, "2026-01-01T01:01:30Z")).toBe(0);
    const queued = await queuesOf(process.env).work.getProperties();
    expect(queued.approximateMessagesCount).toBe(4);

    expect(await deliverAll(app)).toEqual([]);
    const rows = await app.rows();
    expect(sourceIds(rows)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    expect(rows).toHaveLength(24);
    const { store } = await workerRuntime();
    const row = await store.get("jira-audit");
    expect(row).toMatchObject({ status: "Healthy", consecutiveFailures: 0 });
    expect(row?.committedThrough?.toISOString()).toBe("2026-01-01T01:00:00.000Z");
    expect(row?.totals.accepted).toBe(24);
    // Every range folded and its row deleted; the history shows the watermark moving without a hole.
    const ranges = createRangeStore(createStateTableClient(process.env).tableClient, app.clock);
    expect(await ranges.listAll()).toEqual([]);
    const history = (await store.history("jira-audit")).reverse();
    expect(history[0]?.window.start.toISOString()).toBe("2026-01-01T00:00:00.000Z");
    for (const [index, record] of history.entries()) {
      expect(record.outcome).toBe("Succeeded");
      if (index > 0) expect(record.window.start).toEqual(history[index - 1]?.window.end);
    }
    expect(app.logs.join("\n")).not.toContain(JIRA_API_TOKEN);
  });

  it("runs a short backlog as one serial message under the connector's lease, and a caught-up connector gets none", async () => {
    app = await startFanout({ FANOUT_RANGE_WINDOWS: "12" });
    expect(await tick(app)).toBe(1);
    const [message] = await drainQueue(queuesOf(process.env).work, { keep: true });
    expect(JSON.parse(Buffer.from(message?.messageText ?? "", "base64").toString("utf8"))).toMatchObject({
      connectorId: "jira-audit",
      mode: "serial",
      start: "2026-01-01T00:00:00.000Z",
      end: "2026-01-01T01:00:00.000Z",
    });
    expect(await deliverAll(app)).toEqual([]);
    expect(sourceIds(await app.rows())).toHaveLength(24);
    expect(await tick(app, "2026-01-01T01:02:30Z")).toBe(0);
    // The next window is due at 01:05: one serial message for it.
    expect(await tick(app, "2026-01-01T01:05:30Z")).toBe(1);
  });

  it("a message for a range another worker holds completes and comes back, invisible, for when that lease ends", async () => {
    app = await startFanout();
    await tick(app);
    const decode = (m: Received) => JSON.parse(Buffer.from(m.messageText, "base64").toString("utf8"));
    // The earliest range is held, so nothing can be folded past it.
    const [first, ...others] = (await drainQueue(queuesOf(process.env).work)).sort((a, b) =>
      decode(a).start.localeCompare(decode(b).start),
    );
    const key = first === undefined ? "" : decode(first).rangeKey;
    const ranges = createRangeStore(createStateTableClient(process.env).tableClient, app.clock);
    const { store } = await workerRuntime();
    const base = await store.get("jira-audit");
    if (base === undefined) throw new Error("no watermark row");
    const holder = await ranges.acquire(key, "another-worker", 60_000, base, []);
    expect(holder).toBeDefined();

    expect(await deliver(app, first ? [first] : [])).toEqual([]);
    const work = queuesOf(process.env).work;
    expect((await work.getProperties()).approximateMessagesCount).toBe(1);
    expect((await work.peekMessages()).peekedMessageItems).toEqual([]); // not visible before the lease ends
    expect((await ranges.get(key))?.acceptedThrough).toEqual((await ranges.get(key))?.start);
    // The other ranges went through; the held one keeps the watermark at its start.
    expect(await deliver(app, others)).toEqual([]);
    expect((await store.get("jira-audit"))?.committedThrough).toBeUndefined();
  });

  it("retries a failing range through the queue and, on the last attempt, shows the poison on the watermark row", async () => {
    app = await startFanout();
    await tick(app);
    // Every request is refused: every range fails.
    app.jira.fail(
      ...Array.from({ length: 8 }, () => ({
        kind: "status" as const,
        status: 403,
        body: "test: no permission",
      })),
    );
    const messages = await drainQueue(queuesOf(process.env).work);
    const first = await deliver(app, messages, 1);
    expect(first).toHaveLength(4);
    expect(first[0]).toMatch(/attempt 1 of 5.*403/);
    const { store } = await workerRuntime();
    // Not poisoned yet: the range rows carry the error; the watermark row has not moved and is not failing.
    expect(await store.get("jira-audit")).toMatchObject({
      committedThrough: undefined,
      consecutiveFailures: 0,
    });
    const ranges = createRangeStore(createStateTableClient(process.env).tableClient, app.clock);
    expect((await ranges.listAll()).map((range) => range.lastError)).toEqual(
      Array.from({ length: 4 }, () => expect.stringContaining("403")),
    );
    // While the host retries them, the planner queues nothing.
    expect(await tick(app)).toBe(0);

    const last = await deliver(app, messages, 5);
    expect(last).toHaveLength(4);
    const poisoned = await store.get("jira-audit");
    expect(poisoned).toMatchObject({ status: "Failing", lastErrorKind: "FanoutPoisonedError" });
    expect(poisoned?.lastError).toMatch(
      /failed 5 times and moves to the poison queue work-\w+-poison: .*403/,
    );
    expect(poisoned?.lastError).not.toContain(JIRA_API_TOKEN);
    expect((await ranges.listAll()).every((range) => range.poisonedAt !== undefined)).toBe(true);

    // Once the messages' time to live is over, the planner tries the ranges again; the upstream has recovered.
    expect(await tick(app, "2026-01-01T01:16:30Z")).toBe(4 + 1); // and one range for the three new windows
    expect(await deliverAll(app)).toEqual([]);
    expect(sourceIds(await app.rows())).toHaveLength(24);
    expect(await store.get("jira-audit")).toMatchObject({ status: "Healthy", consecutiveFailures: 0 });
  });
});
