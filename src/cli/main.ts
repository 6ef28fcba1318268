/** The `ccp-poller` command line. Commands live in ./commands, one file each, registered in one list. */
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Command, CommanderError } from "commander";
import { commands } from "./commands/index.ts";
import { type CliIo, processIo } from "./io.ts";
import { exitCodes } from "./shared.ts";

/** Runs the CLI on `args` (without `node` and the script) and resolves to the exit code. */
export async function main(args: readonly string[], io: CliIo = processIo): Promise<number> {
  let exitCode = 0;
  const program = new Command("ccp-poller")
    .description("Polls REST APIs the way Microsoft Sentinel's Codeless Connector Platform does")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout(s.trimEnd()), writeErr: (s) => io.stderr(s.trimEnd()) });
  for (const command of commands) {
    command.register(program, io, (code) => {
      exitCode = code;
    });
  }
  try {
    await program.parseAsync([...args], { from: "user" });
  } catch (error) {
    // Help and version exit 0; every other commander error is a usage error (docs/cli.md: exit codes).
    if (error instanceof CommanderError) return error.exitCode === 0 ? exitCodes.ok : exitCodes.usage;
    throw error;
  }
  return exitCode;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await main(process.argv.slice(2));
