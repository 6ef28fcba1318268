/**
 * What an in-process CLI test runs against: real Azurite, the Logs Ingestion stand-in, and the Jira fake over
 * HTTPS (trusted through UPSTREAM_CA_FILE, as `npm start` does), started once per test file. `settings` gives
 * each test its own watermark table and DCR, so its rows are its own.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import type { AzuriteInstance } from "../../src/local/azurite.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { loadOrCreateCertificate } from "../../src/local/standin/credentials.ts";
import { type JiraFake, type JiraRecord, startJiraFake } from "../fakes/jira.ts";

export const STREAM = "Custom-JiraAudit_CL";
const MINUTE = 60_000;

export interface CliFixture {
  /** A scratch folder removed after the file's tests. */
  dir: string;
  jira: JiraFake;
  standin: IngestionStandin;
  /** App settings for one test: Azurite, the stand-in, the HTTPS fake, and the values of each connector id. */
  settings(overrides?: Record<string, string>): Record<string, string>;
}

export function useCliFixture(options: {
  azurite: () => AzuriteInstance;
  apiToken: string;
  /** The fake's records, given the start of the hour before now (the CLI runs on the system clock). */
  records: (hourAgo: string) => JiraRecord[];
  tablePrefix: string;
  /** Upper-case connector ids whose placeholder settings point at the fake and the stand-in. */
  connectorIds: string[];
}): CliFixture {
  let upstreamCaFile = "";
  const fixture = {
    settings(overrides: Record<string, string> = {}): Record<string, string> {
      const dcrId = `dcr-${randomBytes(16).toString("hex")}`;
      const connectorValues = options.connectorIds.map((id) => ({
        [`CCP_${id}_DOMAIN`]: new URL(fixture.jira.origin).host,
        [`CCP_${id}_USERNAME`]: "test-user@example.com",
        [`CCP_${id}_APITOKEN`]: options.apiToken,
        [`CCP_${id}_DATACOLLECTIONENDPOINT`]: fixture.standin.endpoint,
        [`CCP_${id}_DATACOLLECTIONRULEIMMUTABLEID`]: dcrId,
        [`CCP_${id}_STREAMNAME`]: STREAM,
      }));
      return {
        AzureWebJobsStorage: options.azurite().connectionString,
        STATE_TABLE_NAME: `${options.tablePrefix}${randomBytes(4).toString("hex")}`,
        INGESTION_STANDIN_CA_FILE: fixture.standin.caCertPath,
        UPSTREAM_CA_FILE: upstreamCaFile,
        INITIAL_LOOKBACK_MINUTES: "30",
        ...Object.assign({}, ...connectorValues),
        ...overrides,
      };
    },
  } as CliFixture;

  beforeAll(async () => {
    fixture.dir = await mkdtemp(path.join(tmpdir(), "ccp-cli-"));
    const certificate = await loadOrCreateCertificate(path.join(fixture.dir, "upstream"));
    upstreamCaFile = certificate.certPath;
    const hourAgo = new Date(Math.floor(Date.now() / MINUTE) * MINUTE - 60 * MINUTE + 30_000).toISOString();
    fixture.jira = await startJiraFake({
      apiToken: options.apiToken,
      records: options.records(hourAgo),
      tls: { key: certificate.keyPem, cert: certificate.certPem },
    });
    fixture.standin = await startIngestionStandin({ dataDir: path.join(fixture.dir, "ingestion") });
  });

  afterAll(async () => {
    await fixture.jira?.close();
    await fixture.standin?.stop();
    if (fixture.dir) await rm(fixture.dir, { recursive: true, force: true });
  });
  return fixture;
}
