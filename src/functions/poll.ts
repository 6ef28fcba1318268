/**
 * The timer: every POLL_SCHEDULE tick, poll every due connector within the run's time budget (POLL_MODE=inline),
 * or only plan and enqueue the due work for the `work` queue function (POLL_MODE=fanout).
 */
import { app, type InvocationContext, type Timer } from "@azure/functions";
import { formatRefusal } from "../definition/index.ts";
import { planFanout } from "../fanout/planner.ts";
import { fanoutRuntime, readPollMode } from "../fanout/runtime.ts";
import { runAll } from "../runner/run-all.ts";
import { appRoot, withInvocationLog, workerRuntime } from "./support/worker-runtime.ts";

export async function pollTimer(timer: Timer, context: InvocationContext): Promise<void> {
  await withInvocationLog(context, async () => {
    const runtime = await workerRuntime();
    const { deps, connectors, load, logger, runOptions } = runtime;
    // Every tick, so a definition that stopped loading stays visible in the traces, not only at worker start.
    for (const error of load.errors) logger.error("definition not loaded", { problem: error.message });
    for (const refusal of load.refused)
      logger.warn("definition refused", { problem: formatRefusal(refusal) });
    if (readPollMode(process.env) === "fanout") {
      const plan = await planFanout(await fanoutRuntime(runtime, process.env, appRoot), connectors);
      logger.info("fan-out planned", { isPastDue: timer.isPastDue, ...plan, enqueued: plan.enqueued.length });
      return;
    }
    const summary = await runAll(deps, connectors, runOptions);
    logger.info("run finished", {
      isPastDue: timer.isPastDue,
      durationMs: summary.finishedAt.getTime() - summary.startedAt.getTime(),
      outcomes: Object.fromEntries(summary.reports.map((report) => [report.connectorId, report.outcome])),
    });
  });
}

app.timer("poll", { schedule: "%POLL_SCHEDULE%", runOnStartup: false, handler: pollTimer });
