/** One `ccp-poller` command: every file in src/cli/commands exports one, and commands/index.ts lists them. */
import type { Command } from "commander";
import type { CliIo } from "./io.ts";

export interface CliCommand {
  /** Adds the command to `program`. Its action sets `process.exitCode`-style results through `exit`. */
  register(program: Command, io: CliIo, exit: (code: number) => void): void;
}
