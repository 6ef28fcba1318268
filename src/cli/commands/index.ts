/**
 * Every `ccp-poller` command, one file each. To add one (`run`, `status`, `reset`, `replay`, `demo`,
 * `compare`…), write `src/cli/commands/<name>.ts` exporting a `CliCommand` and add it to this list.
 */
import type { CliCommand } from "../command.ts";
import { compareCommand } from "./compare.ts";
import { demoCommand } from "./demo.ts";
import { replayCommand } from "./replay.ts";
import { resetCommand } from "./reset.ts";
import { runCommand } from "./run.ts";
import { schemaCommand } from "./schema.ts";
import { simulateCommand } from "./simulate.ts";
import { statusCommand } from "./status.ts";
import { tryCommand } from "./try.ts";
import { validateCommand } from "./validate.ts";

export const commands: readonly CliCommand[] = [
  validateCommand,
  schemaCommand,
  runCommand,
  statusCommand,
  resetCommand,
  replayCommand,
  demoCommand,
  compareCommand,
  simulateCommand,
  tryCommand,
];
