/**
 * The single source of truth for a connector definition.
 *
 * The schema describes the canonical RestApiPoller `properties` object (camelCase keys, as in the ARM
 * schema). The loader canonicalizes real files (key casing, legacy `pollingConfig`, strings for numbers)
 * into this shape before validating, so every error is reported against this schema with the original
 * file and JSON path. The parsed output type is the internal model the engine consumes.
 */
import { z } from "zod";

const stringMap = z.record(z.string(), z.string());

/** Header-name/value pair used by JwtToken and Session logins: `{ key: "username", value: "…" }`. */
const keyValue = z.object({ key: z.string().optional(), value: z.string() });

// ---------------------------------------------------------------- auth

export const basicAuth = z.object({
  type: z.literal("Basic"),
  userName: z.string().describe("Sent as the user part of `Authorization: Basic …`."),
  password: z.string().describe("Secret. Sent as the password part of `Authorization: Basic …`."),
});

export const apiKeyAuth = z.object({
  type: z.literal("APIKey"),
  apiKey: z.string().describe("Secret."),
  apiKeyName: z
    .string()
    .optional()
    .describe(
      "Header carrying the key. Absent: `Authorization`. Empty string: `Authorization` with no identifier prefix (CCP behaviour).",
    ),
  apiKeyIdentifier: z
    .string()
    .optional()
    .describe("Prefix written before the key and a space. Absent: `token`."),
  isApiKeyInPostPayload: z
    .boolean()
    .default(false)
    .describe("Put the key in the POST body (via `{_APIKeyName}`/`{_APIKey}` in queryParametersTemplate)."),
});

export const oauth2Auth = z.object({
  type: z.literal("OAuth2"),
  clientId: z.string(),
  clientSecret: z.string().describe("Secret."),
  grantType: z.enum(["client_credentials", "authorization_code", "password", "refresh_token"]),
  tokenEndpoint: z.string(),
  tokenEndpointHeaders: stringMap.optional(),
  tokenEndpointQueryParameters: stringMap.optional(),
  authorizationEndpoint: z.string().optional(),
  authorizationEndpointHeaders: stringMap.optional(),
  authorizationEndpointQueryParameters: stringMap.optional(),
  authorizationCode: z.string().optional().describe("Secret. Exchanged once for a refresh token."),
  refreshToken: z
    .string()
    .optional()
    .describe("Secret. Used instead of authorizationCode when already known."),
  redirectUri: z.string().optional(),
  scope: z.string().optional(),
  userName: z.string().optional().describe("Resource-owner password grant only."),
  password: z.string().optional().describe("Secret. Resource-owner password grant only."),
  isCredentialsInHeaders: z.boolean().default(false),
  isJwtBearerFlow: z.boolean().optional(),
  accessTokenPrepend: z.string().default("Bearer"),
});

export const jwtTokenAuth = z.object({
  type: z.literal("JwtToken"),
  tokenEndpoint: z.string(),
  userName: keyValue.optional(),
  password: keyValue.optional().describe("Secret value."),
  userToken: z.string().optional().describe("Secret. Alternative to userName/password."),
  userTokenPrepend: z.string().optional(),
  noAccessTokenPrepend: z.boolean().default(false),
  tokenEndpointHttpMethod: z.enum(["GET", "POST"]).default("POST"),
  isCredentialsInHeaders: z.boolean().default(false),
  isJsonRequest: z.boolean().default(false),
  jwtTokenJsonPath: z.string().optional(),
  jwtTokenInResponseHeader: z.boolean().default(false),
  jwtTokenHeaderName: z.string().default("Authorization"),
  jwtTokenIdentifier: z.string().optional(),
  apiKeyName: z
    .string()
    .optional()
    .describe("Header that carries the token on data requests (default Authorization)."),
  queryParameters: stringMap.optional(),
  headers: stringMap.optional(),
  requestTimeoutInSeconds: z.number().int().min(1).max(180).default(100),
});

export const sessionAuth = z.object({
  type: z.literal("Session"),
  userName: keyValue,
  password: keyValue.describe("Secret value."),
  sessionLoginRequestUri: z.string().optional(),
  sessionIdName: z.string().optional(),
  sessionTimeoutInMinutes: z.number().int().min(1).optional(),
  headers: stringMap.optional(),
  queryParameters: z.record(z.string(), z.unknown()).optional(),
  isPostPayloadJson: z.boolean().default(false),
});

export const noneAuth = z.object({ type: z.literal("None") });

export const ciscoDuoAuth = z.object({
  type: z.literal("CiscoDuo"),
  apiKey: z
    .string()
    .describe("Secret. The Duo integration key (ikey): the user part of the signed Basic header."),
  clientSecret: z.string().describe("Secret. The Duo secret key (skey) that signs each request (HMAC-SHA1)."),
});

/** Schema-valid auth types that exist for other CCF kinds; the loader refuses them with a reason. */
export const unsupportedAuthTypes = ["AWS", "GCP", "GitHub", "ServiceBus", "Oracle"] as const;
const unsupportedAuth = z.looseObject({ type: z.enum(unsupportedAuthTypes) });

export const authConfig = z.discriminatedUnion("type", [
  basicAuth,
  apiKeyAuth,
  oauth2Auth,
  jwtTokenAuth,
  sessionAuth,
  noneAuth,
  ciscoDuoAuth,
  unsupportedAuth,
]);

/** Secret-bearing auth fields: their bound values are redacted from every log line and error. */
export const secretAuthFields = [
  "password",
  "apiKey",
  "clientSecret",
  "authorizationCode",
  "refreshToken",
  "userToken",
] as const;

// ---------------------------------------------------------------- request

const rateLimitHeader = z.object({
  name: z.string(),
  format: z.enum(["Integer", "UnixTimeSeconds"]).default("Integer"),
});

export const rateLimitConfig = z.object({
  evaluation: z.object({ checkMode: z.enum(["OnlyWhen429"]).default("OnlyWhen429") }).optional(),
  extraction: z
    .object({
      source: z
        .enum(["CustomHeaders", "DefaultHeaders"])
        .default("CustomHeaders")
        .describe(
          "`DefaultHeaders` (seen in Okta's poller, undocumented): the API's standard rate-limit headers.",
        ),
      headers: z
        .object({
          limit: rateLimitHeader.optional(),
          remaining: rateLimitHeader.optional(),
          reset: rateLimitHeader.optional(),
        })
        .optional(),
    })
    .optional(),
  retryStrategy: z.object({ useResetOrRetryAfterHeaders: z.boolean().default(true) }).optional(),
});

export const httpMethod = z.enum(["GET", "POST", "PUT", "DELETE"]);

export const requestConfig = z.object({
  apiEndpoint: z.string().min(1),
  httpMethod: httpMethod.default("GET"),
  queryWindowInMin: z.number().int().min(1).default(5),
  queryWindowDelayInMin: z.number().int().min(0).default(0),
  queryTimeFormat: z
    .string()
    .min(1)
    .default("yyyy-MM-ddTHH:mm:ss.fffZ")
    .describe("`UnixTimestamp`, `UnixTimestampInMills`, or a .NET custom format rendered in UTC."),
  startTimeAttributeName: z.string().optional(),
  endTimeAttributeName: z.string().optional(),
  queryTimeIntervalAttributeName: z.string().optional(),
  queryTimeIntervalPrepend: z.string().optional(),
  queryTimeIntervalDelimiter: z.string().optional(),
  queryParameters: z.record(z.string(), z.unknown()).optional(),
  queryParametersTemplate: z.string().optional(),
  headers: stringMap.optional(),
  isPostPayloadJson: z.boolean().default(false),
  rateLimitQPS: z.number().positive().optional(),
  rateLimitConfig: rateLimitConfig.optional(),
  retryCount: z.number().int().min(0).max(10).default(3),
  timeoutInSeconds: z.number().int().min(1).max(180).default(20),
  maxParallelism: z.number().int().min(1).optional(),
  logResponseContent: z.boolean().default(false),
});

// ---------------------------------------------------------------- paging

const pagingCommon = {
  pageSize: z.number().int().min(1).optional(),
  pageSizeParameterName: z.string().optional(),
  pagingInfoPlacement: z.enum(["QueryString", "RequestBody"]).default("QueryString"),
  pagingQueryParamOnly: z.boolean().default(false),
};

const tokenFields = {
  nextPageTokenJsonPath: z.string().optional(),
  nextPageTokenResponseHeader: z
    .string()
    .optional()
    .describe("Response header holding the token, read when nextPageTokenJsonPath is absent."),
  tokenTransform: z
    .object({
      transformType: z.literal("SplitOnDelimiter"),
      sliceDelimiter: z.string().min(1),
      stringIndex: z.number().int().min(0),
    })
    .optional()
    .describe(
      "SAP BTP: the token is part `stringIndex` (0-based) of the raw token split on every `sliceDelimiter` (`Paging: handle=abc` → `abc`).",
    ),
  nextPageParaName: z.string().optional(),
  nextPageRequestHeader: z.string().optional(),
  hasNextFlagJsonPath: z.string().optional(),
};

const linkHeaderFields = {
  linkHeaderTokenJsonPath: z.string().optional(),
  linkHeaderRelLinkName: z.string().default("next"),
};

export const pagingConfig = z.discriminatedUnion("pagingType", [
  z.object({ pagingType: z.literal("None"), ...pagingCommon }),
  z.object({ pagingType: z.literal("LinkHeader"), ...pagingCommon, ...linkHeaderFields }),
  z.object({ pagingType: z.literal("PersistentLinkHeader"), ...pagingCommon, ...linkHeaderFields }),
  z.object({ pagingType: z.literal("NextPageToken"), ...pagingCommon, ...tokenFields }),
  z.object({ pagingType: z.literal("PersistentToken"), ...pagingCommon, ...tokenFields }),
  z.object({
    pagingType: z.literal("NextPageUrl"),
    ...pagingCommon,
    ...tokenFields,
    nextPageUrl: z.string().optional(),
    nextPageUrlQueryParameters: stringMap.optional(),
    nextPageUrlQueryParametersTemplate: z.string().optional(),
  }),
  z.object({
    pagingType: z.literal("Offset"),
    ...pagingCommon,
    offsetParaName: z.string().min(1),
    offsetEndParaName: z
      .string()
      .min(1)
      .optional()
      .describe(
        "Range paging (Cortex XDR): each page also writes offset + pageSize here; with JSONPaths ($.a.b) both go in a JSON body.",
      ),
  }),
  z.object({
    pagingType: z.literal("CountBasedPaging"),
    ...pagingCommon,
    pageNumberParaName: z.string().min(1),
    zeroBasedIndexing: z.boolean().default(false),
    hasNextFlagJsonPath: z.string().optional(),
    totalResultsJsonPath: z.string().optional(),
    pageNumberJsonPath: z.string().optional(),
    pageCountJsonPath: z.string().optional(),
  }),
]);

export const pagingTypes = [
  "None",
  "LinkHeader",
  "PersistentLinkHeader",
  "NextPageToken",
  "PersistentToken",
  "NextPageUrl",
  "Offset",
  "CountBasedPaging",
] as const;

// ---------------------------------------------------------------- response

export const responseConfig = z.object({
  eventsJsonPaths: z.array(z.string()).min(1),
  successStatusJsonPath: z.string().optional(),
  successStatusValue: z.string().optional(),
  isGzipCompressed: z.boolean().default(false),
  compressionAlgo: z.enum(["gzip", "multi-gzip", "deflate"]).optional(),
  format: z.enum(["json", "csv", "xml", "jsonlines"]).default("json"),
  csvDelimiter: z.string().min(1).default(","),
  hasCsvHeader: z.boolean().default(true),
  hasCsvBoundary: z.boolean().optional(),
  csvEscape: z.string().length(1).default('"'),
  convertChildPropertiesToArray: z.boolean().default(false),
});

// ---------------------------------------------------------------- destination and nesting

export const dcrConfig = z.object({
  dataCollectionEndpoint: z.string().min(1),
  dataCollectionRuleImmutableId: z.string().min(1),
  streamName: z.string().regex(/^Custom-/, "a stream name starting with Custom-"),
});

export const stepInfo = z.object({
  stepType: z.literal("Nested"),
  nextSteps: z
    .array(
      z.object({
        stepId: z.string().min(1).describe("A key of the root's stepCollectorConfigs."),
        stepPlaceholdersParsingKql: z
          .string()
          .default("source")
          .describe(
            "KQL over `source` (one `data` column: the record as JSON). One child call per output row; each column fills `$column$`.",
          ),
      }),
    )
    .min(1)
    .max(3),
});

/** A child step (reference §7): runs once per placeholder row of each record of the step above it. */
export const stepCollectorConfig = z.object({
  request: requestConfig.extend({
    queryTimeFormat: z
      .string()
      .min(1)
      .optional()
      .describe("Absent: the parent's, for `{_QueryWindowStartTime}` of the parent's window."),
    headers: stringMap.optional().describe("Absent: the parent's headers."),
    maxParallelism: z
      .number()
      .int()
      .min(1)
      .default(15)
      .describe("Child calls of this step in flight at once."),
  }),
  response: responseConfig,
  auth: authConfig.optional().describe("Absent: the parent's authenticator (and its cached token)."),
  paging: pagingConfig.optional().describe("Absent: no paging. Persistent* types page within the call only."),
  shouldJoinNestedData: z
    .boolean()
    .default(false)
    .describe("true: the parent record is sent with this step's events in `joinedDataStepName`."),
  joinedDataStepName: z.string().min(1).optional(),
  stepInfo: stepInfo.optional().describe("Steps below this one, from the root's stepCollectorConfigs."),
});

// ---------------------------------------------------------------- the connector

export const connectorProperties = z.object({
  connectorDefinitionName: z.string().optional(),
  dataType: z.string().optional(),
  isActive: z.boolean().default(true),
  addOnAttributes: stringMap.default({}),
  auth: authConfig,
  request: requestConfig,
  paging: pagingConfig.default({
    pagingType: "None",
    pagingInfoPlacement: "QueryString",
    pagingQueryParamOnly: false,
  }),
  response: responseConfig,
  dcrConfig: dcrConfig.optional(),
  stepInfo: stepInfo.optional(),
  stepCollectorConfigs: z.record(z.string(), stepCollectorConfig).optional(),
  shouldJoinNestedData: z
    .boolean()
    .optional()
    .describe("Ignored on the root (reference §9 A21): set it on a child."),
  joinedDataStepName: z.string().optional().describe("Ignored on the root (reference §9 A21)."),
});

export type AuthConfig = z.output<typeof authConfig>;
export type SupportedAuthConfig = Exclude<AuthConfig, { type: (typeof unsupportedAuthTypes)[number] }>;
export type AuthType = SupportedAuthConfig["type"];
export type RequestConfig = z.output<typeof requestConfig>;
export type PagingConfig = z.output<typeof pagingConfig>;
export type PagingType = PagingConfig["pagingType"];
export type ResponseConfig = z.output<typeof responseConfig>;
export type DcrConfig = z.output<typeof dcrConfig>;
export type StepCollectorConfig = z.output<typeof stepCollectorConfig>;
export type ConnectorProperties = z.output<typeof connectorProperties>;

/** The internal model: what the engine, state and sink consume. The legacy shape never gets this far. */
export interface Connector {
  /** The connection name (ARM resource `name`, or derived from the file when absent). Unique per install. */
  id: string;
  /** Shape the definition came from: the engine treats both the same. */
  sourceKind: "RestApiPoller" | "APIPolling";
  /** Where it came from, for the on-call: file path and JSON path of the resource inside it. */
  source: { file: string; jsonPath: string };
  /** sha256 (hex, first 16) of the canonical definition before binding, so a changed file is visible. */
  definitionHash: string;
  properties: ConnectorProperties & { auth: SupportedAuthConfig };
  /** Bound secret values, for redaction. Never serialized. */
  secrets: readonly string[];
}
