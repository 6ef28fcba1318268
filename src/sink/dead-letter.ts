/**
 * Where a record goes that no Logs Ingestion call can ever carry (larger than one call, or rejected with 413
 * on its own). One small interface, two adapters: a blob container in Azure (Azurite locally) and a folder
 * for the embedded run. Records are keyed by connector and dedup key, so a retried window overwrites the
 * same entry instead of piling up copies.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { ContainerClient } from "@azure/storage-blob";
import type { Row } from "./rows.ts";

export interface DeadLetterItem {
  connectorId: string;
  eventId: string;
  dataCollectionRuleImmutableId: string;
  streamName: string;
  /** Why it could not be sent, in plain words (size and limit, or the service's 413 message). */
  reason: string;
  /** UTF-8 bytes of the row's JSON. */
  bytes: number;
  row: Row;
}

export interface DeadLetterStore {
  /** Where the on-call looks (a container URL or a folder), for the watermark row and logs. */
  readonly location: string;
  /** Stores one record durably; resolves with the location of that record. */
  put(item: DeadLetterItem): Promise<string>;
}

function entryName(item: DeadLetterItem): string {
  return `${encodeURIComponent(item.connectorId)}/${item.eventId}.json`;
}

function entryContent(item: DeadLetterItem): string {
  return `${JSON.stringify({ ...item, storedAt: new Date().toISOString() })}\n`;
}

export function createFolderDeadLetterStore(folder: string): DeadLetterStore {
  const root = path.resolve(folder);
  return {
    location: root,
    async put(item) {
      const file = path.join(root, ...entryName(item).split("/"));
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, entryContent(item), { flush: true });
      return file;
    },
  };
}

export function createBlobDeadLetterStore(container: ContainerClient): DeadLetterStore {
  let containerReady: Promise<unknown> | undefined;
  return {
    location: container.url,
    async put(item) {
      containerReady ??= container.createIfNotExists().catch((error: unknown) => {
        containerReady = undefined; // let the next record try again
        throw error;
      });
      await containerReady;
      const blob = container.getBlockBlobClient(entryName(item));
      const content = Buffer.from(entryContent(item));
      await blob.uploadData(content, { blobHTTPHeaders: { blobContentType: "application/json" } });
      return blob.url;
    },
  };
}
