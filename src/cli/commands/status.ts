/** `ccp-poller status [--json]`: the on-call table, one line per connector, worst first. */
import path from "node:path";
import { Option } from "commander";
import { type Env, readSetting } from "../../config/app-settings.ts";
import { systemClock } from "../../engine/clock.ts";
import { latestHealthFromStandin } from "../../health/latest.ts";
import { createStateTableClient, createWatermarkStore, silentDropRule } from "../../state/index.ts";
import { statusView } from "../../status/view.ts";
import type { CliCommand } from "../command.ts";
import type { CliIo } from "../io.ts";
import {
  commandEnv,
  errorColumnChars,
  exitCodes,
  formatTable,
  guarded,
  type SettingsOption,
  shorten,
  statusTable,
  withSettingsOption,
} from "../shared.ts";

/** The last error is cut on the terminal so a line stays a line; `--json` has it whole. */

export const statusCommand: CliCommand = {
  register(program, io, exit) {
    withSettingsOption(
      program
        .command("status")
        .description("show every connector's status, lag, last success, failures and last error, worst first")
        .option("--json", "print { generatedAt, connectors: [...] } instead of a table")
        .addOption(
          new Option(
            "--source <source>",
            "table: the watermark rows; health: each connector's latest health record in the local stand-in",
          )
            .choices(["table", "health"])
            .default("table"),
        )
        .option("--data-dir <dir>", "--source health: the Logs Ingestion stand-in's data folder"),
    ).action((options: SettingsOption & HealthSourceOptions & { source: string }) =>
      guarded(io, exit, async () => {
        const env = await commandEnv(io, options);
        if (options.source === "health") return healthStatus(io, env, options);
        const { tableClient } = createStateTableClient(env);
        const store = createWatermarkStore({ tableClient, clock: systemClock });
        await store.ensureTable();
        const now = systemClock.now();
        const lines = statusView(await store.list(), now);
        if (options.json) {
          io.stdout(JSON.stringify({ generatedAt: now.toISOString(), connectors: lines }, null, 2));
        } else if (lines.length === 0) {
          io.stdout(`No connectors in ${store.tableUrl} yet: they appear after their first run.`);
        } else {
          for (const line of statusTable(lines)) io.stdout(line);
          if (lines.some((line) => line.activity.silentDrop !== null)) {
            io.stdout("");
            io.stdout(silentDropRule);
          }
        }
        return exitCodes.ok;
      }),
    );
  },
};

interface HealthSourceOptions {
  json?: boolean;
  dataDir?: string;
}

/** Log Analytics is not read here: infra/queries/health-*.kql query CcpPollerHealth_CL there. */
async function healthStatus(io: CliIo, env: Env, options: HealthSourceOptions): Promise<number> {
  const dcrId = readSetting(env, "HEALTH_DCR_IMMUTABLE_ID");
  if (options.dataDir === undefined || dcrId === undefined) {
    io.stderr(
      "--source health reads the local Logs Ingestion stand-in: expected --data-dir <its data folder> and the HEALTH_DCR_IMMUTABLE_ID setting",
    );
    return exitCodes.usage;
  }
  const stream = String(readSetting(env, "HEALTH_STREAM_NAME"));
  const lines = await latestHealthFromStandin(path.resolve(options.dataDir), dcrId, stream);
  if (options.json) {
    io.stdout(JSON.stringify({ source: `${dcrId}/${stream}`, connectors: lines }, null, 2));
  } else if (lines.length === 0) {
    io.stdout(`No health records for ${dcrId}/${stream} in ${options.dataDir} yet.`);
  } else {
    const headers = ["CONNECTOR", "STATUS", "OPERATION", "AT", "WINDOW", "ATTEMPT", "LAG", "REASON"];
    const rows = lines.map((line) => [
      line.connectorId,
      line.status,
      line.operation,
      line.at,
      line.window,
      String(line.attempt),
      line.lagMinutes === null ? "-" : `${line.lagMinutes} min`,
      shorten(line.reason, errorColumnChars),
    ]);
    for (const line of formatTable(headers, rows)) io.stdout(line);
  }
  return exitCodes.ok;
}
