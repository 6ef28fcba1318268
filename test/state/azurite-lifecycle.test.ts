/**
 * The Azurite launcher's promises (ready when it returns, gone after stop, gone when its parent is killed) and
 * the store's behaviour while Table Storage is down and after it comes back.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { createFakeClock } from "../../src/engine/clock.ts";
import { type AzuriteInstance, startAzurite } from "../../src/local/azurite.ts";
import {
  createStateTableClient,
  createWatermarkStore,
  StateUnavailableError,
  type WindowCounts,
} from "../../src/state/index.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const cleanups: (() => Promise<void>)[] = [];

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), "ccp-poller-azurite-"));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function started(options?: Parameters<typeof startAzurite>[0]): Promise<AzuriteInstance> {
  const instance = await startAzurite(options);
  cleanups.push(() => instance.stop());
  return instance;
}

/** True once nothing accepts connections at `endpoint` any more (polls: a real process is exiting). */
async function refusesConnections(endpoint: string, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(endpoint, { signal: AbortSignal.timeout(1_000) });
    } catch {
      return true;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const tablePort = (instance: AzuriteInstance) => Number(new URL(instance.tableEndpoint).port);
const counts: WindowCounts = { fetched: 3, extracted: 3, sent: 3, accepted: 3, pages: 1, durationMs: 50 };

describe("Azurite launcher", () => {
  it("returns a running Azurite on free loopback ports and stops it completely", async () => {
    const first = await started();
    const second = await started();
    for (const endpoint of [first.blobEndpoint, first.queueEndpoint, first.tableEndpoint]) {
      expect(new URL(endpoint).hostname).toBe("127.0.0.1");
    }
    expect(tablePort(first)).not.toBe(tablePort(second));
    expect(first.connectionString).toContain(`TableEndpoint=${first.tableEndpoint}`);

    const response = await fetch(`${first.tableEndpoint}/Tables`);
    expect(response.status).toBe(403); // alive, and wants a signed request

    await first.stop();
    await first.stop(); // idempotent
    expect(await refusesConnections(first.tableEndpoint)).toBe(true);
    expect((await fetch(`${second.tableEndpoint}/Tables`)).status).toBe(403);
  });

  it("dies with its parent even when the parent is SIGKILLed", async () => {
    const dir = await tempDir();
    const script = path.join(dir, "hold-azurite.mts");
    const launcher = path.join(repoRoot, "src/local/azurite.ts");
    await writeFile(
      script,
      `import { startAzurite } from ${JSON.stringify(launcher)};\n` +
        "const azurite = await startAzurite();\n" +
        "console.log(azurite.tableEndpoint);\n" +
        "setInterval(() => {}, 60_000);\n",
    );
    const parent = spawn(process.execPath, ["--import", "tsx", script], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "inherit"],
    });
    cleanups.push(async () => {
      parent.kill("SIGKILL");
    });
    const endpoint = await new Promise<string>((resolve, reject) => {
      parent.stdout.once("data", (chunk: Buffer) => resolve(chunk.toString().trim()));
      parent.once("exit", (code) => reject(new Error(`helper exited early with ${code}`)));
    });
    expect((await fetch(`${endpoint}/Tables`)).status).toBe(403);

    parent.kill("SIGKILL");
    expect(await refusesConnections(endpoint)).toBe(true);
  });
});

describe("Table Storage unavailable", () => {
  it("fails with StateUnavailableError while Azurite is down and recovers when it is back", async () => {
    const location = await tempDir();
    let azurite = await started({ location });
    const port = tablePort(azurite);
    const { tableClient } = createStateTableClient(
      { AzureWebJobsStorage: azurite.connectionString, STATE_TABLE_NAME: "Watermarks" },
      { retryOptions: { maxRetries: 0 } },
    );
    const clock = createFakeClock("2026-03-01T00:20:00Z");
    const store = createWatermarkStore({ tableClient, clock });
    await store.ensureTable();
    await store.register({
      id: "demo",
      definitionHash: "0123456789abcdef",
      source: { file: "connectors/demo.json" },
      properties: { isActive: true, request: { queryWindowInMin: 5, queryWindowDelayInMin: 0 } },
    });
    const lease = await store.acquireLease("demo", "runner-a", 600_000);
    if (!lease) throw new Error("expected the lease");
    const first = { start: new Date("2026-03-01T00:00:00Z"), end: new Date("2026-03-01T00:05:00Z") };
    const second = { start: first.end, end: new Date("2026-03-01T00:10:00Z") };
    await lease.commitWindow(first, counts);

    await azurite.stop();
    const down = store.get("demo");
    await expect(down).rejects.toBeInstanceOf(StateUnavailableError);
    await expect(down).rejects.toThrow(`Table Storage at ${azurite.tableEndpoint} is unavailable`);
    await expect(lease.commitWindow(second, counts)).rejects.toBeInstanceOf(StateUnavailableError);

    azurite = await started({ location, ports: { table: port } });
    expect((await store.get("demo"))?.committedThrough).toEqual(first.end);
    // The failed write never landed, so the lease's etag is still current and the runner carries on.
    await lease.commitWindow(second, counts);
    expect((await store.get("demo"))?.committedThrough).toEqual(second.end);
  });
});
