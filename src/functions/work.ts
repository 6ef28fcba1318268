/** POLL_MODE=fanout: one queued connector-window range per invocation, polled by the same runner as the timer. */
import { app, type InvocationContext } from "@azure/functions";
import { fanoutRuntime } from "../fanout/runtime.ts";
import { handleWorkMessage } from "../fanout/worker.ts";
import { appRoot, withInvocationLog, workerRuntime } from "./support/worker-runtime.ts";

export async function workQueue(message: unknown, context: InvocationContext): Promise<void> {
  await withInvocationLog(context, async () => {
    const fanout = await fanoutRuntime(await workerRuntime(), process.env, appRoot);
    const dequeueCount = Number(context.triggerMetadata?.dequeueCount ?? 1);
    await handleWorkMessage(fanout, message, { dequeueCount });
  });
}

app.storageQueue("work", {
  queueName: "%FANOUT_QUEUE_NAME%",
  connection: "AzureWebJobsStorage",
  handler: workQueue,
});
