/**
 * A runner process for the nested crash test: `node --import tsx test/nested/runner-child.ts '<config JSON>'`.
 * Runs its connector once (runAll, as the timer function does), prints one `{ "reports": [...] }` line, exits.
 */
import { createFakeClock } from "../../src/engine/clock.ts";
import { runAll } from "../../src/runner/run-all.ts";
import { createNestedRuntime, type NestedRunnerConfig } from "./runtime.ts";

const [configJson] = process.argv.slice(2);
if (configJson === undefined) throw new Error("usage: runner-child.ts '<NestedRunnerConfig JSON>'");
const config = JSON.parse(configJson) as NestedRunnerConfig;
const runtime = await createNestedRuntime(config, createFakeClock(config.now));
const summary = await runAll(runtime.deps, runtime.connectors, runtime.runOptions);
process.stdout.write(`${JSON.stringify({ reports: summary.reports })}\n`);
// Pooled keep-alive connections would keep the process up.
process.exit(0);
