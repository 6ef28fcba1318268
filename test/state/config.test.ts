/** The table client is built from app settings alone; no Azure account or network is needed to check it. */
import { describe, expect, it } from "vitest";
import { azureIdentity } from "../../src/config/azure-sdk.ts";
import { TABLE_REQUEST_TIMEOUT_MS } from "../../src/state/config.ts";
import { createStateTableClient, StateConfigError } from "../../src/state/index.ts";

const { DefaultAzureCredential, ManagedIdentityCredential } = azureIdentity();

const fakeAccountKey = Buffer.from("test-account-key-not-real").toString("base64");

describe("state table configuration", () => {
  it("uses the Azurite development account for UseDevelopmentStorage=true, with the default table name", () => {
    const connection = createStateTableClient({ AzureWebJobsStorage: "UseDevelopmentStorage=true" });
    expect(connection).toMatchObject({
      auth: "connectionString",
      tableName: "CcpPollerWatermarks",
      endpoint: "http://127.0.0.1:10002/devstoreaccount1",
    });
    expect(connection.credential).toBeUndefined();
    expect(connection.tableClient.tableName).toBe("CcpPollerWatermarks");
  });

  it("accepts an account-key connection string for a real account", () => {
    const connection = createStateTableClient({
      AzureWebJobsStorage: `DefaultEndpointsProtocol=https;AccountName=ccppollertest;AccountKey=${fakeAccountKey};EndpointSuffix=core.windows.net`,
      STATE_TABLE_NAME: "Watermarks",
    });
    expect(connection.endpoint).toBe("https://ccppollertest.table.core.windows.net");
    expect(connection.tableClient.tableName).toBe("Watermarks");
  });

  it("uses the table endpoint with the user-assigned managed identity named by AzureWebJobsStorage__clientId", () => {
    const connection = createStateTableClient({
      AzureWebJobsStorage__tableServiceUri: "https://ccppollertest.table.core.windows.net",
      AzureWebJobsStorage__credential: "managedidentity",
      AzureWebJobsStorage__clientId: "00000000-0000-0000-0000-000000000001",
    });
    expect(connection.auth).toBe("managedIdentity");
    expect(connection.credential).toBeInstanceOf(ManagedIdentityCredential);
    expect(connection.tableClient.url).toBe("https://ccppollertest.table.core.windows.net");
  });

  it("defaults to managed identity when only the endpoint is set, and offers DefaultAzureCredential on request", () => {
    const endpoint = { AzureWebJobsStorage__tableServiceUri: "https://ccppollertest.table.core.windows.net" };
    expect(createStateTableClient(endpoint).credential).toBeInstanceOf(ManagedIdentityCredential);
    const developer = createStateTableClient({ ...endpoint, AzureWebJobsStorage__credential: "default" });
    expect(developer.auth).toBe("defaultAzureCredential");
    expect(developer.credential).toBeInstanceOf(DefaultAzureCredential);
  });

  it("prefers the connection string when both are set, as the Functions host does", () => {
    const connection = createStateTableClient({
      AzureWebJobsStorage: "UseDevelopmentStorage=true",
      AzureWebJobsStorage__tableServiceUri: "https://ccppollertest.table.core.windows.net",
    });
    expect(connection.auth).toBe("connectionString");
  });

  it.each([
    [{}, /No watermark storage configured: set AzureWebJobsStorage/],
    [{ AzureWebJobsStorage__tableServiceUri: "http://127.0.0.1:10002/devstoreaccount1" }, /must be https/],
    [{ AzureWebJobsStorage__tableServiceUri: "not a url" }, /is not a URL/],
    [
      {
        AzureWebJobsStorage__tableServiceUri: "https://ccppollertest.table.core.windows.net",
        AzureWebJobsStorage__credential: "connectionstring",
      },
      /AzureWebJobsStorage__credential "connectionstring" is not supported/,
    ],
    [
      { AzureWebJobsStorage: "UseDevelopmentStorage=true", STATE_TABLE_NAME: "ccp-poller" },
      /STATE_TABLE_NAME/,
    ],
  ])("refuses unusable settings with a message naming the setting (%j)", (env, message) => {
    expect(() => createStateTableClient(env)).toThrow(message);
    expect(() => createStateTableClient(env)).toThrow(StateConfigError);
  });

  it("gives every table call a timeout, so a connection the service never answers fails like an outage", async () => {
    for (const env of [
      { AzureWebJobsStorage: "UseDevelopmentStorage=true" },
      { AzureWebJobsStorage__tableServiceUri: "https://test-account.table.core.windows.net" },
    ]) {
      const { tableClient } = createStateTableClient(env, { retryOptions: { maxRetries: 0 } });
      let timeout: number | undefined;
      tableClient.pipeline.addPolicy({
        name: "captureTimeout",
        sendRequest: async (request) => {
          timeout = request.timeout;
          throw new Error("captured before sending");
        },
      });
      await expect(tableClient.getEntity("connector", "x")).rejects.toThrow("captured before sending");
      expect(timeout).toBe(TABLE_REQUEST_TIMEOUT_MS);
    }
  });

  it("never repeats a malformed connection string (it may hold the account key) in its error", () => {
    const broken = `AccountKey=${fakeAccountKey};NoAccountName=oops`;
    let message = "";
    try {
      createStateTableClient({ AzureWebJobsStorage: broken });
    } catch (error) {
      expect(error).toBeInstanceOf(StateConfigError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/AzureWebJobsStorage is not a usable storage connection string/);
    expect(message).not.toContain(fakeAccountKey);
  });
});
