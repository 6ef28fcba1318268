/** `ccp-poller validate <file|folder...>`: one line per connector, every error, every warning; exit 1 on any error. */
import { readFile } from "node:fs/promises";
import { DefinitionError, formatRefusal, formatWarning } from "../../definition/errors.ts";
import { loadConnectors } from "../../definition/load.ts";
import { parseDefinitionJson } from "../../definition/parse.ts";
import type { Connector } from "../../definition/schema.ts";
import type { CliCommand } from "../command.ts";

interface ValidateOptions {
  settings?: string;
  envFile?: string[];
  structureOnly?: boolean;
}

export const validateCommand: CliCommand = {
  register(program, io, exit) {
    program
      .command("validate")
      .description("load connector definitions and report each connector, refusal, warning and error")
      .argument("<paths...>", "definition files or folders (every *.json below a folder)")
      .option(
        "--settings <file>",
        "settings file { <connectorId>: { <name>: value } } (default: CONNECTOR_SETTINGS_FILE)",
      )
      .option(
        "--env-file <file>",
        "JSON file of extra environment variables, e.g. a connector's settings.sample.json (repeatable)",
        (file: string, files: string[]) => [...files, file],
        [] as string[],
      )
      .option("--structure-only", "check structure without values: unbound placeholders are not errors")
      .action(async (paths: string[], options: ValidateOptions) => {
        const env = { ...io.env };
        for (const file of options.envFile ?? []) {
          try {
            Object.assign(env, parseDefinitionJson(await readFile(file, "utf8"), file));
          } catch (error) {
            if (!(error instanceof DefinitionError)) throw error;
            io.stderr(error.message);
            exit(1);
            return;
          }
        }
        const result = await loadConnectors(paths, {
          env,
          settingsFile: options.settings ?? io.env.CONNECTOR_SETTINGS_FILE,
          unbound: options.structureOnly ? "keep" : "error",
        });
        for (const connector of result.connectors) io.stdout(describeConnector(connector));
        for (const refusal of result.refused) io.stdout(formatRefusal(refusal));
        for (const warning of result.warnings) io.stderr(formatWarning(warning));
        for (const error of result.errors) io.stderr(error.message);
        io.stdout(
          `${result.connectors.length} connector(s) OK, ${result.refused.length} refused, ${result.errors.length} error(s), ${result.warnings.length} warning(s)`,
        );
        exit(result.errors.length > 0 ? 1 : 0);
      });
  },
};

function describeConnector(connector: Connector): string {
  const { auth, paging, request, isActive } = connector.properties;
  const inactive = isActive ? "" : ", inactive";
  return `OK ${connector.id} (auth ${auth.type}, paging ${paging.pagingType}, window ${request.queryWindowInMin} min${inactive}) ${connector.source.file}`;
}
