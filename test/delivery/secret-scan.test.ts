/**
 * The secret scan: the whole pipeline (engine, real watermark store on Azurite, real Logs Ingestion client on
 * the stand-in, blob dead letters, the production JSON logger) runs every auth type whose secret can leak
 * through its failure paths, against a hostile upstream that echoes every request header and body back in its
 * error bodies and headers. Then every log line, every error (message, stack, cause, own properties), every
 * run report, every table entity (watermark rows and history partitions), every stored row and every dead
 * letter is searched for the fake secrets, plain, URL-encoded and base64. Committed snapshots are scanned too.
 */
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { inspect } from "node:util";
import { BlobServiceClient } from "@azure/storage-blob";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Connector } from "../../src/definition/schema.ts";
import { createFakeClock } from "../../src/engine/clock.ts";
import { createEngine } from "../../src/engine/engine.ts";
import { createHttpClient } from "../../src/engine/http.ts";
import { type IngestionStandin, startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { createJsonLogger } from "../../src/runner/logger.ts";
import { runAll } from "../../src/runner/run-all.ts";
import type { RunnerDeps } from "../../src/runner/types.ts";
import { createBlobDeadLetterStore } from "../../src/sink/dead-letter.ts";
import { createLogsIngestionSink } from "../../src/sink/logs-ingestion-sink.ts";
import { standinClientOptions } from "../../src/sink/settings.ts";
import { createWatermarkStore } from "../../src/state/index.ts";
import { makeConnector } from "../engine/connector.ts";
import { type JwtFake, startJwtFake } from "../fakes/jwt.ts";
import { type OAuth2Fake, startOAuth2Fake } from "../fakes/oauth2.ts";
import { type FakeServer, type RecordedRequest, startFakeServer } from "../fakes/server.ts";
import { type SessionFake, startSessionFake } from "../fakes/session.ts";
import { freshTableClient, useAzurite } from "../support/azurite.ts";
import { repoRoot } from "./pipeline.ts";
import { leakedSecrets } from "./secrets.ts";

const azurite = useAzurite();

const USER = "test-user@example.com";
const SECRET = {
  basic: "test-password-basic-5ca9",
  apiKey: "test-api-key-5ca9-0001",
  clientSecret: "test-client-secret-5ca9",
  jwtPassword: "test-password-jwt-5ca9",
  sessionPassword: "test-password-session-5ca9",
} as const;
const DCR_ID = "dcr-00000000000000000000000000005ca9";
const STREAM = "Custom-SecretScan_CL";
const NOW = "2026-01-01T00:05:30Z";
const WINDOW = { start: new Date("2026-01-01T00:00:00Z"), end: new Date("2026-01-01T00:05:00Z") };

/**
 * Upstream answers that carry the request back: error statuses, a 200 that is not JSON, a credential placed
 * across the point where error excerpts are cut, and a good page.
 */
const DATA_MODES = ["500", "401", "403", "400", "malformed", "cut", "ok"] as const;
/** Token/login endpoint answers for the auth types that have one. */
const LOGIN_MODES = ["401", "400", "500", "malformed", "cut"] as const;
/** Where error excerpts of response bodies end (src/engine/redact.ts `excerpt`). */
const EXCERPT_CHARS = 200;

/**
 * Everything the request carried, credentials first, as a hostile or careless API would put it in an error
 * (first, so even a short excerpt of the body holds them).
 */
function echo(request: RecordedRequest): string {
  const { authorization, "x-api-key": apiKey, "x-session-id": sessionId, ...otherHeaders } = request.headers;
  return JSON.stringify({
    authorization,
    apiKey,
    sessionId,
    body: request.body,
    query: request.rawQuery,
    error: "request rejected",
    headers: otherHeaders,
  });
}

/** The credential a request carried, in plain text (a Basic credential decoded to its password). */
function plainCredential(request: RecordedRequest): string {
  const form = new URLSearchParams(request.body);
  const fromBody = form.get("client_secret") ?? form.get("password");
  if (fromBody) return fromBody;
  const header =
    request.headers["x-api-key"] ?? request.headers["x-session-id"] ?? request.headers.authorization ?? "";
  const [scheme, value = ""] = header.split(" ");
  if (scheme === "Basic") return Buffer.from(value, "base64").toString("utf8").split(":")[1] ?? "";
  return header.split(" ").at(-1) ?? "";
}

async function startHostileUpstream(): Promise<FakeServer> {
  return startFakeServer((request) => {
    const mode = request.path.split("/").at(-1) ?? "";
    const echoed = {
      "x-echo-authorization": request.headers.authorization ?? "",
      "x-echo-query": request.rawQuery,
    };
    if (mode === "ok") return { json: { events: [{ id: `evt-${request.path.split("/")[2]}` }] } };
    if (mode === "big") return { json: { events: [{ id: "evt-big", padding: "x".repeat(1_100_000) }] } };
    if (mode === "cut") {
      // 18 characters of the credential fall before the cut: masking must happen before truncation.
      const body = `${"-".repeat(EXCERPT_CHARS - 18)}${plainCredential(request)} and more`;
      return { status: 400, headers: { "content-type": "text/plain" }, body };
    }
    if (mode === "malformed") {
      return { headers: { "content-type": "application/json", ...echoed }, body: `<html>${echo(request)}` };
    }
    return {
      status: Number(mode),
      headers: {
        "content-type": "application/json",
        "www-authenticate": `Basic realm="${echo(request)}"`,
        ...echoed,
      },
      body: echo(request),
    };
  });
}

interface Fakes {
  hostile: FakeServer;
  oauth2: OAuth2Fake;
  jwt: JwtFake;
  session: SessionFake;
}

/** One connector per auth type and failure path, each pointed at the hostile upstream. */
function connectors(fakes: Fakes, standin: IngestionStandin): Connector[] {
  const { hostile } = fakes;
  const dcrConfig = {
    dataCollectionEndpoint: standin.endpoint,
    dataCollectionRuleImmutableId: DCR_ID,
    streamName: STREAM,
  };
  const connector = (id: string, auth: Record<string, unknown>, secrets: string[], dataPath: string) => ({
    ...makeConnector(
      {
        auth,
        dcrConfig,
        request: {
          apiEndpoint: `${hostile.origin}/data/${id}/${dataPath}`,
          startTimeAttributeName: "since",
          endTimeAttributeName: "until",
          queryParameters: { limit: "10" },
        },
        response: { eventsJsonPaths: ["$.events"] },
      },
      secrets,
    ),
    id,
  });
  const auths: Record<string, (loginUrl?: string) => { auth: Record<string, unknown>; secrets: string[] }> = {
    basic: () => ({
      auth: { type: "Basic", userName: USER, password: SECRET.basic },
      secrets: [SECRET.basic],
    }),
    apikey: () => ({
      auth: { type: "APIKey", apiKey: SECRET.apiKey, apiKeyName: "X-Api-Key", apiKeyIdentifier: "SSWS" },
      secrets: [SECRET.apiKey],
    }),
    oauth2: (loginUrl = fakes.oauth2.tokenUrl) => ({
      auth: {
        type: "OAuth2",
        clientId: "test-client",
        clientSecret: SECRET.clientSecret,
        grantType: "client_credentials",
        tokenEndpoint: loginUrl,
      },
      secrets: [SECRET.clientSecret],
    }),
    jwt: (loginUrl = fakes.jwt.loginUrl) => ({
      auth: {
        type: "JwtToken",
        tokenEndpoint: loginUrl,
        userName: { key: "username", value: USER },
        password: { key: "password", value: SECRET.jwtPassword },
      },
      secrets: [SECRET.jwtPassword],
    }),
    session: (loginUrl = fakes.session.loginUrl) => ({
      auth: {
        type: "Session",
        userName: { key: "username", value: USER },
        password: { key: "password", value: SECRET.sessionPassword },
        sessionLoginRequestUri: loginUrl,
        sessionIdName: "X-Session-Id",
      },
      secrets: [SECRET.sessionPassword],
    }),
  };
  const all: Connector[] = [];
  for (const [type, make] of Object.entries(auths)) {
    for (const mode of DATA_MODES) {
      const { auth, secrets } = make();
      all.push(connector(`${type}-data-${mode}`, auth, secrets, mode));
    }
    if (type === "basic" || type === "apikey") continue;
    for (const mode of LOGIN_MODES) {
      const { auth, secrets } = make(`${hostile.origin}/login/${type}/${mode}`);
      all.push(connector(`${type}-login-${mode}`, auth, secrets, "ok"));
    }
  }
  return all;
}

function bigIntSafe(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => (typeof item === "bigint" ? item.toString() : item));
}

async function filesUnder(folder: string, keep: (file: string) => boolean): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter(keep);
}

describe("secret scan", () => {
  const surfaces = new Map<string, string>();
  const add = (where: string, text: string) => surfaces.set(where, `${surfaces.get(where) ?? ""}\n${text}`);
  let fakes: Fakes;
  let standin: IngestionStandin;
  let dataDir: string;
  let all: Connector[];
  let secrets: string[];

  beforeAll(async () => {
    const clock = createFakeClock(NOW);
    const hostile = await startHostileUpstream();
    fakes = {
      hostile,
      oauth2: await startOAuth2Fake({ clock, clientId: "test-client", clientSecret: SECRET.clientSecret }),
      jwt: await startJwtFake({
        clock,
        credentials: {
          kind: "fields",
          userKey: "username",
          userName: USER,
          passwordKey: "password",
          password: SECRET.jwtPassword,
        },
      }),
      session: await startSessionFake({
        clock,
        userKey: "username",
        userName: USER,
        passwordKey: "password",
        password: SECRET.sessionPassword,
        sessionIdName: "X-Session-Id",
      }),
    };
    dataDir = await mkdtemp(path.join(tmpdir(), "ccp-secret-scan-"));
    standin = await startIngestionStandin({ dataDir });
    all = connectors(fakes, standin);

    const logLines: string[] = [];
    const logger = createJsonLogger((_level, line) => logLines.push(line), {
      secrets: () => all.flatMap((c) => c.secrets),
      now: () => clock.now(),
    });
    const tableClient = await freshTableClient(azurite(), "SecretScan");
    const container = BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(
      "secret-scan-dead-letter",
    );
    const engine = createEngine({ clock, logger, http: createHttpClient({ clock, logger }) });
    const deps: RunnerDeps = {
      engine,
      store: createWatermarkStore({ tableClient, clock, logger }),
      sink: createLogsIngestionSink({
        credential: standin.tokenCredential,
        clientOptions: standinClientOptions(standin.caCertPem, {
          retryOptions: { maxRetries: 1, retryDelayInMs: 5, maxRetryDelayInMs: 10 },
        }),
        logger,
        deadLetter: createBlobDeadLetterStore(container),
      }),
      clock,
      logger,
      owner: "secret-scan",
    };
    const run = async (connectorsToRun: Connector[]) => {
      const summary = await runAll(deps, connectorsToRun, {
        budgetMs: 60_000,
        concurrency: 4,
        initialLookbackMin: 5,
      });
      add("run reports", bigIntSafe(summary.reports));
    };

    // Upstream and login failures, with a healthy sink.
    await run(all);
    // Sink failures: the same good pages, refused by the service, for every auth type.
    const sinkBound = all
      .filter((c) => c.id.endsWith("-data-ok"))
      .map((c) => ({ ...c, id: c.id.replace("-data-ok", "-sink-500") }));
    standin.setFault({ kind: "serverError" });
    await run(sinkBound);
    standin.setFault(undefined);
    // A record no call can carry goes to the dead-letter container.
    const [basic] = all;
    if (!basic) throw new Error("no connectors");
    const oversized = {
      ...basic,
      id: "basic-dead-letter",
      properties: {
        ...basic.properties,
        request: { ...basic.properties.request, apiEndpoint: `${fakes.hostile.origin}/data/dl/big` },
      },
    };
    await run([oversized]);

    // The same failures straight from the engine: errors as thrown, with stack, cause and own properties.
    for (const connector of all) {
      try {
        for await (const _page of engine.pollWindow(connector, WINDOW)) {
          // Pages are not needed, only the failure.
        }
      } catch (error) {
        add("engine errors", inspect(error, { depth: 10, showHidden: true }));
        add("engine errors", error instanceof Error ? `${error.message}\n${error.stack}` : String(error));
      }
    }

    add("log lines", logLines.join("\n"));
    const entities: unknown[] = [];
    for await (const entity of tableClient.listEntities()) entities.push(entity);
    add("table entities", bigIntSafe(entities));
    for (const file of await filesUnder(dataDir, () => true))
      add(`stand-in ${file}`, await readFile(file, "utf8"));
    for await (const blob of container.listBlobsFlat()) {
      const content = await container.getBlobClient(blob.name).downloadToBuffer();
      add(`dead letter ${blob.name}`, content.toString("utf8"));
    }
    secrets = [
      ...Object.values(SECRET),
      // A cut-off secret is still a leak: its first 16 characters are distinctive enough to count.
      ...Object.values(SECRET).map((secret) => secret.slice(0, 16)),
      `${USER}:${SECRET.basic}`,
      // Obtained at run time, bound nowhere: as secret as the passwords that bought them.
      ...fakes.oauth2.accessTokens.issued,
      ...fakes.jwt.tokens.issued,
      ...fakes.session.sessions.issued,
    ];
  }, 60_000);

  afterAll(async () => {
    await standin?.stop();
    await Promise.all([
      fakes?.hostile.close(),
      fakes?.oauth2.close(),
      fakes?.jwt.close(),
      fakes?.session.close(),
    ]);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("sent every secret to the hostile upstream, so its echoes carried them back", () => {
    const received = fakes.hostile.requests.map((r) => JSON.stringify(r)).join("\n");
    for (const secret of [
      SECRET.basic,
      SECRET.apiKey,
      SECRET.clientSecret,
      SECRET.jwtPassword,
      SECRET.sessionPassword,
    ]) {
      expect(leakedSecrets(received, [secret]), secret).not.toEqual([]);
    }
    for (const issued of [fakes.oauth2.accessTokens, fakes.jwt.tokens, fakes.session.sessions]) {
      expect(issued.issued.length).toBeGreaterThan(0);
      expect(leakedSecrets(received, issued.issued)).not.toEqual([]);
    }
  });

  it("collected every surface: logs, errors, reports, table rows and history, stored rows and dead letters", () => {
    const where = [...surfaces.keys()];
    expect(where).toEqual(
      expect.arrayContaining(["run reports", "engine errors", "log lines", "table entities"]),
    );
    expect(where.some((name) => name.startsWith("stand-in ") && name.endsWith(".ndjson"))).toBe(true);
    expect(where.some((name) => name.startsWith("dead letter basic-dead-letter/"))).toBe(true);
    expect(surfaces.get("table entities")).toContain('"partitionKey":"run-basic-data-500"');
    expect(surfaces.get("log lines")).toMatch(/window failed/);
  });

  it("finds no secret, in any encoding, on any surface", () => {
    const hits = [...surfaces].flatMap(([where, text]) =>
      leakedSecrets(text, secrets).map((hit) => `${where}: ${hit}`),
    );
    expect(hits).toEqual([]);
  });

  it("finds no fake secret in committed snapshots", async () => {
    const snapshots = await filesUnder(
      path.join(repoRoot, "test"),
      (file) => file.includes(`${path.sep}__snapshots__${path.sep}`) || file.endsWith(".snap"),
    );
    const fakeSecret =
      /test-(?:api-key|api-token|password|client-secret|access-token|refresh-token|secret)[-\w]*/g;
    const hits: string[] = [];
    for (const file of snapshots) {
      const text = await readFile(file, "utf8");
      for (const match of text.matchAll(fakeSecret))
        hits.push(`${path.relative(repoRoot, file)}: ${match[0]}`);
      hits.push(...leakedSecrets(text, secrets).map((hit) => `${path.relative(repoRoot, file)}: ${hit}`));
    }
    expect(hits).toEqual([]);
  });

  it("recognizes a secret in each form it can travel in", () => {
    const basicHeader = `Authorization: Basic ${Buffer.from(`${USER}:${SECRET.basic}`).toString("base64")}`;
    expect(leakedSecrets(basicHeader, [SECRET.basic])).not.toEqual([]);
    expect(leakedSecrets(`k=${encodeURIComponent(SECRET.apiKey)}`, [SECRET.apiKey])).not.toEqual([]);
    expect(leakedSecrets("nothing to see", [SECRET.apiKey])).toEqual([]);
  });
});
