/**
 * `ccp-poller replay <id> --from <time> --to <time>`: re-polls a past range into the sink; the live watermark
 * (CommittedThrough, cursor, failures) is never touched. See src/runner/replay.ts.
 */
import {
  olderThanTimeGeneratedLimit,
  planReplayWindows,
  ReplayRefusedError,
  replayRange,
} from "../../runner/replay.ts";
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
  parseTime,
  reportLoad,
  type SettingsOption,
  withSettingsOption,
} from "../shared.ts";

interface ReplayOptions extends SettingsOption {
  from: string;
  to: string;
  definitions?: string[];
}

export const replayCommand: CliCommand = {
  register(program, io, exit) {
    withSettingsOption(
      program
        .command("replay")
        .description("re-poll [from, to) into the sink without moving the live watermark")
        .argument("<id>", "connector id")
        .requiredOption("--from <time>", "start, inclusive, ISO 8601")
        .requiredOption("--to <time>", "end, exclusive, ISO 8601")
        .option("--definitions <paths...>", "definition files or folders (default: CONNECTORS_DIR)"),
    ).action((id: string, options: ReplayOptions) =>
      guarded(io, exit, async () => {
        const from = parseTime(options.from);
        const to = parseTime(options.to);
        if (from === undefined || to === undefined) {
          io.stderr(
            `--from/--to: expected ISO 8601 times such as 2026-01-31T00:00:00Z, got "${options.from}" and "${options.to}".`,
          );
          return exitCodes.usage;
        }
        const progress = createProgress(io);
        const runtime = await createRuntime({
          env: await commandEnv(io, options),
          rootDir: commandRootDir(),
          write: (level, line) => {
            if (level !== "info") progress.log(line);
          },
          ...(options.definitions ? { definitionPaths: options.definitions } : {}),
        });
        reportLoad(io, runtime);
        const connector = findConnector(io, runtime, id);
        if (connector === undefined) return exitCodes.failed;
        const now = runtime.deps.clock.now();
        try {
          const windows = planReplayWindows(connector, from, to, now);
          io.stdout(
            `Replaying ${connector.id} ${from.toISOString()} → ${to.toISOString()} in ${windows.length} window(s); CommittedThrough is not changed.`,
          );
        } catch (error) {
          if (!(error instanceof ReplayRefusedError)) throw error;
          io.stderr(`Replay refused: ${error.message}`);
          return exitCodes.failed;
        }
        if (olderThanTimeGeneratedLimit(from, now)) {
          io.stderr(
            "Warning: the range starts more than 2 days ago. Log Analytics replaces a TimeGenerated older than 2 days with the ingestion time, so these rows will look new; filter on the source's own time column.",
          );
        }
        const report = await replayRange(runtime.deps, connector, {
          from,
          to,
          onWindow: (window) => progress.window(window),
        });
        progress.end();
        io.stdout("");
        for (const line of formatTable(
          ["CONNECTOR", "OUTCOME", "WINDOWS", "ACCEPTED", "REPLAYED THROUGH", "ERROR"],
          [
            [
              report.connectorId,
              report.outcome,
              report.windowsPending > 0
                ? `${report.windows.length - 1} (+${report.windowsPending} not replayed)`
                : String(report.windows.length),
              String(report.accepted),
              report.replayedThrough?.toISOString() ?? "-",
              report.error ?? "",
            ],
          ],
        )) {
          io.stdout(line);
        }
        return report.outcome === "replayed" ? exitCodes.ok : exitCodes.failed;
      }),
    );
  },
};
