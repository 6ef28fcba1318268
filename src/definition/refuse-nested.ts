/**
 * What makes a nested definition (reference §7) impossible to run, found on the raw properties like every
 * other refusal: a placeholder query outside the KQL subset (named by `compileKql`), a `stepId` with no
 * `stepCollectorConfigs` entry, a step that leads back to itself, a joining step without a column name,
 * or a child auth type that is not a REST polling auth.
 */
import { compileKql, KqlError } from "../nested/kql.ts";
import { resolveStep } from "../nested/resolve-step.ts";
import type { JsonPathSegment } from "./errors.ts";
import { findKey, isRecord } from "./keys.ts";
import { unsupportedAuthTypes } from "./schema.ts";

/** The shape of `RawRefusal` in refuse.ts, restated so the two files do not import each other. */
interface NestedRefusal {
  path: JsonPathSegment[];
  code: "nested-steps";
  reason: string;
}

export function findNestedRefusal(properties: Record<string, unknown>): NestedRefusal | undefined {
  const configsKey = findKey(properties, "stepCollectorConfigs");
  const configs = configsKey === undefined ? {} : properties[configsKey];
  const steps = isRecord(configs) ? configs : {};
  const refuse = (path: JsonPathSegment[], reason: string): NestedRefusal => ({
    path,
    code: "nested-steps",
    reason,
  });

  for (const [stepId, step] of Object.entries(steps)) {
    if (!isRecord(step)) continue;
    const at: JsonPathSegment[] = [configsKey as string, stepId];
    const authKey = findKey(step, "auth");
    const auth = authKey === undefined ? undefined : step[authKey];
    const typeKey = isRecord(auth) ? findKey(auth, "type", "authType") : undefined;
    const type = isRecord(auth) && typeKey !== undefined ? String(auth[typeKey]) : undefined;
    const unsupported = unsupportedAuthTypes.find((t) => t.toLowerCase() === type?.toLowerCase());
    if (unsupported !== undefined && authKey !== undefined && typeKey !== undefined) {
      return refuse(
        [...at, authKey, typeKey],
        `step ${stepId}: auth type ${unsupported} is not a REST polling auth`,
      );
    }
    const joinKey = findKey(step, "shouldJoinNestedData");
    if (
      joinKey !== undefined &&
      step[joinKey] === true &&
      findKey(step, "joinedDataStepName") === undefined
    ) {
      return refuse(
        [...at, joinKey],
        `step ${stepId} joins its data to the parent record but names no joinedDataStepName column`,
      );
    }
  }

  // Walk the step graph from the root: unknown ids, queries and cycles, each reported where it is written.
  const visit = (
    holder: Record<string, unknown>,
    at: JsonPathSegment[],
    chain: string[],
  ): NestedRefusal | undefined => {
    const infoKey = findKey(holder, "stepInfo");
    const info = infoKey === undefined ? undefined : holder[infoKey];
    if (infoKey === undefined || !isRecord(info)) return undefined;
    const nextKey = findKey(info, "nextSteps");
    const next = nextKey === undefined ? undefined : info[nextKey];
    if (nextKey === undefined || !Array.isArray(next)) return undefined;
    for (const [i, entry] of next.entries()) {
      if (!isRecord(entry)) continue;
      const here = [...at, infoKey, nextKey, i];
      const idKey = findKey(entry, "stepId");
      const stepId = idKey === undefined ? undefined : entry[idKey];
      if (typeof stepId !== "string") continue; // the schema reports it
      const resolved = resolveStep(steps, stepId);
      const stepKey = resolved?.key;
      const step = resolved?.config;
      if (stepKey === undefined || !isRecord(step)) {
        return refuse(
          [...here, idKey as string],
          `step ${stepId} has no entry in stepCollectorConfigs (${Object.keys(steps).join(", ") || "none"})`,
        );
      }
      if (chain.includes(stepKey)) {
        return refuse([...here, idKey as string], `steps ${[...chain, stepKey].join(" → ")} form a cycle`);
      }
      const kqlKey = findKey(entry, "stepPlaceholdersParsingKql");
      const kql = kqlKey === undefined ? undefined : entry[kqlKey];
      if (typeof kql === "string" && kqlKey !== undefined) {
        try {
          compileKql(kql);
        } catch (error) {
          if (!(error instanceof KqlError)) throw error;
          return refuse([...here, kqlKey], `step ${stepId}: stepPlaceholdersParsingKql: ${error.message}`);
        }
      }
      const below = visit(step, [configsKey as string, stepKey], [...chain, stepKey]);
      if (below) return below;
    }
    return undefined;
  };
  return visit(properties, [], []);
}
