/**
 * Every app-level setting ccp-poller reads, with its default: the one table docs/operating.md, local.settings.sample.json
 * and the Bicep template are checked against. Per-connector values (placeholders, secrets) are not here: they
 * come from `CCP_<CONNECTOR_ID>_<NAME>` variables (see src/definition).
 */
export interface AppSettingSpec {
  name: string;
  /** Undefined = required where it is used, or optional with no default. */
  default?: string;
  description: string;
  /** Set by infra/main.bicep on the deployed function app. */
  setInAzure: boolean;
}

export const appSettings = [
  {
    name: "AzureWebJobsStorage",
    description:
      "Storage connection string for the watermark table (locally `UseDevelopmentStorage=true` for Azurite). In Azure, use the identity-based `AzureWebJobsStorage__*` settings instead.",
    setInAzure: false,
  },
  {
    name: "AzureWebJobsStorage__tableServiceUri",
    description:
      "Table endpoint (https://<account>.table.core.windows.net) used with managed identity in Azure.",
    setInAzure: true,
  },
  {
    name: "AzureWebJobsStorage__blobServiceUri",
    description: "Blob endpoint used with managed identity in Azure (dead-letter container).",
    setInAzure: true,
  },
  {
    name: "AzureWebJobsStorage__queueServiceUri",
    description:
      "Queue endpoint used with managed identity in Azure (POLL_MODE=fanout: the work queue and its poison queue).",
    setInAzure: true,
  },
  {
    name: "AzureWebJobsStorage__credential",
    default: "managedidentity",
    description: "Credential kind for the identity-based storage connection.",
    setInAzure: true,
  },
  {
    name: "AzureWebJobsStorage__clientId",
    description: "Client id of the user-assigned managed identity for storage.",
    setInAzure: true,
  },
  {
    name: "AZURE_CLIENT_ID",
    description:
      "Client id of the user-assigned managed identity DefaultAzureCredential uses (Logs Ingestion, Key Vault).",
    setInAzure: true,
  },
  {
    name: "CONNECTORS_DIR",
    default: "connectors",
    description: "Folder (relative to the app root) holding the connector definitions to poll.",
    setInAzure: true,
  },
  {
    name: "CONNECTOR_SETTINGS_FILE",
    description:
      'Optional JSON file of non-secret per-connector values: `{ "<connectorId>": { "<name>": "value" } }`.',
    setInAzure: false,
  },
  {
    name: "STATE_TABLE_NAME",
    default: "CcpPollerWatermarks",
    description: "Table holding one watermark row per connector and the run history.",
    setInAzure: true,
  },
  {
    name: "DEAD_LETTER_CONTAINER",
    default: "ccp-poller-dead-letter",
    description:
      "Blob container for records the Logs Ingestion API can never accept (too large for any call).",
    setInAzure: true,
  },
  {
    name: "POLL_SCHEDULE",
    default: "0 */5 * * * *",
    description: "NCRONTAB schedule of the timer function.",
    setInAzure: true,
  },
  {
    name: "RUN_BUDGET_SECONDS",
    default: "480",
    description: "Time budget of one run; kept safely below host.json functionTimeout (10 minutes).",
    setInAzure: true,
  },
  {
    name: "CONNECTOR_CONCURRENCY",
    default: "4",
    description: "How many connectors one run polls at the same time.",
    setInAzure: true,
  },
  {
    name: "INITIAL_LOOKBACK_MINUTES",
    description: "How far back a connector's first run starts. Default: one query window.",
    setInAzure: false,
  },
  {
    name: "LEASE_TTL_SECONDS",
    default: "300",
    description:
      "How long a connector's lease lasts without a renewal: every write under the lease renews it, and the runner renews it every third of this while a window is polled.",
    setInAzure: false,
  },
  {
    name: "HEAP_GROWING_PERCENT",
    default: "100",
    description:
      "How far V8 lets the JavaScript heap grow past what its last full collection left live before it collects again, in percent (`--heap-growing-percent`). 100 keeps a large window's peak memory near twice the live heap; 0 leaves it to V8, which grows it up to fourfold. Ignored when node was started with that flag.",
    setInAzure: false,
  },
  {
    name: "POLL_MODE",
    default: "inline",
    description:
      "`inline`: the timer polls every due connector itself. `fanout`: the timer only plans and enqueues connector-window ranges to FANOUT_QUEUE_NAME; the queue-triggered `work` function polls them, so Flex Consumption scales out.",
    setInAzure: true,
  },
  {
    name: "FANOUT_QUEUE_NAME",
    default: "ccp-poller-work",
    description:
      "Storage queue of fan-out work (POLL_MODE=fanout); the host moves a message that failed maxDequeueCount times (host.json) to `<name>-poison`.",
    setInAzure: true,
  },
  {
    name: "FANOUT_RANGE_WINDOWS",
    default: "12",
    description:
      "Fan-out: query windows per message. A longer backlog of a connector without a persistent cursor is split into ranges of this many windows that instances poll in parallel.",
    setInAzure: false,
  },
  {
    name: "FANOUT_MESSAGE_TTL_SECONDS",
    default: "900",
    description:
      "Fan-out: a work message's time to live; until then (or while a worker holds its lease) the planner does not enqueue that work again.",
    setInAzure: false,
  },
  {
    name: "INGESTION_STANDIN_CA_FILE",
    description:
      "Local runs only: CA certificate of the local Logs Ingestion stand-in. When set, the sink trusts it (for that client only) and uses the stand-in's token instead of Azure credentials.",
    setInAzure: false,
  },
  {
    name: "UPSTREAM_CA_FILE",
    description:
      "Local runs only: a PEM CA certificate the connectors' HTTP client trusts in addition to the public roots (the demo's self-signed upstream).",
    setInAzure: false,
  },
  {
    name: "HEALTH_DATA_COLLECTION_ENDPOINT",
    description:
      "Logs Ingestion endpoint (DCE) for health records (table CcpPollerHealth_CL). Unset together with HEALTH_DCR_IMMUTABLE_ID: no health records, one warning per start.",
    setInAzure: true,
  },
  {
    name: "HEALTH_DCR_IMMUTABLE_ID",
    description: "Immutable id of the DCR that routes health records to CcpPollerHealth_CL.",
    setInAzure: true,
  },
  {
    name: "HEALTH_STREAM_NAME",
    default: "Custom-CcpPollerHealth",
    description: "DCR stream health records are sent to.",
    setInAzure: true,
  },
  {
    name: "HEALTH_HEARTBEAT_MINUTES",
    default: "60",
    description:
      "While a connector's status stays the same, a health record is sent at most this often (status changes and failures are sent at once).",
    setInAzure: false,
  },
  {
    name: "LOG_ANALYTICS_WORKSPACE_ID",
    description:
      "`compare --source azure`: the workspace to query, as its GUID (workspace id) or ARM resource id (the `azd up` output of the same name).",
    setInAzure: false,
  },
  {
    name: "COMPARE_FUNC_TABLE",
    default: "JiraAudit_Func_CL",
    description: "`compare --source azure`: the table ccp-poller writes to.",
    setInAzure: false,
  },
  {
    name: "COMPARE_CCP_TABLE",
    default: "JiraAudit_CCP_CL",
    description: "`compare --source azure`: the table the native CCP connector writes to.",
    setInAzure: false,
  },
] as const satisfies readonly AppSettingSpec[];

export type AppSettingName = (typeof appSettings)[number]["name"];

export type Env = Readonly<Record<string, string | undefined>>;

/** An app setting holds a value the app cannot use; the message names the setting and what was expected. */
export class AppSettingError extends Error {
  override name = "AppSettingError";
}

/** Reads an app setting, falling back to its documented default. */
export function readSetting(env: Env, name: AppSettingName): string | undefined {
  const value = env[name];
  if (value !== undefined && value !== "") return value;
  const spec: AppSettingSpec | undefined = appSettings.find((s) => s.name === name);
  return spec?.default;
}
