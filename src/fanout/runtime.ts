/**
 * What the planner and the queue worker need beyond the inline runtime: the range rows (in the watermark table),
 * the work queues, and the fan-out settings, including the host's own retry limit from host.json so the worker
 * knows which attempt is the last before the poison queue.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { type Env, readSetting } from "../config/app-settings.ts";
import type { Runtime } from "../runner/runtime.ts";
import { createStateTableClient } from "../state/index.ts";
import { createWorkQueues, type WorkQueues } from "./queue.ts";
import { createRangeStore, type RangeStore } from "./ranges.ts";

export interface FanoutSettings {
  rangeWindows: number;
  messageTtlSeconds: number;
  /** host.json `extensions.queues.maxDequeueCount`: the attempt after which the host poisons a message. */
  maxDequeueCount: number;
  /** host.json `extensions.queues.visibilityTimeout`: the wait before a failed message is tried again. */
  visibilityTimeoutSeconds: number;
}

export interface FanoutRuntime {
  runtime: Pick<Runtime, "deps" | "store" | "connectors" | "logger" | "runOptions">;
  ranges: RangeStore;
  queues: WorkQueues;
  settings: FanoutSettings;
}

export type PollMode = "inline" | "fanout";

export function readPollMode(env: Env): PollMode {
  const mode = readSetting(env, "POLL_MODE");
  if (mode === "inline" || mode === "fanout") return mode;
  throw new Error(
    `App setting POLL_MODE: expected "inline" or "fanout", got ${JSON.stringify(mode ?? null)}.`,
  );
}

export function readFanoutSettings(env: Env, rootDir: string): FanoutSettings {
  const host = readHostQueueSettings(path.join(rootDir, "host.json"));
  return {
    rangeWindows: positiveInteger(env, "FANOUT_RANGE_WINDOWS"),
    messageTtlSeconds: positiveInteger(env, "FANOUT_MESSAGE_TTL_SECONDS"),
    ...host,
  };
}

const cache = new WeakMap<object, Promise<FanoutRuntime>>();

/** One fan-out runtime per inline runtime (per worker process), created on first use; queues made if missing. */
export function fanoutRuntime(
  runtime: FanoutRuntime["runtime"],
  env: Env,
  rootDir: string,
): Promise<FanoutRuntime> {
  let found = cache.get(runtime);
  if (found === undefined) {
    found = createFanoutRuntime(runtime, env, rootDir);
    cache.set(runtime, found);
    found.catch(() => cache.delete(runtime));
  }
  return found;
}

export async function createFanoutRuntime(
  runtime: FanoutRuntime["runtime"],
  env: Env,
  rootDir: string,
): Promise<FanoutRuntime> {
  const settings = readFanoutSettings(env, rootDir);
  const queues = createWorkQueues(env);
  await Promise.all([queues.work.createIfNotExists(), queues.poison.createIfNotExists()]);
  const ranges = createRangeStore(createStateTableClient(env).tableClient, runtime.deps.clock);
  return { runtime, ranges, queues, settings };
}

export function readHostQueueSettings(
  hostJsonPath: string,
): Pick<FanoutSettings, "maxDequeueCount" | "visibilityTimeoutSeconds"> {
  const host = JSON.parse(readFileSync(hostJsonPath, "utf8")) as {
    extensions?: { queues?: { maxDequeueCount?: unknown; visibilityTimeout?: unknown } };
  };
  const queues = host.extensions?.queues ?? {};
  const maxDequeueCount = queues.maxDequeueCount ?? 5;
  if (!Number.isInteger(maxDequeueCount) || (maxDequeueCount as number) < 1) {
    throw new Error(
      `${hostJsonPath}: $.extensions.queues.maxDequeueCount must be a positive integer, got ${JSON.stringify(maxDequeueCount)}.`,
    );
  }
  const timeout = String(queues.visibilityTimeout ?? "00:00:00");
  const parts = /^(\d{2}):(\d{2}):(\d{2})$/.exec(timeout);
  if (parts === null) {
    throw new Error(
      `${hostJsonPath}: $.extensions.queues.visibilityTimeout must be hh:mm:ss, got ${JSON.stringify(timeout)}.`,
    );
  }
  const [, hours, minutes, seconds] = parts.map(Number) as [number, number, number, number];
  return {
    maxDequeueCount: maxDequeueCount as number,
    visibilityTimeoutSeconds: hours * 3600 + minutes * 60 + seconds,
  };
}

function positiveInteger(env: Env, name: "FANOUT_RANGE_WINDOWS" | "FANOUT_MESSAGE_TTL_SECONDS"): number {
  const text = readSetting(env, name);
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(
      `App setting ${name}: expected a positive whole number, got ${JSON.stringify(text ?? null)}.`,
    );
  }
  return value;
}
