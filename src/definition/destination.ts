/**
 * Where a poller's events go when the file does not say it all. A `dcrConfig` holding only `streamName`
 * (Cisco Secure Endpoint, Dragos) leaves the endpoint and rule id to the portal, which fills them when the
 * user connects: here they are bound from settings, as for the legacy shape (`CCP_<ID>_DATACOLLECTIONENDPOINT`,
 * `CCP_<ID>_DATACOLLECTIONRULEIMMUTABLEID`), so a missing one is an error naming its setting.
 */
import { isRecord } from "./keys.ts";
import { legacySettingNames } from "./legacy.ts";

/** Adds `{{placeholder}}` values for the destination fields a `dcrConfig` leaves out. */
export function completeDestination(canonical: Record<string, unknown>): void {
  const dcr = canonical.dcrConfig;
  if (!isRecord(dcr)) return;
  for (const field of ["dataCollectionEndpoint", "dataCollectionRuleImmutableId"] as const) {
    if (dcr[field] === undefined) dcr[field] = `{{${legacySettingNames.dcrConfig[field]}}}`;
  }
}
