/**
 * The embedded default as a user runs it: `npm start` in a terminal of its own (a new process group), rows
 * appear in the stand-in's NDJSON file, Ctrl-C (SIGINT to the whole group, as a terminal sends it) stops it,
 * the final status table and the rows' path are printed, and every process it started is gone, Azurite
 * included. Process trees are read from /proc, so the test runs on Linux only.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { main } from "../../src/cli/main.ts";
import { demoDcrId, demoStream } from "../../src/local/demo.ts";
import { readStoredRows } from "../../src/local/standin/row-store.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const hasProc = existsSync("/proc/self/stat");

let child: ChildProcess | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  // A failed assertion must not leave the demo running: end the whole group it started.
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {}
  }
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  child = undefined;
  dataDir = undefined;
});

/** Every process below `root` (children, grandchildren…), with its command line. */
async function descendants(root: number): Promise<{ pid: number; command: string }[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // The command name is parenthesised and may contain spaces: the parent pid is the second field after it.
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (Number.isFinite(ppid)) parents.set(Number(entry), ppid);
  }
  const found: number[] = [];
  const visit = (pid: number) => {
    for (const [candidate, parent] of parents) {
      if (parent === pid) {
        found.push(candidate);
        visit(candidate);
      }
    }
  };
  visit(root);
  return Promise.all(
    found.map(async (pid) => ({
      pid,
      command: (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).replaceAll("\0", " "),
    })),
  );
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(200);
  }
}

describe.skipIf(!hasProc)("npm start (the embedded default)", () => {
  it("ingests rows, and on Ctrl-C prints the status and stops every process it started", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ccp-demo-"));
    const rowsFile = path.join(dataDir, "ingestion", "rows", demoDcrId, `${demoStream}.ndjson`);
    let output = "";
    child = spawn("npm", ["start", "--", "--data-dir", dataDir, "--windows", "1000", "--duration", "60"], {
      cwd: repoRoot,
      // This test's Node first, as .ci/run provisions it; a process group of its own, like a terminal.
      env: { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}` },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    // "close": every process holding the output pipes (npm, its shell, tsx, the demo) has ended.
    const closed = new Promise<string>((resolve) =>
      child?.once("close", (code, signal) => resolve(signal ?? `exit ${code}`)),
    );
    const groupId = child.pid as number;

    const rows = await waitFor(`rows in ${rowsFile}\n${output}`, 25_000, async () => {
      const text = await readFile(rowsFile, "utf8").catch(() => "");
      const lines = text.split("\n").filter((line) => line !== "");
      return lines.length > 0 ? lines.map((line) => JSON.parse(line) as Record<string, unknown>) : undefined;
    });
    expect(rows[0]).toMatchObject({ summary: expect.stringMatching(/#\d+$/), eventSource: "Jira" });
    const started = await descendants(groupId);
    expect(started.some((process) => process.command.includes("azurite"))).toBe(true);

    process.kill(-groupId, "SIGINT");
    const ended = await Promise.race([closed, delay(20_000).then(() => "still running")]);

    // npm ends itself with the signal it got once its script has ended (a terminal shows 130); whether the demo
    // stopped cleanly is in its output.
    expect(["exit 0", "SIGINT"], output).toContain(ended);
    expect(output).toContain("stopped by signal");
    // Stopped right after the first rows, it may still be catching up: Lagging is the truthful status then.
    expect(output).toMatch(/CONNECTOR\s+STATUS[\s\S]*jira-audit\s+(Healthy|Lagging)\s/);
    expect(output).toContain(`row(s) ingested, one JSON object per line: ${rowsFile}`);
    expect(output).not.toMatch(/Error|at .+\.ts:\d+/);
    await waitFor(
      `every started process to end: ${JSON.stringify(started.filter(({ pid }) => isAlive(pid)))}`,
      5_000,
      async () => (started.every(({ pid }) => !isAlive(pid)) ? true : undefined),
    );
  });
});

describe("ccp-poller demo --windows", () => {
  it("stops by itself after that many windows, every record of them ingested, and exits 0", async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "ccp-demo-"));
    const stdout: string[] = [];
    const code = await main(["demo", "--windows", "3", "--lookback", "10", "--data-dir", dataDir], {
      stdout: (line) => stdout.push(line),
      stderr: () => {},
      env: {},
    });

    const printed = stdout.join("\n");
    expect(code, printed).toBe(0);
    const windowLines = stdout.filter((line) => line.startsWith("jira-audit  ok "));
    expect(windowLines, printed).toHaveLength(3);
    const accepted = windowLines.reduce((sum, line) => sum + Number(/accepted (\d+)/.exec(line)?.[1]), 0);
    // An audit record every 20 demo seconds: 15 per 5-minute window.
    expect(accepted, printed).toBe(45);
    const rows = await readStoredRows(path.join(dataDir, "ingestion"), demoDcrId, demoStream);
    expect(new Set(rows.map((row) => row.id)).size).toBe(45);
    expect(stdout).toContain("3 window(s) committed; stopped by windows.");
    expect(printed).toMatch(/^jira-audit\s+Healthy\s/m);
  });
});
