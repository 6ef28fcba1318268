/**
 * The function app exactly as `azd up` ships it: a copy of the project as a clone holds it, `npm run build`, then
 * `npm run stage` (azure.yaml's prepackage hook), then only the files azd zips from `.deploy/` (its `.funcignore`
 * and azd's own exclusions), copied into an empty folder. A child process on the Node this suite runs on (22, the
 * deployed runtime) loads every entry point through `@azure/functions`' registration and runs the timer and the
 * status endpoint against Azurite, the Logs Ingestion stand-in and the Jira fake. A package that cannot start
 * fails here, not after a deploy.
 */
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { azdFunctionPackageFiles, includedFiles } from "../../scripts/ignore-walk.ts";
import { appSettings } from "../../src/config/app-settings.ts";
import { startIngestionStandin } from "../../src/local/ingestion-standin.ts";
import { loadOrCreateCertificate } from "../../src/local/standin/credentials.ts";
import { createStateTableClient } from "../../src/state/config.ts";
import { watermarkPartition } from "../../src/state/row.ts";
import type { StatusPage } from "../../src/status/page.ts";
import { jiraRecords, startJiraFake } from "../fakes/jira.ts";
import { useAzurite } from "../support/azurite.ts";

const run = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, "../..");
const hostStandin = path.join(import.meta.dirname, "host-standin.mjs");
const PACKAGE_LIMIT_BYTES = 150e6;

const azurite = useAzurite();
let workDir: string;
let projectDir: string;
let packageDir: string;
let shipped: string[];

beforeAll(async () => {
  workDir = await mkdtemp(path.join(tmpdir(), "ccp-deploy-"));
  const project = path.join(workDir, "project");
  projectDir = project;
  // What a clone has: every file git would keep, and this checkout's installed dependencies.
  const cloned = includedFiles(repoRoot, {
    rules: readFileSync(path.join(repoRoot, ".gitignore"), "utf8"),
    exclude: (relativePath) => relativePath === ".git" || relativePath === "node_modules",
  });
  copyFiles(repoRoot, project, cloned);
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(project, "node_modules"), "dir");
  await run("npm", ["run", "build"], { cwd: project });
  await run("npm", ["run", "stage"], { cwd: project });

  packageDir = path.join(workDir, "package");
  shipped = azdFunctionPackageFiles(path.join(project, ".deploy"));
  copyFiles(path.join(project, ".deploy"), packageDir, shipped);
}, 240_000);

afterAll(async () => {
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
});

describe("the deployment package azd builds", () => {
  it("holds the compiled app, the connectors and production dependencies only, well under 150 MB", () => {
    const bytes = shipped.reduce((sum, file) => sum + statSync(path.join(packageDir, file)).size, 0);
    console.log(`deployment package: ${shipped.length} files, ${(bytes / 1e6).toFixed(1)} MB before zip`);
    expect(bytes).toBeLessThan(PACKAGE_LIMIT_BYTES);

    const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages)
      .filter(([location, entry]) => location !== "" && entry.dev === true)
      .map(([location]) => location);
    expect(devOnly.length).toBeGreaterThan(0);
    expect(devOnly.filter((location) => existsSync(path.join(packageDir, location)))).toEqual([]);

    const topLevel = [...new Set(shipped.map((file) => file.split("/")[0]))].sort();
    expect(topLevel).toEqual([
      "connectors",
      "dist",
      "host.json",
      "node_modules",
      "package-lock.json",
      "package.json",
    ]);
    // The app's own sources stay home; declarations and source maps are left out everywhere.
    expect(shipped.filter((file) => file.startsWith("dist/") && !file.endsWith(".js"))).toEqual([]);
    expect(shipped.filter((file) => /\.(d\.[cm]?ts|map)$/.test(file))).toEqual([]);
  });

  it("registers every function on Node 22 with the triggers host.json and the app settings name", async () => {
    const host = await runHost(packageDir, {}, []);
    expect(Number(host.node.split(".")[0])).toBeGreaterThanOrEqual(22);
    expect(host.loadErrors).toEqual([]);
    expect(host.entryPoints).toEqual([
      "dist/src/functions/poll.js",
      "dist/src/functions/status.js",
      "dist/src/functions/work.js",
    ]);
    const triggers = Object.fromEntries(
      host.functions.map((fn) => [fn.name, Object.values(fn.bindings).find((b) => b.direction === "in")]),
    );
    expect(triggers).toEqual({
      poll: expect.objectContaining({ type: "timerTrigger", schedule: "%POLL_SCHEDULE%" }),
      status: expect.objectContaining({ type: "httpTrigger", authLevel: "function", route: "status" }),
      work: expect.objectContaining({
        type: "queueTrigger",
        queueName: "%FANOUT_QUEUE_NAME%",
        connection: "AzureWebJobsStorage",
      }),
    });
  });

  it("polls on a timer tick: rows reach Logs Ingestion, the watermark moves, and /api/status lists the connector", async () => {
    const dataDir = path.join(workDir, "standin");
    const standin = await startIngestionStandin({ dataDir });
    const certificate = await loadOrCreateCertificate(dataDir);
    const apiToken = "test-api-token-jira-package-0000";
    // Two records a minute over the last 40 minutes; a 30-minute look-back reaches the newest 25 minutes of them.
    const now = Date.now();
    const jira = await startJiraFake({
      apiToken,
      records: jiraRecords(80, new Date(now - 40 * 60_000).toISOString(), 30),
      tls: { key: certificate.keyPem, cert: certificate.certPem },
    });
    const stateTable = `Deploy${randomBytes(4).toString("hex")}`;
    const dcr = "dcr-0000000000000000000000000000d3b1";
    const stream = "Custom-JiraAudit_CL";
    try {
      const host = await runHost(
        packageDir,
        {
          AzureWebJobsStorage: azurite().connectionString,
          STATE_TABLE_NAME: stateTable,
          CONNECTORS_DIR: "connectors/jira-audit",
          INITIAL_LOOKBACK_MINUTES: "30",
          POLL_SCHEDULE: "0 */5 * * * *",
          INGESTION_STANDIN_CA_FILE: certificate.certPath,
          UPSTREAM_CA_FILE: certificate.certPath,
          CCP_JIRA_AUDIT_DOMAIN: new URL(jira.origin).host,
          CCP_JIRA_AUDIT_USERNAME: "test-user@example.com",
          CCP_JIRA_AUDIT_APITOKEN: apiToken,
          CCP_JIRA_AUDIT_DATACOLLECTIONENDPOINT: standin.endpoint,
          CCP_JIRA_AUDIT_DATACOLLECTIONRULEIMMUTABLEID: dcr,
          CCP_JIRA_AUDIT_STREAMNAME: stream,
        },
        [
          {
            function: "poll",
            trigger: { json: JSON.stringify({ Schedule: { AdjustForDST: true }, IsPastDue: false }) },
          },
          {
            function: "status",
            trigger: {
              http: {
                method: "GET",
                url: "http://127.0.0.1:7071/api/status",
                headers: { accept: "application/json" },
                query: {},
                params: {},
              },
            },
          },
        ],
      );
      expect(host.loadErrors).toEqual([]);
      const [poll, status] = host.results;
      expect(poll?.error).toBeUndefined();
      expect(status?.error).toBeUndefined();
      // src/config/azure-sdk.ts: the CommonJS builds only, so every package shares one core-rest-pipeline.
      expect(host.azureBuilds).toContain("@azure/core-rest-pipeline commonjs");
      expect(host.azureBuilds.filter((build) => !build.endsWith(" commonjs"))).toEqual([]);

      const rows = await standin.readRows(dcr, stream);
      expect(rows.length).toBeGreaterThan(0);
      const { tableClient } = createStateTableClient({
        AzureWebJobsStorage: azurite().connectionString,
        STATE_TABLE_NAME: stateTable,
      });
      const row = await tableClient.getEntity<{ CommittedThrough: string; Status: string }>(
        watermarkPartition,
        "jira-audit",
      );
      expect(Date.parse(row.CommittedThrough)).toBeGreaterThan(now - 15 * 60_000);

      expect(status?.response?.returnValue?.http?.statusCode).toBe("200");
      const page = JSON.parse(httpBody(status)) as StatusPage;
      expect(page.connectors).toEqual([
        expect.objectContaining({
          connectorId: "jira-audit",
          committedThrough: new Date(row.CommittedThrough).toISOString(),
          consecutiveFailures: 0,
          totalAccepted: rows.length,
        }),
      ]);
    } finally {
      await jira.close();
      await standin.stop();
    }
  });
});

describe("`func start` in the project folder (what Core Tools loads after `npm run build`)", () => {
  const readJson = (file: string) => JSON.parse(readFileSync(path.join(repoRoot, file), "utf8"));

  it("registers one function per src/functions file, each trigger's %SETTING% and connection named in local.settings.sample.json and set by azd", async () => {
    const host = await runHost(projectDir, {}, []);
    expect(host.loadErrors).toEqual([]);
    const sourceFiles = readdirSync(path.join(repoRoot, "src/functions"))
      .filter((file) => file.endsWith(".ts"))
      .map((file) => file.replace(/\.ts$/, ""));
    expect(host.functions.map((fn) => fn.name).sort()).toEqual(sourceFiles.sort());

    const sample = readJson("local.settings.sample.json").Values as Record<string, string>;
    const inAzure = new Set<string>(appSettings.filter((s) => s.setInAzure).map((s) => s.name));
    const bindings = host.functions.flatMap((fn) => Object.values(fn.bindings));
    const referenced = bindings.flatMap((binding) =>
      Object.values(binding).flatMap((value) =>
        typeof value === "string" ? [...value.matchAll(/%(\w+)%/g)].map((m) => m[1] ?? "") : [],
      ),
    );
    expect(referenced.sort()).toEqual(["FANOUT_QUEUE_NAME", "POLL_SCHEDULE"]);
    for (const name of referenced) {
      expect(sample[name], `${name} in local.settings.sample.json`).toMatch(/\S/);
      expect(inAzure.has(name), `${name} set by infra`).toBe(true);
    }
    // A storage trigger's `connection` is a setting prefix: the connection string locally, the identity-based
    // `<prefix>__queueServiceUri` (and credential) in Azure.
    const connections = bindings.flatMap((binding) =>
      typeof binding.connection === "string" ? [binding.connection] : [],
    );
    expect(connections).toEqual(["AzureWebJobsStorage"]);
    expect(sample.AzureWebJobsStorage).toBe("UseDevelopmentStorage=true");
    expect(inAzure.has("AzureWebJobsStorage__queueServiceUri")).toBe(true);
    expect(inAzure.has("AzureWebJobsStorage__credential")).toBe(true);
  });

  it("host.json loads the v4 extension bundle (timer, queue, HTTP) and decodes queue messages as the planner encodes them", () => {
    const hostJson = readJson("host.json");
    expect(hostJson.version).toBe("2.0");
    expect(hostJson.extensionBundle).toEqual({
      id: "Microsoft.Azure.Functions.ExtensionBundle",
      version: "[4.*, 5.0.0)",
    });
    expect(hostJson.extensions.queues.messageEncoding).toBe("base64");
    // package.json#main is the compiled form of src/functions, where tsconfig.build.json writes it.
    expect(readJson("package.json").main).toBe("dist/src/functions/*.js");
    expect(readJson("tsconfig.json").compilerOptions).toMatchObject({ outDir: "dist", rootDir: "." });
  });
});

function copyFiles(fromDir: string, toDir: string, files: readonly string[]): void {
  for (const file of files) {
    mkdirSync(path.dirname(path.join(toDir, file)), { recursive: true });
    copyFileSync(path.join(fromDir, file), path.join(toDir, file));
  }
}

interface HostResult {
  node: string;
  entryPoints: string[];
  loadErrors: { entryPoint: string; error: string }[];
  functions: { name: string; bindings: Record<string, Record<string, unknown>> }[];
  results: {
    function: string;
    error?: string;
    response?: {
      returnValue?: { http?: { statusCode?: string; body?: { string?: string; bytes?: number[] } } };
    };
  }[];
  /** `<package> <build>` for each Azure SDK package build loaded, e.g. "@azure/data-tables commonjs". */
  azureBuilds: string[];
}

function httpBody(result: HostResult["results"][number] | undefined): string {
  return result?.response?.returnValue?.http?.body?.string ?? "";
}

/** Runs the host stand-in in `appDir` with only `settings` (and PATH) as the environment. */
async function runHost(
  appDir: string,
  settings: Record<string, string>,
  invocations: unknown[],
): Promise<HostResult> {
  const child = spawn(process.execPath, [hostStandin], {
    cwd: appDir,
    env: { PATH: process.env.PATH ?? "", FUNCTIONS_WORKER_RUNTIME: "node", ...settings },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  child.stdin.end(JSON.stringify(invocations));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  if (code !== 0) throw new Error(`host stand-in exited ${code}:\n${stderr}`);
  return JSON.parse(stdout) as HostResult;
}
