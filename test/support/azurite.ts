/**
 * Azurite for test files: one instance per file (started in beforeAll, stopped in afterAll even when tests
 * fail), and a table of its own per test so tests never see each other's rows.
 */
import { randomBytes } from "node:crypto";
import type { TableClient, TableServiceClientOptions } from "@azure/data-tables";
import { afterAll, beforeAll } from "vitest";
import { type AzuriteInstance, type AzuriteOptions, startAzurite } from "../../src/local/azurite.ts";
import { createStateTableClient } from "../../src/state/config.ts";

/** Call at the top level of a test file; the returned getter works inside tests and hooks. */
export function useAzurite(options?: AzuriteOptions): () => AzuriteInstance {
  let instance: AzuriteInstance | undefined;
  beforeAll(async () => {
    instance = await startAzurite(options);
  });
  afterAll(async () => {
    await instance?.stop();
  });
  return () => {
    if (instance === undefined)
      throw new Error("Azurite is not started yet: use it inside a test or a hook.");
    return instance;
  };
}

/** A client on a new, empty table with a random name, built the way the app builds it (from settings). */
export async function freshTableClient(
  azurite: AzuriteInstance,
  prefix = "Test",
  clientOptions: TableServiceClientOptions = {},
): Promise<TableClient> {
  const { tableClient } = createStateTableClient(
    {
      AzureWebJobsStorage: azurite.connectionString,
      STATE_TABLE_NAME: `${prefix}${randomBytes(4).toString("hex")}`,
    },
    clientOptions,
  );
  await tableClient.createTable();
  return tableClient;
}
