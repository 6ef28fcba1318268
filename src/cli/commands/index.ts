/**
 * Every `ccp-poller` command, one file each. To add one (`run`, `status`, `reset`, `replay`, `demo`,
 * `compare`…), write `src/cli/commands/<name>.ts` exporting a `CliCommand` and add it to this list.
 */
import type { Command } from "commander";
import type { CliIo } from "../io.ts";
import { compareCommand } from "./compare.ts";
import { demoCommand } from "./demo.ts";
import { replayCommand } from "./replay.ts";
import { resetCommand } from "./reset.ts";
import { runCommand } from "./run.ts";
import { schemaCommand } from "./schema.ts";
import { statusCommand } from "./status.ts";
import { validateCommand } from "./validate.ts";

export interface CliCommand {
  /** Adds the command to `program`. Its action sets `process.exitCode`-style results through `exit`. */
  register(program: Command, io: CliIo, exit: (code: number) => void): void;
}

export const commands: readonly CliCommand[] = [
  validateCommand,
  schemaCommand,
  runCommand,
  statusCommand,
  resetCommand,
  replayCommand,
  demoCommand,
  compareCommand,
];
