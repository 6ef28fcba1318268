/**
 * How far V8 lets the heap grow between full collections. V8 picks a factor of up to 4 over the heap a full
 * collection left live, from how cheap collections have been; on the pipeline's live heap (23–27 MB: the Azure SDKs,
 * zod, the definitions and the pages in flight) that let a 1M-event window peak at 227–239 MB in some runs. A factor
 * of 2 kept it at 170–175 MB for no measurable CPU (docs/benchmarks.md). Process-wide; setting it again each run is harmless.
 */
import { setFlagsFromString } from "node:v8";
import { AppSettingError, type Env, readSetting } from "../config/app-settings.ts";

/** V8 takes its flags with dashes or underscores. */
const givenOnCommandLine = /^--heap[-_]growing[-_]percent(=|$)/;

/** The V8 flag HEAP_GROWING_PERCENT asks for; undefined for 0, or when node was started with its own. */
export function heapGrowthFlag(env: Env, execArgv: readonly string[] = process.execArgv): string | undefined {
  if (execArgv.some((arg) => givenOnCommandLine.test(arg))) return undefined;
  const text = readSetting(env, "HEAP_GROWING_PERCENT");
  const percent = Number(text);
  if (!Number.isInteger(percent) || percent < 0) {
    throw new AppSettingError(
      `App setting HEAP_GROWING_PERCENT: expected a whole number of percent (0 leaves it to V8), got ${JSON.stringify(text ?? null)}`,
    );
  }
  return percent === 0 ? undefined : `--heap-growing-percent=${percent}`;
}

export function limitHeapGrowth(env: Env): void {
  const flag = heapGrowthFlag(env);
  if (flag !== undefined) setFlagsFromString(flag);
}
