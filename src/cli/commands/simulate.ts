/**
 * `ccp-poller simulate <files...> [--windows N] [--faults 429,5xx,slow] [--json]`: each definition against an
 * upstream built from the definition alone (src/simulate), through the real pipeline, with what was expected,
 * delivered, missed, duplicated and refused per connector.
 */
import path from "node:path";
import { type ConnectorSimulation, simulate } from "../../simulate/run.ts";
import { type FaultKind, faultKinds } from "../../simulate/upstream.ts";
import type { CliCommand } from "../command.ts";
import {
  commandEnv,
  commandRootDir,
  exitCodes,
  formatTable,
  guarded,
  type SettingsOption,
  withSettingsOption,
} from "../shared.ts";

interface SimulateOptions extends SettingsOption {
  windows: string;
  faults?: string;
  json?: boolean;
}

/** A connector that lost events, or whose requests the simulated API had to refuse, fails the command. */
export const simulationFailed = (result: ConnectorSimulation): boolean =>
  result.refused === undefined && (result.missing > 0 || result.rejected > 0 || result.error !== undefined);

export const simulateCommand: CliCommand = {
  register(program, io, exit) {
    withSettingsOption(
      program
        .command("simulate")
        .description(
          "run definitions against an upstream built from each definition, through the real pipeline",
        )
        .argument("<files...>", "definition files or folders")
        .option("--windows <n>", "windows to poll per connector", "3")
        .option("--faults <kinds>", `comma-separated faults on every fifth request: ${faultKinds.join(", ")}`)
        .option("--json", "print the result as JSON"),
    ).action((files: string[], options: SimulateOptions) =>
      guarded(io, exit, async () => {
        const windows = Number(options.windows);
        const faults = (options.faults?.split(",") ?? []).map((f) => f.trim()).filter((f) => f !== "");
        const unknown = faults.filter((f) => !(faultKinds as readonly string[]).includes(f));
        if (!Number.isInteger(windows) || windows < 1 || unknown.length > 0) {
          io.stderr(
            unknown.length > 0
              ? `Unknown fault ${unknown.join(", ")} (known: ${faultKinds.join(", ")})`
              : "--windows takes a whole number of at least 1",
          );
          return exitCodes.usage;
        }
        const results = await simulate({
          files,
          windows,
          faults: faults as FaultKind[],
          env: await commandEnv(io, options),
          rootDir: commandRootDir(),
          onLog: (line) => {
            if (!options.json) io.stderr(line);
          },
        });
        if (options.json) {
          const connectors = results.map(
            ({ id, file, refused, expected, delivered, missing, duplicates, requests, rejected }) => ({
              id,
              file,
              ...(refused !== undefined ? { refused } : {}),
              expected,
              delivered,
              missing,
              duplicates,
              requests,
              rejected,
            }),
          );
          io.stdout(JSON.stringify({ connectors }, null, 2));
        } else {
          printResults(results, (line) => io.stdout(line));
        }
        return results.some(simulationFailed) ? exitCodes.failed : exitCodes.ok;
      }),
    );
  },
};

function printResults(results: readonly ConnectorSimulation[], print: (line: string) => void): void {
  const simulated = results.filter((r) => r.refused === undefined);
  const table = formatTable(
    ["CONNECTOR", "FILE", "EXPECTED", "DELIVERED", "MISSING", "DUPLICATES", "REQUESTS", "REJECTED"],
    simulated.map((r) => [
      r.id,
      path.basename(r.file),
      ...[r.expected, r.delivered, r.missing, r.duplicates, r.requests, r.rejected].map(String),
    ]),
  );
  for (const line of table) print(line);
  for (const r of simulated) {
    for (const rejection of r.rejections)
      print(`${r.id}: HTTP ${rejection.status} ${rejection.field}: ${rejection.reason}`);
    if (r.error !== undefined) print(`${r.id}: ${r.error}`);
  }
  const refused = results.filter((r) => r.refused !== undefined);
  if (refused.length > 0) print(`\nNot simulated (${refused.length}):`);
  for (const r of refused) print(`  ${path.basename(r.file)} ${r.id}: ${r.refused}`);
}
