/**
 * Finding and running the Bicep CLI for bicep-build.test.ts: on PATH, where `az bicep install` or azd put it, or
 * in the cache bin/install-bicep.sh restores it into from NuGet (which needs `dotnet` only the first time).
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export const howToGetBicep =
  "install it with `az bicep install`, or install the .NET SDK and run bin/install-bicep.sh";

export type BicepLookup = { bicep: string; version: string } | { bicep: undefined; reason: string };

function versionOf(command: string): string | undefined {
  const run = spawnSync(command, ["--version"], { encoding: "utf8", timeout: 60_000 });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

export function findBicep(repoRoot: string): BicepLookup {
  const home = os.homedir();
  for (const candidate of ["bicep", path.join(home, ".azure/bin/bicep"), path.join(home, ".azd/bin/bicep")]) {
    if (candidate !== "bicep" && !existsSync(candidate)) continue;
    const version = versionOf(candidate);
    if (version !== undefined) return { bicep: candidate, version };
  }
  // Prints the cached binary's path at once, or restores it first when dotnet is there.
  const install = spawnSync("bash", [path.join(repoRoot, "bin/install-bicep.sh")], {
    encoding: "utf8",
    timeout: 600_000,
  });
  const installed = install.status === 0 ? install.stdout.trim() : "";
  const version = installed === "" ? undefined : versionOf(installed);
  if (version !== undefined) return { bicep: installed, version };
  const why = (install.stderr ?? "").trim().split("\n").at(-1) || install.error?.message || "no bicep";
  return { bicep: undefined, reason: why };
}

export interface BicepDiagnostic {
  file: string;
  line: number;
  column: number;
  level: "Error" | "Warning" | "Info";
  code: string;
  message: string;
}

const diagnosticLine = /^(.+)\((\d+),(\d+)\) : (Error|Warning|Info) ([\w-]+): (.*)$/;

/** Bicep's default diagnostics format, one per line; `other` = every non-empty line that is not one. */
export function parseDiagnostics(output: string): { diagnostics: BicepDiagnostic[]; other: string[] } {
  const diagnostics: BicepDiagnostic[] = [];
  const other: string[] = [];
  for (const line of output.split(/\r?\n/)) {
    if (line.trim() === "") continue;
    const m = diagnosticLine.exec(line);
    if (m === null) {
      other.push(line);
      continue;
    }
    diagnostics.push({
      file: m[1] ?? "",
      line: Number(m[2]),
      column: Number(m[3]),
      level: m[4] as BicepDiagnostic["level"],
      code: m[5] ?? "",
      message: m[6] ?? "",
    });
  }
  return { diagnostics, other };
}

/** `file(line,col) : Level CODE` of each error and warning, relative to `root`: what a test pins to []. */
export function errorsAndWarnings(diagnostics: readonly BicepDiagnostic[], root: string): string[] {
  return [
    ...new Set(
      diagnostics
        .filter((d) => d.level !== "Info")
        .map(
          (d) => `${path.relative(root, d.file)}(${d.line},${d.column}) : ${d.level} ${d.code}: ${d.message}`,
        ),
    ),
  ];
}

export interface BicepRun {
  status: number | null;
  /** stdout and stderr together (Bicep writes diagnostics to stderr). */
  output: string;
}

export function runBicep(bicep: string, args: readonly string[], cwd: string): Promise<BicepRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(bicep, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    const timer = setTimeout(() => child.kill(), 180_000);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}
