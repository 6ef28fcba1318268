/**
 * `ccp-poller run [--connector <id>] [--definitions <path...>] [--settings <local.settings.json>]`: every due
 * window of all (or one) connector once, exactly as the timer function does, with progress and a summary.
 */
import type { ConnectorRunReport } from "../../runner/poll-connector.ts";
import { runAll } from "../../runner/run-all.ts";
import { createRuntime } from "../../runner/runtime.ts";
import type { CliCommand } from "../command.ts";
import {
  commandEnv,
  commandRootDir,
  createProgress,
  exitCodes,
  findConnector,
  formatTable,
  guarded,
  reportLoad,
  type SettingsOption,
  withSettingsOption,
} from "../shared.ts";

export function summaryTable(reports: readonly ConnectorRunReport[]): string[] {
  return formatTable(
    ["CONNECTOR", "OUTCOME", "WINDOWS", "ACCEPTED", "COMMITTED THROUGH", "ERROR"],
    reports.map((report) => [
      report.connectorId,
      report.outcome,
      report.windowsPending > 0
        ? `${report.windowsCommitted} (+${report.windowsPending} pending)`
        : String(report.windowsCommitted),
      String(report.accepted),
      report.committedThrough?.toISOString() ?? "-",
      report.error ?? "",
    ]),
  );
}

const failedOutcomes: ReadonlySet<ConnectorRunReport["outcome"]> = new Set(["failed", "lease-lost"]);

interface RunOptions extends SettingsOption {
  connector?: string;
  definitions?: string[];
  logs?: boolean;
}

export const runCommand: CliCommand = {
  register(program, io, exit) {
    withSettingsOption(
      program
        .command("run")
        .description("poll every due window of all connectors (or one) once, then print a summary")
        .option("--connector <id>", "only this connector")
        .option("--definitions <paths...>", "definition files or folders (default: CONNECTORS_DIR)")
        .option("--logs", "also print the structured JSON log lines (to stderr)"),
    ).action((options: RunOptions) =>
      guarded(io, exit, async () => {
        const env = await commandEnv(io, options);
        const progress = createProgress(io);
        const runtime = await createRuntime({
          env,
          rootDir: commandRootDir(),
          write: (level, line) => {
            if (options.logs || level !== "info") progress.log(line);
          },
          ...(options.definitions ? { definitionPaths: options.definitions } : {}),
        });
        reportLoad(io, runtime);
        let connectors = runtime.connectors;
        if (options.connector !== undefined) {
          const connector = findConnector(io, runtime, options.connector);
          if (connector === undefined) return exitCodes.failed;
          connectors = [connector];
        }
        const summary = await runAll(runtime.deps, connectors, {
          ...runtime.runOptions,
          onWindow: (report) => progress.window(report),
        });
        progress.end();
        io.stdout("");
        for (const line of summaryTable(summary.reports)) io.stdout(line);
        const failed = summary.reports.some((report) => failedOutcomes.has(report.outcome));
        return failed || runtime.load.errors.length > 0 ? exitCodes.failed : exitCodes.ok;
      }),
    );
  },
};
