/**
 * Nested (multi-step) polling, reference §7.2: for each record of a step's pages, each next step's
 * placeholder query yields rows; each row is one child call (all its pages), at most `maxParallelism` of a
 * step in flight. A child's records go through its own next steps the same way (steps nest two deep).
 *
 * What is sent: a step without next steps sends its records as events. A step with next steps sends
 * - for each child that does not join, that child's output, and
 * - when any child joins, the step's own record with one column per joining child (`joinedDataStepName`)
 *   holding every record that child's calls for the record output, as a list (§9 A22). Placeholders of a
 *   step above stay available below it (BigID's third level reads `$dataSourceName$` from the first).
 *
 * The parent owns the window; everything comes out as one stream of pages, so the runner commits the window
 * only when the parent's pages and every child call they caused were accepted, and any failure fails it.
 * A Persistent* parent cursor rides on the page after the last child output of its parent page.
 */
import type { ConnectorProperties, StepCollectorConfig } from "../definition/schema.ts";
import { EngineError } from "../engine/errors.ts";
import type { Page } from "../engine/types.ts";
import { type CompiledKql, compileKql, toKqlString } from "./kql.ts";
import { mergeLimited } from "./merge.ts";
import { leafEvents } from "./records.ts";
import { resolveStep } from "./resolve-step.ts";

/** One page of a step's response, as records. */
export interface RecordPage {
  records: unknown[];
  bytes: number;
  cursor?: string;
}

export interface ChildCall {
  stepKey: string;
  step: StepCollectorConfig;
  /** Every placeholder of this call: its query's columns over those of the calls above it. */
  placeholders: Readonly<Record<string, string>>;
}

/** All pages of one child call, fetched with `signal`. */
export type FetchChild = (call: ChildCall, signal: AbortSignal) => AsyncIterable<RecordPage>;

interface Batch {
  events: unknown[];
  bytes: number;
}

interface Plan {
  stepKey: string;
  step: StepCollectorConfig;
  query: CompiledKql;
}

type StepHolder = Pick<ConnectorProperties, "stepInfo">;

export async function* nestedPages(
  properties: ConnectorProperties,
  parentPages: (signal: AbortSignal) => AsyncIterable<RecordPage>,
  fetchChild: FetchChild,
  outer?: AbortSignal,
): AsyncGenerator<Page> {
  const configs = properties.stepCollectorConfigs ?? {};
  const plans = new Map<StepHolder, Plan[]>();
  const plansOf = (holder: StepHolder): Plan[] => {
    let list = plans.get(holder);
    if (!list) {
      list = (holder.stepInfo?.nextSteps ?? []).map((next) => {
        const resolved = resolveStep(configs, next.stepId);
        if (!resolved)
          throw new EngineError("request", `step ${next.stepId} has no entry in stepCollectorConfigs`);
        return {
          stepKey: resolved.key,
          step: resolved.config,
          query: compileKql(next.stepPlaceholdersParsingKql),
        };
      });
      plans.set(holder, list);
    }
    return list;
  };

  // Child calls stop with the window: on its failure, when the runner stops reading, or on the outer signal.
  const stop = new AbortController();
  const signal = outer ? AbortSignal.any([outer, stop.signal]) : stop.signal;

  async function* callOutput(plan: Plan, call: ChildCall): AsyncGenerator<Batch> {
    for await (const page of fetchChild(call, signal)) {
      let bytes = page.bytes;
      for await (const batch of expand(plan.step, plan.stepKey, page.records, call.placeholders)) {
        yield { events: batch.events, bytes: batch.bytes + bytes };
        bytes = 0;
      }
      if (bytes > 0) yield { events: [], bytes };
    }
  }

  async function* expand(
    holder: StepHolder,
    stepKey: string,
    records: unknown[],
    inherited: Readonly<Record<string, string>>,
  ): AsyncGenerator<Batch> {
    const next = plansOf(holder);
    if (next.length === 0) {
      yield { events: leafEvents(stepKey, records), bytes: 0 };
      return;
    }
    const joining = next.some((plan) => plan.step.shouldJoinNestedData);
    const joined = joining ? leafEvents(stepKey, records).map((record) => ({ ...record })) : [];
    let joinedBytes = 0;
    for (const plan of next) {
      const calls = records.flatMap((record, index) =>
        plan.query.run(record).map((row) => ({
          index,
          call: {
            stepKey: plan.stepKey,
            step: plan.step,
            placeholders: {
              ...inherited,
              ...Object.fromEntries(Object.entries(row).map(([k, v]) => [k, toKqlString(v)])),
            },
          },
        })),
      );
      const limit = plan.step.request.maxParallelism;
      if (!plan.step.shouldJoinNestedData) {
        yield* mergeLimited(
          calls.map(
            ({ call }) =>
              () =>
                callOutput(plan, call),
          ),
          limit,
        );
        continue;
      }
      const column = plan.step.joinedDataStepName as string; // refused at load when absent
      const results: unknown[][] = calls.map(() => []);
      const collect = (position: number, call: ChildCall) =>
        async function* (): AsyncGenerator<number> {
          for await (const batch of callOutput(plan, call)) {
            (results[position] as unknown[]).push(...batch.events);
            joinedBytes += batch.bytes;
          }
          yield position;
        };
      for await (const _ of mergeLimited(
        calls.map(({ call }, position) => collect(position, call)),
        limit,
      )) {
        // Each call's records are already in `results`; order by call, not by arrival, when joining below.
      }
      for (const record of joined) record[column] = [];
      calls.forEach(({ index }, position) => {
        ((joined[index] as Record<string, unknown>)[column] as unknown[]).push(
          ...(results[position] as unknown[]),
        );
      });
    }
    if (joining) yield { events: joined, bytes: joinedBytes };
  }

  try {
    let number = 0;
    for await (const page of parentPages(signal)) {
      let bytes = page.bytes;
      for await (const batch of expand(properties, "the parent", page.records, {})) {
        number += 1;
        yield { number, events: batch.events, bytes: batch.bytes + bytes };
        bytes = 0;
      }
      if (page.cursor !== undefined || bytes > 0) {
        number += 1;
        yield { number, events: [], bytes, ...(page.cursor !== undefined ? { cursor: page.cursor } : {}) };
      }
    }
  } finally {
    stop.abort(new Error("the window's nested polling ended"));
  }
}
