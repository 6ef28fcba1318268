/** `ccp-poller schema [--out file]`: the JSON Schema of a connector's `properties`, for editors. */
import { writeFile } from "node:fs/promises";
import { connectorJsonSchemaText } from "../../definition/json-schema.ts";
import type { CliCommand } from "../command.ts";

export const schemaCommand: CliCommand = {
  register(program, io, exit) {
    program
      .command("schema")
      .description("print (or write) the JSON Schema of a connector definition's properties")
      .option("--out <file>", "write to this file instead of stdout")
      .action(async (options: { out?: string }) => {
        const text = connectorJsonSchemaText();
        if (options.out === undefined) io.stdout(text.trimEnd());
        else await writeFile(options.out, text);
        exit(0);
      });
  },
};
