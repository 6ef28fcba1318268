/**
 * CCP `Session` (reference §2.5).
 *
 * Login: POST `sessionLoginRequestUri` + `queryParameters`, with `headers`, body
 * `{userName.key: userName.value, password.key: password.value}` (JSON when `isPostPayloadJson`, else
 * form; keys default to `username`/`password`). The session id is read from the response header
 * `sessionIdName`, or else from a `Set-Cookie` of that name. Data requests carry `headers` plus the header
 * `sessionIdName: <id>` (§9 A6). Log in again after `sessionTimeoutInMinutes` (minus a margin) or on a 401.
 */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy, HttpResponse, OutgoingRequest } from "../engine/types.ts";
import { createCredentialCache } from "./credential-cache.ts";
import { AuthError } from "./errors.ts";
import { lowerCaseHeaders, withHeader } from "./request.ts";
import {
  invalidResponse,
  sendTokenRequest,
  type TokenRequestContext,
  urlWithQuery,
} from "./token-request.ts";

export type SessionAuthConfig = Extract<SupportedAuthConfig, { type: "Session" }>;

export const sessionStrategy: AuthStrategy<SessionAuthConfig> = {
  create(config, deps) {
    const { sessionLoginRequestUri, sessionIdName } = config;
    if (sessionLoginRequestUri === undefined || sessionIdName === undefined || sessionIdName === "") {
      throw new AuthError(
        "configuration",
        "auth.sessionLoginRequestUri and auth.sessionIdName: required for Session auth",
      );
    }
    const login = loginRequest(config, sessionLoginRequestUri);
    const context: TokenRequestContext = { what: "Session login", secrets: [config.password.value] };
    const lifetimeMs =
      config.sessionTimeoutInMinutes === undefined ? undefined : config.sessionTimeoutInMinutes * 60_000;

    const cache = createCredentialCache(async () => {
      const response = await sendTokenRequest(deps, login, context);
      const id = sessionId(response, sessionIdName);
      if (id === undefined) {
        throw invalidResponse(response, context, `no session id in the header or cookie '${sessionIdName}'`);
      }
      return lifetimeMs === undefined ? { value: id } : { value: id, lifetimeMs };
    }, deps.clock);

    const dataHeaders = lowerCaseHeaders(config.headers);
    return {
      templateVariables: {},
      async apply(request, signal) {
        const id = await cache.get(signal);
        return withHeader({ ...request, headers: { ...dataHeaders, ...request.headers } }, sessionIdName, id);
      },
      async onUnauthorized(signal) {
        await cache.refresh(signal);
        return true;
      },
    };
  },
};

function loginRequest(config: SessionAuthConfig, uri: string): OutgoingRequest {
  const fields = {
    [config.userName.key ?? "username"]: config.userName.value,
    [config.password.key ?? "password"]: config.password.value,
  };
  return {
    method: "POST",
    url: urlWithQuery(uri, config.queryParameters, "auth.sessionLoginRequestUri"),
    headers: lowerCaseHeaders(config.headers),
    body: config.isPostPayloadJson ? { type: "json", value: fields } : { type: "form", value: fields },
  };
}

function sessionId(response: HttpResponse, name: string): string | undefined {
  const header = response.headers[name.toLowerCase()]?.trim();
  if (header !== undefined && header !== "") return header;
  // Set-Cookie headers arrive joined with ", "; a cookie starts the string or follows ", ".
  const cookies = response.headers["set-cookie"] ?? "";
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const value = new RegExp(`(?:^|,\\s*)${escaped}=([^;,]*)`).exec(cookies)?.[1]?.trim();
  return value === undefined || value === "" ? undefined : value;
}
