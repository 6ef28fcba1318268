/** `ccp-poller status [--json]`: the on-call table, one line per connector, worst first. */
import { systemClock } from "../../engine/clock.ts";
import { createStateTableClient, createWatermarkStore } from "../../state/index.ts";
import { type StatusLine, statusView } from "../../status/view.ts";
import type { CliCommand } from "./index.ts";
import {
  commandEnv,
  exitCodes,
  formatTable,
  guarded,
  type SettingsOption,
  withSettingsOption,
} from "./run.ts";

/** The last error is cut on the terminal so a line stays a line; `--json` has it whole. */
const errorColumnChars = 100;

export const statusCommand: CliCommand = {
  register(program, io, exit) {
    withSettingsOption(
      program
        .command("status")
        .description("show every connector's status, lag, last success, failures and last error, worst first")
        .option("--json", "print { generatedAt, connectors: [...] } instead of a table"),
    ).action((options: SettingsOption & { json?: boolean }) =>
      guarded(io, exit, async () => {
        const { tableClient } = createStateTableClient(await commandEnv(io, options));
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
        }
        return exitCodes.ok;
      }),
    );
  },
};

export function statusTable(lines: readonly StatusLine[]): string[] {
  return formatTable(
    ["CONNECTOR", "STATUS", "LAG", "LAST SUCCESS", "FAILURES", "WINDOW IN FLIGHT", "LAST ERROR"],
    lines.map((line) => [
      line.connectorId,
      line.status,
      line.lagMinutes === null ? "-" : `${line.lagMinutes} min`,
      line.lastSuccessAt ?? "never",
      String(line.consecutiveFailures),
      line.windowInFlight === null ? "-" : `${line.windowInFlight} (attempt ${line.windowAttempts})`,
      shorten(line.lastError, errorColumnChars),
    ]),
  );
}

function shorten(text: string, chars: number): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length <= chars ? oneLine : `${oneLine.slice(0, chars - 1)}…`;
}
