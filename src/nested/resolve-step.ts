/**
 * Which `stepCollectorConfigs` entry a `nextSteps[].stepId` names. Exact key first, then the key in another
 * case (ARM keys are case-insensitive). Failing both, the only entry when there is exactly one: two real
 * definitions name their sole step otherwise (CrowdStrike's `case_details` for `Cases_details`, CyberArk
 * Audit's `CreateQuery` for `fetchLogFileData`) and ship as working connectors; validate warns about it.
 */
export interface ResolvedStep<T> {
  key: string;
  config: T;
  /** `sole`: the id names no entry and the only entry was taken. */
  match: "exact" | "case" | "sole";
}

export function resolveStep<T>(
  configs: Readonly<Record<string, T>>,
  stepId: string,
): ResolvedStep<T> | undefined {
  const keys = Object.keys(configs);
  const key = keys.includes(stepId) ? stepId : keys.find((k) => k.toLowerCase() === stepId.toLowerCase());
  if (key !== undefined) return { key, config: configs[key] as T, match: key === stepId ? "exact" : "case" };
  const [only] = keys;
  return keys.length === 1 && only !== undefined
    ? { key: only, config: configs[only] as T, match: "sole" }
    : undefined;
}
