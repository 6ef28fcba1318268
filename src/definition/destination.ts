/**
 * Where a poller's events go when the file does not say it all.
 *
 * A `dcrConfig` holding only `streamName` (Cisco Secure Endpoint, Dragos) leaves the endpoint and rule id to
 * the portal, which fills them when the user connects: here they are bound from settings, as for the legacy
 * shape (`CCP_<ID>_DATACOLLECTIONENDPOINT`, `CCP_<ID>_DATACOLLECTIONRULEIMMUTABLEID`), so a missing one is an
 * error naming its setting.
 *
 * A stream that is not `Custom-*` (`SENTINEL_GOOGLEWORKSPACEREPORTS`, `ILUMIO_INSIGHTS`) is Sentinel-owned:
 * Sentinel routes it through its own rule to a Microsoft table, which the Logs Ingestion API cannot reach. The
 * user maps it to a `Custom-*` stream of their own DCR with the setting `streamName`; without it the poller is
 * refused with that instruction (structure-only checks load it, as they do an unbound placeholder).
 */
import { isRecord } from "./keys.ts";
import { legacySettingNames } from "./legacy.ts";
import type { ConnectorSettings } from "./settings.ts";

/** The setting that maps a Sentinel-owned stream to the user's `Custom-*` stream. */
export const streamMappingSetting = legacySettingNames.dcrConfig.streamName;

/** Adds `{{placeholder}}` values for the destination fields a `dcrConfig` leaves out. */
export function completeDestination(canonical: Record<string, unknown>): void {
  const dcr = canonical.dcrConfig;
  if (!isRecord(dcr)) return;
  for (const field of ["dataCollectionEndpoint", "dataCollectionRuleImmutableId"] as const) {
    if (dcr[field] === undefined) dcr[field] = `{{${legacySettingNames.dcrConfig[field]}}}`;
  }
}

export type StreamMapping =
  | { kind: "custom" }
  | { kind: "mapped" | "unmapped"; stream: string; instruction: string };

/**
 * For a Sentinel-owned stream written in the file: replaces it with the `{{streamName}}` setting (the schema
 * then checks the user's value is `Custom-*`) and says whether the user gave one, and how to.
 */
export function mapOwnedStream(
  canonical: Record<string, unknown>,
  settings: ConnectorSettings,
): StreamMapping {
  const dcr = canonical.dcrConfig;
  const stream = isRecord(dcr) ? dcr.streamName : undefined;
  // Expressions and placeholders are bound later and checked by the schema.
  if (!isRecord(dcr) || typeof stream !== "string" || /^custom-/i.test(stream) || !isLiteral(stream)) {
    return { kind: "custom" };
  }
  const instruction =
    `stream ${stream} is Sentinel-owned (Sentinel routes it to a Microsoft table through its own rule, ` +
    "which the Logs Ingestion API cannot use); to run this poller, declare a Custom-* stream and table in " +
    `your DCR and set ${settings.where(streamMappingSetting, false)} to that stream`;
  dcr.streamName = `{{${streamMappingSetting}}}`;
  const mapped = settings.lookup(streamMappingSetting, false).found === true;
  return { kind: mapped ? "mapped" : "unmapped", stream, instruction };
}

function isLiteral(text: string): boolean {
  return !text.trim().startsWith("[") && !text.includes("{{");
}
