/**
 * Wiring the sink from app settings: the Azure credential, the dead-letter container, and the client
 * options that make the SDK trust the local stand-in's self-signed certificate.
 */
import type { TokenCredential } from "@azure/identity";
import type { LogsIngestionClientOptions } from "@azure/monitor-ingestion";
import type { StoragePipelineOptions } from "@azure/storage-blob";
import { type Env, readSetting } from "../config/app-settings.ts";
import { azureIdentity, storageBlob } from "../config/azure-sdk.ts";
import { createBlobDeadLetterStore, type DeadLetterStore } from "./dead-letter.ts";

/** Managed identity in Azure: `AZURE_CLIENT_ID` names the user-assigned identity. */
export function createAzureCredential(env: Env): TokenCredential {
  const clientId = readSetting(env, "AZURE_CLIENT_ID");
  const { DefaultAzureCredential } = azureIdentity();
  return new DefaultAzureCredential(clientId === undefined ? {} : { managedIdentityClientId: clientId });
}

/**
 * Client options trusting one extra CA for this client only (the pipeline's `tlsOptions` become the
 * https.Agent's `ca`), so TLS verification stays on and nothing process-wide changes. The CA replaces the
 * public roots for this client: use it only for the stand-in.
 */
export function standinClientOptions(
  caCertPem: string,
  options: LogsIngestionClientOptions = {},
): LogsIngestionClientOptions {
  return { ...options, tlsOptions: { ca: caCertPem } };
}

/**
 * The `DEAD_LETTER_CONTAINER` container: through the `AzureWebJobsStorage` connection string when set
 * (Azurite locally), otherwise `AzureWebJobsStorage__blobServiceUri` with the credential.
 */
export function createDeadLetterStoreFromSettings(
  env: Env,
  credential: TokenCredential,
  clientOptions?: StoragePipelineOptions,
): DeadLetterStore {
  // DEAD_LETTER_CONTAINER has a default, so readSetting always yields a name.
  const containerName = String(readSetting(env, "DEAD_LETTER_CONTAINER"));
  const connectionString = readSetting(env, "AzureWebJobsStorage");
  const serviceUri = readSetting(env, "AzureWebJobsStorage__blobServiceUri");
  if (connectionString === undefined && serviceUri === undefined) {
    throw new Error(
      "Dead-letter store: expected app setting AzureWebJobsStorage (connection string) or " +
        "AzureWebJobsStorage__blobServiceUri (blob endpoint used with managed identity).",
    );
  }
  // The blob SDK (and the XML parser it brings, about 14 MB resident) loads with the first dead letter: most
  // processes never write one.
  let opened: DeadLetterStore | undefined;
  let opening: Promise<DeadLetterStore> | undefined;
  const open = async (): Promise<DeadLetterStore> => {
    const { BlobServiceClient } = storageBlob();
    const service =
      connectionString !== undefined
        ? BlobServiceClient.fromConnectionString(connectionString, clientOptions)
        : new BlobServiceClient(String(serviceUri), credential, clientOptions);
    opened = createBlobDeadLetterStore(service.getContainerClient(containerName));
    return opened;
  };
  return {
    get location() {
      return opened?.location ?? `blob container ${containerName} of AzureWebJobsStorage`;
    },
    async put(item) {
      opening ??= open().catch((error: unknown) => {
        opening = undefined; // let the next record try again
        throw error;
      });
      return (await opening).put(item);
    },
  };
}
