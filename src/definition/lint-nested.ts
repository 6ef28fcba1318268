/** Known traps of nested definitions (reference §7) that still run. */
import { resolveStep } from "../nested/resolve-step.ts";
import type { JsonPathSegment } from "./errors.ts";
import type { ConnectorProperties, StepCollectorConfig } from "./schema.ts";

/** `LintFinding` of lint.ts, restated so the two files do not import each other. */
interface NestedFinding {
  path: JsonPathSegment[];
  code: string;
  message: string;
}

export function lintNested(p: ConnectorProperties): NestedFinding[] {
  const findings: NestedFinding[] = [];
  const configs = p.stepCollectorConfigs ?? {};
  const holders: [JsonPathSegment[], { stepInfo?: StepCollectorConfig["stepInfo"] }][] = [
    [[], p],
    ...Object.entries(configs).map(([k, c]): [JsonPathSegment[], StepCollectorConfig] => [
      ["stepCollectorConfigs", k],
      c,
    ]),
  ];
  for (const [at, holder] of holders) {
    for (const [i, next] of (holder.stepInfo?.nextSteps ?? []).entries()) {
      const resolved = resolveStep(configs, next.stepId);
      if (resolved?.match === "sole") {
        findings.push({
          path: [...at, "stepInfo", "nextSteps", i, "stepId"],
          code: "step-id-unmatched",
          message: `stepId ${next.stepId} names no stepCollectorConfigs entry; the only entry, ${resolved.key}, runs (as the file evidently intends)`,
        });
      }
    }
  }
  if (p.shouldJoinNestedData !== undefined || p.joinedDataStepName !== undefined) {
    findings.push({
      path: [p.shouldJoinNestedData !== undefined ? "shouldJoinNestedData" : "joinedDataStepName"],
      code: "root-join-ignored",
      message:
        "shouldJoinNestedData/joinedDataStepName on the root are ignored (reference §9 A21): a child step joins its data to the parent record",
    });
  }
  return findings;
}
