/**
 * `npm run bench:fanout [-- --connectors <n>] [--windows <n>] [--workers 1,2,4] [--upstream-ms <ms>]`: the
 * fan-out mode's costs (issue 10), on loopback against in-memory Azurite, the Logs Ingestion stand-in and the
 * HTTPS Jira fake.
 *
 * 1. Planner: `planFanout` over 1,000 connectors with 1-minute windows: the first tick (registers every row,
 *    enqueues one message each), a tick right after (nothing new: the idempotent read of every row), and a
 *    tick one window later with the earlier messages done. Time per tick and per connector.
 * 2. Throughput: one connector's catch-up backlog split into ranges, drained by 1, 2 and 4 worker processes
 *    (src/fanout/worker-process.ts, the local stand-in for the queue trigger), each upstream request taking
 *    `--upstream-ms`. Workers are started and ready before the planner enqueues, so process start-up is not
 *    counted; the clock stops when the watermark reaches the end of the backlog.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Connector } from "../src/definition/schema.ts";
import { createFakeClock } from "../src/engine/clock.ts";
import { planFanout } from "../src/fanout/planner.ts";
import { createFanoutRuntime } from "../src/fanout/runtime.ts";
import { startAzurite } from "../src/local/azurite.ts";
import { startIngestionStandin } from "../src/local/ingestion-standin.ts";
import { loadOrCreateCertificate } from "../src/local/standin/credentials.ts";
import { createRuntime } from "../src/runner/runtime.ts";
import { jiraRecords, startJiraFake } from "../test/fakes/jira.ts";

const repoRoot = path.resolve(import.meta.dirname, "..");
const workerEntry = path.join(repoRoot, "src/fanout/worker-process.ts");
const API_TOKEN = "test-api-token-jira-bench-0000";
const NOW = "2026-01-02T00:00:30Z";

const { values } = parseArgs({
  options: {
    connectors: { type: "string", default: "1000" },
    windows: { type: "string", default: "240" },
    "range-windows": { type: "string", default: "10" },
    workers: { type: "string", default: "1,2,4" },
    "upstream-ms": { type: "string", default: "50" },
  },
});
const connectorCount = Number(values.connectors);
const backlogWindows = Number(values.windows);
const workerCounts = (values.workers ?? "").split(",").map(Number);
const upstreamMs = Number(values["upstream-ms"]);

const azurite = await startAzurite();
const dataDir = await mkdtemp(path.join(tmpdir(), "ccp-bench-fanout-"));
const standin = await startIngestionStandin({ dataDir });
const certificate = await loadOrCreateCertificate(dataDir);
const jira = await startJiraFake({
  apiToken: API_TOKEN,
  // Two records per 5-minute window of the backlog.
  records: jiraRecords(
    backlogWindows * 2,
    new Date(Date.parse(NOW) - backlogWindows * 300_000).toISOString(),
    150,
  ),
  tls: { key: certificate.keyPem, cert: certificate.certPem },
});

function settings(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? "",
    AzureWebJobsStorage: azurite.connectionString,
    STATE_TABLE_NAME: `Bench${randomBytes(4).toString("hex")}`,
    CONNECTORS_DIR: "connectors/jira-audit",
    INGESTION_STANDIN_CA_FILE: certificate.certPath,
    UPSTREAM_CA_FILE: certificate.certPath,
    CCP_JIRA_AUDIT_DOMAIN: new URL(jira.origin).host,
    CCP_JIRA_AUDIT_USERNAME: "test-user@example.com",
    CCP_JIRA_AUDIT_APITOKEN: API_TOKEN,
    CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: standin.endpoint,
    CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: "dcr-00000000000000000000000000000b10",
    CCP_JIRA_AUDIT_STREAMNAME: "Custom-JiraAudit_CL",
    POLL_MODE: "fanout",
    FANOUT_QUEUE_NAME: `bench-${randomBytes(4).toString("hex")}`,
    FANOUT_RANGE_WINDOWS: values["range-windows"] ?? "10",
    INITIAL_LOOKBACK_MINUTES: String(backlogWindows * 5),
  };
}

async function fanoutFor(env: Record<string, string>) {
  const clock = createFakeClock(NOW);
  const runtime = await createRuntime({ env, rootDir: repoRoot, clock, write: () => {} });
  return { clock, runtime, fanout: await createFanoutRuntime(runtime, env, repoRoot) };
}

async function benchPlanner() {
  const env = settings();
  const { clock, runtime, fanout } = await fanoutFor({ ...env, INITIAL_LOOKBACK_MINUTES: "1" });
  const [jiraConnector] = runtime.connectors;
  if (jiraConnector === undefined) throw new Error("The Jira connector did not load");
  const connectors: Connector[] = Array.from({ length: connectorCount }, (_, i) => ({
    ...jiraConnector,
    id: `jira-${String(i).padStart(4, "0")}`,
    properties: {
      ...jiraConnector.properties,
      request: { ...jiraConnector.properties.request, queryWindowInMin: 1, queryWindowDelayInMin: 0 },
    },
  }));
  const tick = async (label: string) => {
    const started = performance.now();
    const report = await planFanout(fanout, connectors);
    const ms = performance.now() - started;
    return {
      tick: label,
      ms: Math.round(ms),
      perConnectorMs: +(ms / connectorCount).toFixed(3),
      enqueued: report.enqueued.length,
    };
  };
  const first = await tick("first (registers rows, enqueues)");
  const idle = await tick("right after (all queued)");
  // The workers' side of a tick, done directly: messages consumed, serial rows gone, one window more due.
  while (
    (await fanout.queues.work.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems.length > 0
  ) {}
  for (const range of await fanout.ranges.listAll()) await fanout.ranges.remove(range);
  clock.advance(60_000);
  const steady = await tick("one window later");
  await fanout.queues.work.delete();
  await fanout.queues.poison.delete();
  return [first, idle, steady];
}

interface Worker {
  ready: Promise<void>;
  stop(): Promise<void>;
}

function spawnWorker(env: Record<string, string>): Worker {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", workerEntry, `--clock-offset-ms=${Date.parse(NOW) - Date.now()}`],
    {
      env,
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  let output = "";
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.includes('"fan-out worker started"')) resolve();
    });
    child.once("exit", (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
  const exited = new Promise((resolve) => child.once("close", resolve));
  return {
    ready,
    stop: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

async function benchWorkers(count: number) {
  const env = settings();
  const { runtime, fanout } = await fanoutFor(env);
  const workers = Array.from({ length: count }, () => spawnWorker(env));
  try {
    await Promise.all(workers.map((w) => w.ready));
    jira.fail(
      ...Array.from({ length: backlogWindows * 2 }, () => ({
        kind: "slowHeaders" as const,
        delayMs: upstreamMs,
      })),
    );
    const started = performance.now();
    const plan = await planFanout(fanout, runtime.connectors);
    const end = new Date(Date.parse(NOW) - 30_000).toISOString();
    for (;;) {
      const row = await runtime.store.get("jira-audit");
      if (row?.committedThrough?.toISOString() === end) break;
      await delay(20);
    }
    const seconds = (performance.now() - started) / 1000;
    return {
      workers: count,
      ranges: plan.enqueued.length,
      windows: backlogWindows,
      seconds: +seconds.toFixed(2),
      windowsPerSecond: +(backlogWindows / seconds).toFixed(1),
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await fanout.queues.work.delete();
    await fanout.queues.poison.delete();
  }
}

try {
  console.log(
    `fan-out bench on ${cpus().length} CPU(s): ${connectorCount} connectors; backlog ${backlogWindows} windows, ${upstreamMs} ms per upstream request`,
  );
  const planner = await benchPlanner();
  console.table(planner);
  const throughput = [];
  for (const count of workerCounts) throughput.push(await benchWorkers(count));
  console.table(throughput);
  console.log(JSON.stringify({ planner, throughput }));
} finally {
  await jira.close();
  await standin.stop();
  await azurite.stop();
  await rm(dataDir, { recursive: true, force: true });
}
