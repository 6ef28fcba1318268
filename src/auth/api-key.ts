/**
 * CCP `APIKey` (reference §2.2).
 *
 * Header mode: `{apiKeyName}: {apiKeyIdentifier} {apiKey}`. Absent name → `Authorization`; absent identifier
 * → `token`; an empty-string name gives `Authorization: <key>` with no prefix (S1 literally, §9 A3); an
 * empty-string identifier gives no prefix.
 *
 * Body mode (`isApiKeyInPostPayload`): no header. The key is offered to `queryParametersTemplate` as
 * `{_APIKeyName}`/`{_APIKey}`. When the body does not already carry the key (no template used them), the
 * field `{apiKeyName}: {apiKey}` is added to a form (structured or text) or JSON-object body, or a form body is
 * created (§9 A4). A GET has no body, so there the key goes to the query string unless already present.
 */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy, OutgoingRequest, RequestBody } from "../engine/types.ts";
import { AuthError } from "./errors.ts";
import { prefixed, withHeader } from "./request.ts";

export type ApiKeyAuthConfig = Extract<SupportedAuthConfig, { type: "APIKey" }>;

const DEFAULT_NAME = "Authorization";
const DEFAULT_IDENTIFIER = "token";

export const apiKeyStrategy: AuthStrategy<ApiKeyAuthConfig> = {
  create(config) {
    const name =
      config.apiKeyName === undefined || config.apiKeyName === "" ? DEFAULT_NAME : config.apiKeyName;
    const templateVariables = { _APIKeyName: name, _APIKey: config.apiKey };

    if (config.isApiKeyInPostPayload) {
      return {
        templateVariables,
        apply: async (request) =>
          request.method === "GET"
            ? withKeyInQuery(request, name, config.apiKey)
            : { ...request, body: withKeyInBody(request.body, name, config.apiKey) },
      };
    }

    const identifier = config.apiKeyName === "" ? "" : (config.apiKeyIdentifier ?? DEFAULT_IDENTIFIER);
    const value = prefixed(identifier, config.apiKey);
    return {
      templateVariables,
      apply: async (request: OutgoingRequest) => withHeader(request, name, value),
    };
  },
};

function withKeyInBody(body: RequestBody | undefined, name: string, apiKey: string): RequestBody {
  if (body === undefined) return { type: "form", value: { [name]: apiKey } };
  if (bodyCarries(body, apiKey)) return body;
  if (body.type === "form") return { type: "form", value: { ...body.value, [name]: apiKey } };
  if (body.type === "text" && body.contentType.startsWith("application/x-www-form-urlencoded")) {
    const separator = body.text === "" ? "" : "&";
    return { ...body, text: `${body.text}${separator}${new URLSearchParams({ [name]: apiKey })}` };
  }
  if (body.type === "json" && isPlainObject(body.value)) {
    return { type: "json", value: { ...body.value, [name]: apiKey } };
  }
  throw new AuthError(
    "configuration",
    `auth.isApiKeyInPostPayload: the request body (${body.type}) has no place for the key; ` +
      "expected queryParametersTemplate to contain '{_APIKeyName}': '{_APIKey}', or a JSON-object or form body",
  );
}

/** A GET has no body: the engine moves the template into the query string, so the key belongs there too. */
function withKeyInQuery(request: OutgoingRequest, name: string, apiKey: string): OutgoingRequest {
  if ([...request.url.searchParams.values()].includes(apiKey)) return request;
  const url = new URL(request.url.href);
  url.searchParams.set(name, apiKey);
  return { ...request, url };
}

function bodyCarries(body: RequestBody, apiKey: string): boolean {
  if (body.type === "text") return body.text.includes(apiKey);
  if (body.type === "form") return Object.values(body.value).includes(apiKey);
  return JSON.stringify(body.value).includes(JSON.stringify(apiKey).slice(1, -1));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
