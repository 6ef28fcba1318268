/**
 * Legacy APIPolling `pollingConfig` → the canonical RestApiPoller shape. Key spellings (`authType`,
 * `pageSizeParaName`, `FlowName`…) and legacy enum values (`PageToken`, `AuthCode`…) are already handled by
 * canonicalize.ts; what is left is what the legacy file does not carry: the credentials (typed into the
 * portal's connect dialog) and the destination (passed in the connect call). Both are bound from settings
 * under these names, e.g. `CCP_<ID>_USERNAME`, `CCP_<ID>_PASSWORD`, `CCP_<ID>_APIKEY`.
 */
import { isRecord } from "./keys.ts";

/** Setting names the legacy shape binds credentials and destination from. */
export const legacySettingNames = {
  Basic: { userName: "username", password: "password" },
  APIKey: { apiKey: "apiKey" },
  OAuth2: { clientId: "clientId", clientSecret: "clientSecret" },
  dcrConfig: {
    dataCollectionEndpoint: "dataCollectionEndpoint",
    dataCollectionRuleImmutableId: "dataCollectionRuleImmutableId",
    streamName: "streamName",
  },
} as const;

/** Adds `{{placeholder}}` values for the fields a legacy definition leaves to the portal. */
export function completeLegacyDefinition(canonical: Record<string, unknown>): void {
  const auth = canonical.auth;
  if (isRecord(auth) && typeof auth.type === "string") {
    const names: Record<string, string> | undefined =
      legacySettingNames[auth.type as "Basic" | "APIKey" | "OAuth2"];
    for (const [field, setting] of Object.entries(names ?? {})) {
      if (auth[field] !== undefined) continue;
      auth[field] = `{{${setting}}}`;
    }
  }
  if (canonical.dcrConfig === undefined) {
    canonical.dcrConfig = Object.fromEntries(
      Object.entries(legacySettingNames.dcrConfig).map(([field, setting]) => [field, `{{${setting}}}`]),
    );
  }
}
