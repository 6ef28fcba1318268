/**
 * The Azure SDK packages, loaded with `require` (their CommonJS builds), never with `import` (their ESM builds).
 * Measured in Node 22 from this ES-module app: @azure/core-rest-pipeline, data-tables and monitor-ingestion add
 * about 14 MB of resident memory as ES modules and 5 MB as CommonJS; and @azure/identity, which is CommonJS here
 * too, then shares their one copy of core-rest-pipeline instead of loading a second (another 10 MB or so). Types
 * still come from `import type`. Every package is loaded on first use: most runs never create a credential (local
 * runs use Azurite's key and the stand-in's token; identity alone is about 4 MB of live heap), write a dead
 * letter or query Log Analytics.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

export const azureIdentity = (): typeof import("@azure/identity") => require("@azure/identity");
export const coreRestPipeline = (): typeof import("@azure/core-rest-pipeline") =>
  require("@azure/core-rest-pipeline");
export const dataTables = (): typeof import("@azure/data-tables") => require("@azure/data-tables");
export const monitorIngestion = (): typeof import("@azure/monitor-ingestion") =>
  require("@azure/monitor-ingestion");
export const monitorQueryLogs = (): typeof import("@azure/monitor-query-logs") =>
  require("@azure/monitor-query-logs");
export const storageBlob = (): typeof import("@azure/storage-blob") => require("@azure/storage-blob");
export const storageQueue = (): typeof import("@azure/storage-queue") => require("@azure/storage-queue");
