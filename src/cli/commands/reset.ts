/**
 * `ccp-poller reset <id> --to <time> [--yes]`: moves a connector's CommittedThrough, clearing its failures and
 * window in flight, after showing the row and asking. The next run polls from `--to`.
 */
import { systemClock } from "../../engine/clock.ts";
import { createStateTableClient, createWatermarkStore, type WatermarkRow } from "../../state/index.ts";
import { statusView } from "../../status/view.ts";
import type { CliCommand } from "../command.ts";
import type { CliIo } from "../io.ts";
import {
  commandEnv,
  exitCodes,
  guarded,
  parseTime,
  type SettingsOption,
  statusTable,
  withSettingsOption,
} from "../shared.ts";

interface ResetOptions extends SettingsOption {
  to: string;
  yes?: boolean;
}

export const resetCommand: CliCommand = {
  register(program, io, exit) {
    withSettingsOption(
      program
        .command("reset")
        .description(
          "set a connector's CommittedThrough (the next run polls from there) and clear its failures",
        )
        .argument("<id>", "connector id")
        .requiredOption("--to <time>", "new CommittedThrough, ISO 8601 (e.g. 2026-01-31T00:00:00Z)")
        .option("--yes", "do not ask for confirmation"),
    ).action((id: string, options: ResetOptions) =>
      guarded(io, exit, async () => {
        const to = parseTime(options.to);
        if (to === undefined) {
          io.stderr(`--to: expected an ISO 8601 time such as 2026-01-31T00:00:00Z, got "${options.to}".`);
          return exitCodes.usage;
        }
        const now = systemClock.now();
        if (to.getTime() > now.getTime()) {
          io.stderr(`--to ${to.toISOString()} is in the future; a watermark there would skip data. Refused.`);
          return exitCodes.usage;
        }
        const { tableClient } = createStateTableClient(await commandEnv(io, options));
        const store = createWatermarkStore({ tableClient, clock: systemClock });
        const before = await store.get(id);
        if (before === undefined) {
          io.stderr(`Connector "${id}" has no watermark row in ${store.tableUrl}: it has never run.`);
          return exitCodes.failed;
        }
        showRow(io, "Before:", before, now);
        io.stdout(consequence(before, to));
        if (!options.yes && !(await confirmed(io, `Reset "${id}" to ${to.toISOString()}? [y/N] `))) {
          io.stderr("Not reset.");
          return exitCodes.declined;
        }
        const after = await store.reset(id, to);
        showRow(io, "After:", after, systemClock.now());
        return exitCodes.ok;
      }),
    );
  },
};

function showRow(io: CliIo, title: string, row: WatermarkRow, now: Date): void {
  io.stdout(title);
  for (const line of statusTable(statusView([row], now))) io.stdout(`  ${line}`);
  io.stdout(`  CommittedThrough: ${row.committedThrough?.toISOString() ?? "(none)"}`);
}

function consequence(row: WatermarkRow, to: Date): string {
  const from = row.committedThrough;
  if (from === undefined) return `The first run will poll from ${to.toISOString()}.`;
  if (to.getTime() < from.getTime()) {
    return `Moves back: ${to.toISOString()} → ${from.toISOString()} is polled and sent again (duplicates in the table).`;
  }
  if (to.getTime() > from.getTime()) {
    return `Moves forward: ${from.toISOString()} → ${to.toISOString()} will never be polled.`;
  }
  return "CommittedThrough stays; failures and the window in flight are cleared.";
}

async function confirmed(io: CliIo, question: string): Promise<boolean> {
  const answer = await io.prompt?.(question);
  return answer !== undefined && /^y(es)?$/i.test(answer.trim());
}
