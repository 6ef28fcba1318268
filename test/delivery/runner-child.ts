/**
 * A runner process for the crash and race tests: `node --import tsx test/delivery/runner-child.ts '<RunnerConfig
 * JSON>' [--wait-for-go]`. Builds the delivery runtime, runs every connector once (runAll, as the timer
 * function does), prints the JSON log lines and then one `{ "reports": [...] }` line, and exits. With
 * `--wait-for-go` it reports "ready" over IPC once built and starts only on the parent's "go", so two
 * processes can be started at the same moment.
 */
import { once } from "node:events";
import { createFakeClock } from "../../src/engine/clock.ts";
import { runAll } from "../../src/runner/run-all.ts";
import { createDeliveryRuntime, type RunnerConfig } from "./pipeline.ts";

const [configJson, ...flags] = process.argv.slice(2);
if (configJson === undefined) throw new Error("usage: runner-child.ts '<RunnerConfig JSON>' [--wait-for-go]");
const config = JSON.parse(configJson) as RunnerConfig;
const runtime = await createDeliveryRuntime(config, createFakeClock(config.now));
if (flags.includes("--wait-for-go")) {
  process.send?.("ready");
  await once(process, "message");
}
const summary = await runAll(runtime.deps, runtime.connectors, runtime.runOptions);
process.stdout.write(`${JSON.stringify({ reports: summary.reports })}\n`);
// Pooled keep-alive connections and the IPC channel would keep the process up.
process.exit(0);
