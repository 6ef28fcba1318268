/** Shared by the fan-out tests: reading the work queue, and the ids that reached the stand-in. */
import type { DequeuedMessageItem, PeekedMessageItem, QueueClient } from "@azure/storage-queue";
import type { Env } from "../../src/config/app-settings.ts";
import { createWorkQueues, type WorkQueues } from "../../src/fanout/queue.ts";

export function queuesOf(env: Env): WorkQueues {
  return createWorkQueues(env);
}

/** Every message now in the queue; received and deleted, or only peeked with `keep`. */
export async function drainQueue(
  queue: QueueClient,
  options: { keep?: boolean } = {},
): Promise<(DequeuedMessageItem | PeekedMessageItem)[]> {
  if (options.keep) return (await queue.peekMessages({ numberOfMessages: 32 })).peekedMessageItems;
  const all: DequeuedMessageItem[] = [];
  for (;;) {
    const batch = (await queue.receiveMessages({ numberOfMessages: 32 })).receivedMessageItems;
    if (batch.length === 0) return all;
    for (const message of batch) await queue.deleteMessage(message.messageId, message.popReceipt);
    all.push(...batch);
  }
}

export const sourceIds = (rows: readonly Record<string, unknown>[]): number[] =>
  [...new Set(rows.map((row) => Number(row.id)))].sort((a, b) => a - b);
