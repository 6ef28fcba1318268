/**
 * Builds the watermark table's client from app settings, the way the Functions host reads its own storage:
 * `AzureWebJobsStorage` as a connection string when it is set (locally `UseDevelopmentStorage=true`, or the
 * string the Azurite launcher prints), otherwise the identity-based `AzureWebJobsStorage__tableServiceUri`
 * with a managed identity. A pure function of `env`: nothing is contacted until the first table call.
 */
import type { TableClient, TableServiceClientOptions } from "@azure/data-tables";
import type { TokenCredential } from "@azure/identity";
import { type Env, readSetting } from "../config/app-settings.ts";
import { azureIdentity, dataTables } from "../config/azure-sdk.ts";
import { StateConfigError } from "./errors.ts";

export type StateAuthKind = "connectionString" | "managedIdentity" | "defaultAzureCredential";

export interface StateTableConnection {
  tableClient: TableClient;
  tableName: string;
  /** Table service URL (no credentials in it), for startup logs and errors. */
  endpoint: string;
  auth: StateAuthKind;
  /** The token credential when `auth` is identity-based. */
  credential?: TokenCredential;
}

/** Azure's table naming rule: a letter, then letters or digits, 3–63 characters in all. */
const tableNamePattern = /^[A-Za-z][A-Za-z0-9]{2,62}$/;

export function createStateTableClient(
  env: Env,
  clientOptions: TableServiceClientOptions = {},
): StateTableConnection {
  const tableName = readSetting(env, "STATE_TABLE_NAME") ?? "";
  if (!tableNamePattern.test(tableName)) {
    throw new StateConfigError(
      `STATE_TABLE_NAME "${tableName}" is not a valid table name: expected a letter followed by letters or digits, 3 to 63 characters.`,
    );
  }

  const connectionString = readSetting(env, "AzureWebJobsStorage");
  if (connectionString !== undefined) {
    return fromConnectionString(connectionString, tableName, clientOptions);
  }

  const tableServiceUri = readSetting(env, "AzureWebJobsStorage__tableServiceUri");
  if (tableServiceUri === undefined) {
    throw new StateConfigError(
      "No watermark storage configured: set AzureWebJobsStorage to a connection string (locally UseDevelopmentStorage=true) or AzureWebJobsStorage__tableServiceUri to the table endpoint (https://<account>.table.core.windows.net) for managed identity.",
    );
  }
  let endpoint: URL;
  try {
    endpoint = new URL(tableServiceUri);
  } catch {
    throw new StateConfigError(
      `AzureWebJobsStorage__tableServiceUri "${tableServiceUri}" is not a URL: expected https://<account>.table.core.windows.net.`,
    );
  }
  if (endpoint.protocol !== "https:") {
    throw new StateConfigError(
      `AzureWebJobsStorage__tableServiceUri must be https for identity-based access (tokens are never sent over http); got "${endpoint.protocol}". Use AzureWebJobsStorage with a connection string for Azurite.`,
    );
  }
  const { auth, credential } = identityCredential(env);
  return {
    tableClient: withRequestTimeout(
      new (dataTables().TableClient)(tableServiceUri, tableName, credential, clientOptions),
    ),
    tableName,
    endpoint: tableServiceUri,
    auth,
    credential,
  };
}

/** A table call's longest wait for an answer before it counts as failed (and is retried by the SDK). */
export const TABLE_REQUEST_TIMEOUT_MS = 30_000;

/**
 * The SDK waits forever for a response by default; a connection the service never answers would then hold a
 * connector's run until the host kills it. Every call gets a timeout instead, so it fails (and retries) like
 * any other outage.
 */
function withRequestTimeout(tableClient: TableClient): TableClient {
  tableClient.pipeline.addPolicy({
    name: "ccpPollerTableRequestTimeout",
    sendRequest: (request, next) => {
      if (!request.timeout) request.timeout = TABLE_REQUEST_TIMEOUT_MS;
      return next(request);
    },
  });
  return tableClient;
}

function fromConnectionString(
  connectionString: string,
  tableName: string,
  clientOptions: TableServiceClientOptions,
): StateTableConnection {
  // An explicit http endpoint (Azurite on a random port) is refused by the SDK unless allowed; the SDK already
  // allows it for the UseDevelopmentStorage=true shorthand.
  const isHttp = /(^|;)\s*(DefaultEndpointsProtocol=http|TableEndpoint=http:)(;|\s|$|\/)/i.test(
    connectionString,
  );
  let tableClient: TableClient;
  try {
    tableClient = withRequestTimeout(
      dataTables().TableClient.fromConnectionString(connectionString, tableName, {
        ...clientOptions,
        allowInsecureConnection: isHttp || clientOptions.allowInsecureConnection,
      }),
    );
  } catch {
    // The SDK's message may quote the string, and the string holds the account key: say what was expected.
    throw new StateConfigError(
      "AzureWebJobsStorage is not a usable storage connection string: expected UseDevelopmentStorage=true, or AccountName=…;AccountKey=…;TableEndpoint=… (or EndpointSuffix=…).",
    );
  }
  return { tableClient, tableName, endpoint: tableClient.url, auth: "connectionString" };
}

function identityCredential(env: Env): { auth: StateAuthKind; credential: TokenCredential } {
  // The template only sets AzureWebJobsStorage__clientId; the SDKs themselves do not read it.
  const clientId = readSetting(env, "AzureWebJobsStorage__clientId") ?? readSetting(env, "AZURE_CLIENT_ID");
  const kind = (readSetting(env, "AzureWebJobsStorage__credential") ?? "managedidentity").toLowerCase();
  const { DefaultAzureCredential, ManagedIdentityCredential } = azureIdentity();
  if (kind === "managedidentity") {
    return {
      auth: "managedIdentity",
      credential:
        clientId === undefined
          ? new ManagedIdentityCredential()
          : new ManagedIdentityCredential({ clientId }),
    };
  }
  if (kind === "default") {
    // For a developer pointing a local run at a real account after `az login`.
    return {
      auth: "defaultAzureCredential",
      credential: new DefaultAzureCredential(
        clientId === undefined ? {} : { managedIdentityClientId: clientId },
      ),
    };
  }
  throw new StateConfigError(
    `AzureWebJobsStorage__credential "${kind}" is not supported: expected "managedidentity" (default) or "default" (DefaultAzureCredential).`,
  );
}
