/**
 * `ccp-poller compare --connector <id> --from <t> --to <t>`: ccp-poller's table against the native CCP
 * connector's, per window of the connector's `queryWindowInMin`. Exit 0 when equal, 1 when they differ,
 * 2 on a usage error, 3 when a side cannot be read.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { LogsQueryClient } from "@azure/monitor-query-logs";
import {
  type ColumnOptions,
  type CompareSource,
  createLocalSource,
  createLogAnalyticsSource,
  createLogsQueryClient,
  DEFAULT_COLUMNS,
  LOCAL_NATIVE_DCR_ID,
  renderJson,
  renderMarkdown,
  renderTerminal,
  runCompare,
  type Side,
  type StoredStream,
  windowQuery,
} from "../../compare/index.ts";
import { type Env, readSetting } from "../../config/app-settings.ts";
import { DefinitionError } from "../../definition/errors.ts";
import { loadConnectors } from "../../definition/load.ts";
import type { Connector } from "../../definition/schema.ts";
import type { Window } from "../../engine/types.ts";
import { isSafeSegment } from "../../local/standin/row-store.ts";
import { createAzureCredential } from "../../sink/settings.ts";
import type { CliCommand } from "../command.ts";
import type { CliIo } from "../io.ts";
import {
  commandEnv,
  exitCodes,
  formatTable,
  parseTime,
  type SettingsOption,
  withSettingsOption,
} from "../shared.ts";

/** Where `npx tsx src/local/ingestion-standin.ts` keeps its data in the local walkthrough. */
const DEFAULT_STANDIN_DATA_DIR = ".local/ingestion";

interface CompareCliOptions extends SettingsOption {
  connector: string;
  from: string;
  to: string;
  json?: boolean;
  report?: string;
  showQuery?: boolean;
  ignore: string[];
  defaultIgnore: boolean;
  source: string;
  connectors?: string;
  keyColumn: string;
  timeColumn: string;
  workspace?: string;
  funcTable?: string;
  ccpTable?: string;
  dataDir: string;
  funcStream?: string;
  ccpStream?: string;
}

/** Reported on stderr with exit code 2: the arguments or settings cannot work. */
class CompareUsageError extends Error {}
/** Reported on stderr with exit code 3: a side could not be read (permissions, network, missing table). */
class SourceUnavailableError extends Error {}

export interface CompareCommandDeps {
  /** The Log Analytics client; by default the real one with DefaultAzureCredential. Tests aim it at a stand-in. */
  createLogsQueryClient?: (env: Env) => LogsQueryClient;
}

export function createCompareCommand(deps: CompareCommandDeps = {}): CliCommand {
  const logsQueryClient =
    deps.createLogsQueryClient ?? ((env: Env) => createLogsQueryClient(createAzureCredential(env)));
  return {
    register(program, io, exit) {
      withSettingsOption(
        program
          .command("compare")
          .description(
            "compare ccp-poller's rows with the native CCP connector's, per query window: exit 0 equal, 1 different",
          )
          .requiredOption("--connector <id>", "connector id (its queryWindowInMin sets the window size)")
          .requiredOption("--from <time>", "range start, ISO 8601 (e.g. 2026-01-01T00:00:00Z)")
          .requiredOption("--to <time>", "range end (exclusive), ISO 8601")
          .option(
            "--source <local|azure>",
            "local: the Logs Ingestion stand-in's streams; azure: Log Analytics",
            "local",
          )
          .option("--json", "print the result as JSON")
          .option("--report <file.md>", "also write a Markdown report")
          .option("--show-query", "print each window's KQL on stderr (the query --source azure runs)")
          .option(
            "--ignore <columns>",
            "columns not compared, comma-separated, repeatable; added to the defaults",
            (value: string, all: string[]) => [
              ...all,
              ...value
                .split(",")
                .map((c) => c.trim())
                .filter(Boolean),
            ],
            [] as string[],
          )
          .option(
            "--no-default-ignore",
            `compare the default-ignored columns too (${DEFAULT_COLUMNS.ignore.join(", ")})`,
          )
          .option("--key-column <name>", "join key; rows without it use `id`", DEFAULT_COLUMNS.keyColumn)
          .option("--time-column <name>", "event time the windows are cut on", DEFAULT_COLUMNS.timeColumn)
          .option("--connectors <path>", "definition file or folder (default: CONNECTORS_DIR)")
          .option(
            "--workspace <id>",
            "azure: workspace GUID or resource id (default: LOG_ANALYTICS_WORKSPACE_ID)",
          )
          .option("--func-table <name>", "azure: ccp-poller's table (default: COMPARE_FUNC_TABLE)")
          .option("--ccp-table <name>", "azure: the native connector's table (default: COMPARE_CCP_TABLE)")
          .option("--data-dir <dir>", "local: the stand-in's data folder", DEFAULT_STANDIN_DATA_DIR)
          .option(
            "--func-stream <dcrId/stream>",
            "local: ccp-poller's stream (default: the connector's dcrConfig)",
          )
          .option(
            "--ccp-stream <dcrId/stream>",
            `local: the native side's stream (default: ${LOCAL_NATIVE_DCR_ID}/<the connector's stream>)`,
          ),
      ).action(async (options: CompareCliOptions) => {
        try {
          exit(await compare(options, io, logsQueryClient));
        } catch (error) {
          // Exit code 1 means "different": nothing that stopped the compare may look like it.
          if (error instanceof SourceUnavailableError) {
            io.stderr(`compare: ${error.message}`);
            exit(exitCodes.unavailable);
          } else if (error instanceof CompareUsageError || error instanceof DefinitionError) {
            io.stderr(`compare: ${error.message}`);
            exit(exitCodes.usage);
          } else {
            throw error;
          }
        }
      });
    },
  };
}

export const compareCommand = createCompareCommand();

async function compare(
  options: CompareCliOptions,
  io: CliIo,
  logsQueryClient: (env: Env) => LogsQueryClient,
): Promise<number> {
  const from = timeOption("--from", options.from);
  const to = timeOption("--to", options.to);
  if (from >= to)
    throw new CompareUsageError(`--from must be before --to, got ${options.from} .. ${options.to}`);
  const env = await commandEnv(io, options);
  const connector = await loadConnector(options, env);
  const columns: ColumnOptions = {
    ...DEFAULT_COLUMNS,
    keyColumn: options.keyColumn,
    timeColumn: options.timeColumn,
    ignore: [...(options.defaultIgnore ? DEFAULT_COLUMNS.ignore : []), ...options.ignore],
  };
  const tables: Record<Side, string> = {
    func: options.funcTable ?? String(readSetting(env, "COMPARE_FUNC_TABLE")),
    ccp: options.ccpTable ?? String(readSetting(env, "COMPARE_CCP_TABLE")),
  };
  const queryOf = (window: Window) => {
    try {
      return windowQuery(window, tables, columns);
    } catch (error) {
      throw new CompareUsageError((error as Error).message);
    }
  };
  const source = createSource(options, env, connector, columns, tables, logsQueryClient);
  let firstQuery: string | undefined;
  const result = await runCompare({
    connectorId: connector.id,
    from,
    to,
    windowMinutes: connector.properties.request.queryWindowInMin,
    source,
    columns,
    onWindow: (window) => {
      const query = queryOf(window);
      firstQuery ??= query;
      if (options.showQuery) io.stderr(`${query}\n`);
    },
  }).catch((error: unknown) => {
    if (error instanceof CompareUsageError) throw error;
    throw new SourceUnavailableError(
      `could not read ${options.source === "azure" ? "Log Analytics" : "the stored streams"}: ${(error as Error).message}`,
    );
  });
  io.stdout(options.json ? renderJson(result) : renderTerminal(result, formatTable));
  if (options.report !== undefined) {
    await writeFile(options.report, renderMarkdown(result, firstQuery));
    if (!options.json) io.stdout(`Report written to ${options.report}`);
  }
  return result.totals.equal ? exitCodes.ok : exitCodes.failed;
}

function timeOption(option: string, value: string): Date {
  const time = parseTime(value);
  if (time === undefined) {
    throw new CompareUsageError(
      `${option}: expected an ISO 8601 time such as 2026-01-01T00:00:00Z, got ${JSON.stringify(value)}`,
    );
  }
  return time;
}

async function loadConnector(options: CompareCliOptions, env: Env): Promise<Connector> {
  const definitions = options.connectors ?? String(readSetting(env, "CONNECTORS_DIR"));
  const settingsFile = readSetting(env, "CONNECTOR_SETTINGS_FILE");
  // Only the window size and dcrConfig are needed: missing secrets or endpoints must not stop a compare.
  const loaded = await loadConnectors([definitions], {
    env,
    ...(settingsFile !== undefined ? { settingsFile } : {}),
    unbound: "keep",
  });
  const connector = loaded.connectors.find((c) => c.id === options.connector);
  if (connector === undefined) {
    const known = loaded.connectors.map((c) => c.id).join(", ") || "none";
    const errors = loaded.errors.map((e) => `\n  ${e.message}`).join("");
    throw new CompareUsageError(
      `${definitions}: no connector "${options.connector}" (found: ${known})${errors}`,
    );
  }
  return connector;
}

function createSource(
  options: CompareCliOptions,
  env: Env,
  connector: Connector,
  columns: ColumnOptions,
  tables: Record<Side, string>,
  logsQueryClient: (env: Env) => LogsQueryClient,
): CompareSource {
  if (options.source === "azure") {
    const workspace = options.workspace ?? readSetting(env, "LOG_ANALYTICS_WORKSPACE_ID");
    if (workspace === undefined) {
      throw new CompareUsageError(
        "--source azure: expected --workspace or LOG_ANALYTICS_WORKSPACE_ID (`azd env get-values` lists it)",
      );
    }
    return createLogAnalyticsSource({ client: logsQueryClient(env), workspace, tables, columns });
  }
  if (options.source !== "local") {
    throw new CompareUsageError(`--source: expected local or azure, got ${JSON.stringify(options.source)}`);
  }
  // Legacy APIPolling definitions have no dcrConfig: their streams must be named.
  const dcr = connector.properties.dcrConfig;
  const func = storedStream("--func-stream", options.funcStream, options.dataDir, {
    dcrId: dcr?.dataCollectionRuleImmutableId ?? "",
    stream: dcr?.streamName ?? "",
  });
  const ccp = storedStream("--ccp-stream", options.ccpStream, options.dataDir, {
    dcrId: LOCAL_NATIVE_DCR_ID,
    stream: func.stream,
  });
  return createLocalSource({ func, ccp }, columns);
}

function storedStream(
  option: string,
  value: string | undefined,
  dataDir: string,
  fallback: { dcrId: string; stream: string },
): StoredStream {
  const [dcrId, stream] = value === undefined ? [fallback.dcrId, fallback.stream] : value.split("/", 2);
  if (dcrId === undefined || stream === undefined || !isSafeSegment(dcrId) || !isSafeSegment(stream)) {
    const got = value ?? `${fallback.dcrId}/${fallback.stream} (the default)`;
    throw new CompareUsageError(
      `${option}: expected <dcrId>/<stream> of the stand-in (set the connector's dcrConfig values or pass ${option}), got ${got}`,
    );
  }
  return { dataDir: path.resolve(dataDir), dcrId, stream };
}
