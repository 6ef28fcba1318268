/**
 * The Functions app as the host would run it, minus the host: app settings in `process.env` (restored on close),
 * real Azurite, the local Logs Ingestion stand-in, and the Jira fake over HTTPS so the shipped `https://`
 * connector runs unchanged (UPSTREAM_CA_FILE trusts the fake's certificate). Only the clock is swapped, through
 * the function module's test hook, so ticks and time budgets are deterministic.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import functions from "@azure/functions";
import { createFakeClock, type FakeClock } from "../../src/engine/clock.ts";
import type { Clock } from "../../src/engine/types.ts";
import { setRuntimeFactoryForTests } from "../../src/functions/support/worker-runtime.ts";
import type { AzuriteInstance } from "../../src/local/azurite.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { loadOrCreateCertificate } from "../../src/local/standin/credentials.ts";
import { createRuntime } from "../../src/runner/runtime.ts";
import { type JiraFake, type JiraRecord, startJiraFake } from "../fakes/jira.ts";

// The package is a CommonJS bundle: named imports of its classes fail under native ESM.
const { InvocationContext, HttpRequest } = functions;

export const repoRoot = path.resolve(import.meta.dirname, "../..");
export const JIRA_API_TOKEN = "test-api-token-jira-func-0000";
export const DCR_ID = "dcr-00000000000000000000000000000042";
export const STREAM = "Custom-JiraAudit_CL";

/** What the host passes the timer handler on an on-time tick. */
export const onTimeTick = {
  isPastDue: false,
  schedule: { adjustForDST: false },
  scheduleStatus: { last: "", next: "", lastUpdated: "" },
};

export interface AppEnv {
  clock: FakeClock;
  jira: JiraFake;
  standin: IngestionStandin;
  /** Every line the functions logged through their InvocationContext, as `<level> <line>`. */
  logs: string[];
  context(functionName: string): InstanceType<typeof InvocationContext>;
  request(init: { accept?: string; query?: Record<string, string> }): InstanceType<typeof HttpRequest>;
  rows(): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

export interface AppEnvOptions {
  now: string;
  records?: JiraRecord[];
  /** App settings on top of the defaults below (e.g. RUN_BUDGET_SECONDS). */
  settings?: Record<string, string>;
  /** Fake time each upstream request takes, seen by the runner the next time it reads the clock. */
  upstreamRequestMs?: number;
}

export async function startAppEnv(azurite: AzuriteInstance, options: AppEnvOptions): Promise<AppEnv> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "ccp-func-"));
  const standin = await startIngestionStandin({ dataDir });
  // One self-signed certificate for both loopback servers (SAN 127.0.0.1): the stand-in already made it.
  const certificate = await loadOrCreateCertificate(dataDir);
  const jira = await startJiraFake({
    apiToken: JIRA_API_TOKEN,
    records: options.records ?? [],
    tls: { key: certificate.keyPem, cert: certificate.certPem },
  });
  const settings: Record<string, string> = {
    AzureWebJobsStorage: azurite.connectionString,
    STATE_TABLE_NAME: `Func${randomBytes(4).toString("hex")}`,
    CONNECTORS_DIR: "connectors/jira-audit",
    INGESTION_STANDIN_CA_FILE: certificate.certPath,
    UPSTREAM_CA_FILE: certificate.certPath,
    CCP_JIRA_AUDIT_DOMAIN: new URL(jira.origin).host,
    CCP_JIRA_AUDIT_USERNAME: "test-user@example.com",
    CCP_JIRA_AUDIT_APITOKEN: JIRA_API_TOKEN,
    CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: standin.endpoint,
    CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: DCR_ID,
    CCP_JIRA_AUDIT_STREAMNAME: STREAM,
    ...options.settings,
  };
  const saved = Object.fromEntries(Object.keys(settings).map((name) => [name, process.env[name]]));
  Object.assign(process.env, settings);

  const clock = createFakeClock(options.now);
  const runtimeClock =
    options.upstreamRequestMs === undefined ? clock : slowUpstream(clock, jira, options.upstreamRequestMs);
  setRuntimeFactoryForTests((runtimeOptions) => createRuntime({ ...runtimeOptions, clock: runtimeClock }));

  const logs: string[] = [];
  return {
    clock,
    jira,
    standin,
    logs,
    context: (functionName) =>
      new InvocationContext({
        functionName,
        invocationId: randomBytes(8).toString("hex"),
        logHandler: (level, ...args) => logs.push(`${level} ${args.map(String).join(" ")}`),
      }),
    request: ({ accept, query }) =>
      new HttpRequest({
        method: "GET",
        url: "http://127.0.0.1/api/status",
        headers: accept === undefined ? {} : { accept },
        ...(query ? { query } : {}),
      }),
    rows: () => standin.readRows(DCR_ID, STREAM),
    close: async () => {
      setRuntimeFactoryForTests(undefined);
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await jira.close();
      await standin.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A clock on which every upstream request has taken `perRequestMs` by the time the runner looks. */
function slowUpstream(clock: FakeClock, upstream: JiraFake, perRequestMs: number): Clock {
  let seen = 0;
  return {
    now: () => {
      clock.advance((upstream.requests.length - seen) * perRequestMs);
      seen = upstream.requests.length;
      return clock.now();
    },
    sleep: (ms, signal) => clock.sleep(ms, signal),
  };
}
