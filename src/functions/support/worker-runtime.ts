/**
 * What the function files share within one worker process: the app root, one runtime built from app settings
 * (created on first use and kept, so every invocation reuses its clients, caches and lease owner), and log
 * lines routed to the invocation that caused them, so Application Insights ties each line to its invocation.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { existsSync } from "node:fs";
import path from "node:path";
import type { InvocationContext } from "@azure/functions";
import type { LogLevel } from "../../runner/logger.ts";
import { createRuntime, type Runtime, type RuntimeOptions } from "../../runner/runtime.ts";

export type RuntimeFactory = (options: RuntimeOptions) => Promise<Runtime>;

/**
 * The folder holding package.json: `connectors/` and relative settings resolve against it. Found by walking
 * up, because this file runs from `src/functions/support` under tsx and from `dist/src/functions/support`
 * when compiled.
 */
export const appRoot = findPackageRoot(import.meta.dirname);

const invocations = new AsyncLocalStorage<InvocationContext>();
let factory: RuntimeFactory = createRuntime;
let runtime: Promise<Runtime> | undefined;

/** Runs `work` with every runtime log line going to `context` (one JSON line per call). */
export function withInvocationLog<T>(context: InvocationContext, work: () => Promise<T>): Promise<T> {
  return invocations.run(context, work);
}

/** The worker's runtime. A failed start is not kept: the next invocation tries again (Azurite may be up by then). */
export function workerRuntime(): Promise<Runtime> {
  if (runtime === undefined) {
    const starting = factory({ env: process.env, rootDir: appRoot, write: writeToInvocation });
    runtime = starting;
    starting.catch(() => {
      if (runtime === starting) runtime = undefined;
    });
  }
  return runtime;
}

/**
 * Tests swap how the runtime is built (a fake clock, an upstream on loopback) and drop the cached one;
 * `undefined` restores the real factory.
 */
export function setRuntimeFactoryForTests(replacement: RuntimeFactory | undefined): void {
  factory = replacement ?? createRuntime;
  runtime = undefined;
}

function writeToInvocation(level: LogLevel, line: string): void {
  const context = invocations.getStore();
  if (context === undefined) {
    (level === "info" ? console.log : console.error)(line);
  } else if (level === "info") {
    context.log(line);
  } else if (level === "warn") {
    context.warn(line);
  } else {
    context.error(line);
  }
}

function findPackageRoot(start: string): string {
  for (let dir = start; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir)
      throw new Error(`No package.json above ${start}: cannot find the app root`);
  }
}
