/**
 * Starts Azurite (blob, queue, table) from node_modules on loopback, on free ports, for tests, the local run
 * and the benchmarks. The child dies with its parent: `stop()`, the parent's exit, and even a SIGKILL of the
 * parent (the child watches its IPC channel) all end it, so a failed test never leaves an orphan behind.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";

export interface AzuriteOptions {
  /** Folder for Azurite's files; data survives a restart. Default: in memory, nothing written to disk. */
  location?: string;
  /** Fixed ports (e.g. to restart on the same endpoint); 0 or absent = a free port. */
  ports?: { blob?: number; queue?: number; table?: number };
  /** How long to wait for all three services to listen. */
  startTimeoutMs?: number;
}

export interface AzuriteInstance {
  /** Account-key connection string for the well-known dev account, with this instance's endpoints. */
  connectionString: string;
  tableEndpoint: string;
  blobEndpoint: string;
  queueEndpoint: string;
  /** Ends Azurite and resolves once the process has exited. Safe to call twice. */
  stop(): Promise<void>;
}

/** The fixed, public development account every Azurite instance accepts (not a secret). */
export const azuriteAccount = {
  name: "devstoreaccount1",
  key: "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
} as const;

export class AzuriteStartError extends Error {
  override name = "AzuriteStartError";
}

type Service = "Blob" | "Queue" | "Table";
const services: readonly Service[] = ["Blob", "Queue", "Table"];
const listeningLine = /Azurite (Blob|Queue|Table) service is successfully listening at (http:\/\/\S+)/;

/**
 * Preloaded into the Azurite process: when the parent goes away (exit or SIGKILL) the IPC channel closes and
 * Azurite shuts down like on Ctrl-C; the unref'd timer is the last resort if a graceful close hangs.
 */
const exitWithParent =
  "process.on('disconnect',()=>{process.kill(process.pid,'SIGTERM');setTimeout(()=>process.exit(0),3000).unref();});";

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function killChildrenOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of liveChildren) child.kill("SIGKILL");
  });
}

export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const azuriteMain = createRequire(import.meta.url).resolve("azurite/dist/src/azurite.js");
  const ports = options.ports ?? {};
  const args = [
    "--import",
    `data:text/javascript,${encodeURIComponent(exitWithParent)}`,
    azuriteMain,
    ...["--blobHost", "127.0.0.1", "--blobPort", String(ports.blob ?? 0)],
    ...["--queueHost", "127.0.0.1", "--queuePort", String(ports.queue ?? 0)],
    ...["--tableHost", "127.0.0.1", "--tablePort", String(ports.table ?? 0)],
    "--silent",
    "--loose",
    "--skipApiVersionCheck",
    "--disableTelemetry",
    ...(options.location === undefined
      ? ["--inMemoryPersistence", "--extentMemoryLimit", "256"]
      : ["--location", options.location]),
  ];
  const child = spawn(process.execPath, args, {
    // In-memory mode still resolves a workspace folder; keep it out of the repository.
    cwd: options.location ?? tmpdir(),
    stdio: ["ignore", "pipe", "pipe", "ipc"],
    // Its own process group: a terminal's Ctrl-C reaches the parent only, which then stops Azurite after it
    // has finished with it (e.g. printed the final status), instead of both stopping at once.
    detached: true,
  });
  liveChildren.add(child);
  killChildrenOnExit();
  const exited = new Promise<void>((resolve) => {
    child.once("exit", () => {
      liveChildren.delete(child);
      resolve();
    });
  });

  let endpoints: Record<Service, string>;
  try {
    endpoints = await waitUntilListening(child, options.startTimeoutMs ?? 20_000);
  } catch (error) {
    child.kill("SIGKILL");
    await exited;
    throw error;
  }
  // Keep draining output so a chatty child never blocks on a full pipe, without keeping this process alive:
  // a script that forgets stop() still exits, and the exit hook or the IPC guard ends Azurite.
  for (const stream of [child.stdout, child.stderr]) {
    stream?.resume();
    (stream as { unref?: () => void } | null)?.unref?.();
  }
  child.channel?.unref();
  child.unref();

  const blobEndpoint = `${endpoints.Blob}/${azuriteAccount.name}`;
  const queueEndpoint = `${endpoints.Queue}/${azuriteAccount.name}`;
  const tableEndpoint = `${endpoints.Table}/${azuriteAccount.name}`;
  const connectionString = [
    "DefaultEndpointsProtocol=http",
    `AccountName=${azuriteAccount.name}`,
    `AccountKey=${azuriteAccount.key}`,
    `BlobEndpoint=${blobEndpoint}`,
    `QueueEndpoint=${queueEndpoint}`,
    `TableEndpoint=${tableEndpoint}`,
  ].join(";");

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        // Referenced again while stopping, so the exit is awaited even after the pipes have closed.
        child.ref();
        // Closing the IPC channel is the same signal as the parent dying: the guard shuts Azurite down
        // gracefully (a plain SIGTERM would leave Azurite's own IPC listener holding the process open).
        if (child.connected) child.disconnect();
        else child.kill("SIGTERM");
        const forceKill = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(forceKill);
      }
    })();
    return stopping;
  };
  return { connectionString, tableEndpoint, blobEndpoint, queueEndpoint, stop };
}

function waitUntilListening(child: ChildProcess, timeoutMs: number): Promise<Record<Service, string>> {
  return new Promise((resolve, reject) => {
    const found: Partial<Record<Service, string>> = {};
    let output = "";
    const fail = (reason: string) => {
      cleanup();
      reject(new AzuriteStartError(`Azurite did not start: ${reason}. Output:\n${output.slice(-2_000)}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      for (const line of output.split("\n")) {
        const match = listeningLine.exec(line);
        if (match?.[1] && match[2]) found[match[1] as Service] = match[2];
      }
      if (services.every((service) => found[service] !== undefined)) {
        cleanup();
        resolve(found as Record<Service, string>);
      }
    };
    const onExit = (code: number | null, signal: string | null) =>
      fail(`the process exited (code ${code}, signal ${signal})`);
    const onError = (error: Error) => fail(error.message);
    const timer = setTimeout(() => fail(`no listening message within ${timeoutMs} ms`), timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      child.stderr?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", onExit);
    child.once("error", onError);
  });
}
