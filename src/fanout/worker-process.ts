/**
 * A local stand-in for the Functions queue trigger, as a process of its own: receive one message, run the same
 * handler the `work` function runs, delete the message; after host.json's maxDequeueCount failed attempts move
 * it to the poison queue, as the host does. Used by the fan-out tests (several at once, one SIGKILLed) and the
 * benchmark; in Azure the host does this loop.
 *
 *   tsx src/fanout/worker-process.ts [--clock-offset-ms=<ms>] [--visibility-timeout=<seconds>]
 *
 * Settings come from the environment like the function app's. `--clock-offset-ms` shifts the worker's clock by
 * that much from the system clock, so a test's planner (on a fake clock) and all its workers agree on time;
 * `--visibility-timeout` overrides host.json's wait before a failed or abandoned message is delivered again.
 */
import { setTimeout as delay } from "node:timers/promises";
import { parseArgs } from "node:util";
import { systemClock } from "../engine/clock.ts";
import type { Clock } from "../engine/types.ts";
import { appRoot } from "../functions/support/worker-runtime.ts";
import { createRuntime } from "../runner/runtime.ts";
import { createFanoutRuntime } from "./runtime.ts";
import { handleWorkMessage } from "./worker.ts";

const { values } = parseArgs({
  options: { "clock-offset-ms": { type: "string" }, "visibility-timeout": { type: "string" } },
});
const offsetMs = Number(values["clock-offset-ms"] ?? 0);
if (!Number.isFinite(offsetMs)) {
  throw new Error(
    `--clock-offset-ms: expected a number of milliseconds, got "${values["clock-offset-ms"]}".`,
  );
}
const clock: Clock = { now: () => new Date(Date.now() + offsetMs), sleep: systemClock.sleep };
const runtime = await createRuntime({ env: process.env, rootDir: appRoot, clock });
const fanout = await createFanoutRuntime(runtime, process.env, appRoot);
const { work, poison } = fanout.queues;
const { maxDequeueCount } = fanout.settings;
const visibilityTimeout = Number(values["visibility-timeout"] ?? fanout.settings.visibilityTimeoutSeconds);
if (!Number.isInteger(visibilityTimeout) || visibilityTimeout < 1) {
  throw new Error(
    `--visibility-timeout: expected a whole number of seconds ≥ 1, got "${values["visibility-timeout"]}".`,
  );
}

let stopping = false;
process.once("SIGTERM", () => {
  stopping = true;
});
runtime.logger.info("fan-out worker started", { owner: runtime.deps.owner, queue: work.name });

while (!stopping) {
  try {
    await takeOneMessage();
  } catch (error) {
    // A queue call that failed (storage busy, a pop receipt that expired while the message ran long) must not end
    // the worker: the message becomes visible again and is retried, as the host would.
    runtime.logger.warn("queue call failed; retrying", { lastError: describe(error) });
    await delay(500);
  }
}
process.exit(0);

async function takeOneMessage(): Promise<void> {
  const [received] = (
    await work.receiveMessages({
      numberOfMessages: 1,
      visibilityTimeout,
    })
  ).receivedMessageItems;
  if (received === undefined) {
    await delay(50);
    return;
  }
  try {
    await handleWorkMessage(fanout, received.messageText, { dequeueCount: received.dequeueCount });
  } catch (error) {
    runtime.logger.warn("work message failed", {
      dequeueCount: received.dequeueCount,
      lastError: describe(error),
    });
    if (received.dequeueCount < maxDequeueCount) return;
    await poison.sendMessage(received.messageText);
  }
  await work.deleteMessage(received.messageId, received.popReceipt);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
