/**
 * The fan-out work queue: one message per connector-window range, sent with the real `@azure/storage-queue`
 * client. Built from the same settings as the host's own storage connection (`AzureWebJobsStorage` locally,
 * the identity-based `AzureWebJobsStorage__queueServiceUri` in Azure), so the queue trigger and the planner
 * always talk to the same queue.
 */
import type { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import { type Env, readSetting } from "../config/app-settings.ts";
import { storageQueue } from "../config/azure-sdk.ts";
import { createStateTableClient } from "../state/index.ts";

export interface WorkMessage {
  connectorId: string;
  rangeKey: string;
  mode: "serial" | "parallel";
  /** ISO times of the range. */
  start: string;
  end: string;
}

export interface WorkQueues {
  work: QueueClient;
  /** Where the host (and the local worker) moves a message that failed maxDequeueCount times. */
  poison: QueueClient;
}

export function createWorkQueues(env: Env): WorkQueues {
  const name = readSetting(env, "FANOUT_QUEUE_NAME") ?? "";
  // Queue names: 3–63 lower-case letters, digits and single hyphens; "-poison" must still fit.
  if (!/^[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9])){2,55}$/.test(name)) {
    throw new Error(
      `App setting FANOUT_QUEUE_NAME "${name}": expected 3–56 lower-case letters, digits and single hyphens (the host appends "-poison").`,
    );
  }
  const service = queueService(env);
  return { work: service.getQueueClient(name), poison: service.getQueueClient(`${name}-poison`) };
}

function queueService(env: Env): QueueServiceClient {
  const connectionString = readSetting(env, "AzureWebJobsStorage");
  const { QueueServiceClient } = storageQueue();
  if (connectionString !== undefined) return QueueServiceClient.fromConnectionString(connectionString);
  const uri = readSetting(env, "AzureWebJobsStorage__queueServiceUri");
  if (uri === undefined || !uri.startsWith("https://")) {
    throw new Error(
      `App setting AzureWebJobsStorage__queueServiceUri: expected the queue endpoint https://<account>.queue.core.windows.net for POLL_MODE=fanout, got ${JSON.stringify(uri ?? null)}.`,
    );
  }
  // The same managed identity as the watermark table.
  const { credential } = createStateTableClient(env);
  if (credential === undefined)
    throw new Error("No storage credential for the identity-based queue endpoint.");
  return new QueueServiceClient(uri, credential);
}

/** Base64 JSON: what the Functions queue trigger decodes by default (host.json `messageEncoding: base64`). */
export function encodeWorkMessage(message: WorkMessage): string {
  return Buffer.from(JSON.stringify(message), "utf8").toString("base64");
}

/**
 * The trigger hands over the decoded JSON as an object; the local worker passes the raw base64 text. Anything
 * else is refused with what was expected, and ends in the poison queue.
 */
export function parseWorkMessage(body: unknown): WorkMessage {
  let value = body;
  if (typeof value === "string") {
    const text = value.trim().startsWith("{") ? value : Buffer.from(value, "base64").toString("utf8");
    try {
      value = JSON.parse(text);
    } catch {
      throw new Error(
        `Work message: expected JSON (or base64 JSON), got ${JSON.stringify(text.slice(0, 80))}.`,
      );
    }
  }
  const candidate = (value ?? {}) as Record<string, unknown>;
  const problems = ["connectorId", "rangeKey", "start", "end"]
    .filter((field) => typeof candidate[field] !== "string" || candidate[field] === "")
    .map((field) => `$.${field} must be a non-empty string`);
  if (candidate.mode !== "serial" && candidate.mode !== "parallel")
    problems.push(`$.mode must be "serial" or "parallel"`);
  for (const field of ["start", "end"]) {
    if (typeof candidate[field] === "string" && Number.isNaN(Date.parse(candidate[field] as string))) {
      problems.push(`$.${field} must be an ISO time`);
    }
  }
  if (problems.length > 0) throw new Error(`Work message: ${problems.join("; ")}.`);
  return candidate as unknown as WorkMessage;
}
