/**
 * CCP `OAuth2` (reference §2.3, wire format per RFC 6749 as §9 A7 suggests).
 *
 * Token request: POST `tokenEndpoint` + `tokenEndpointQueryParameters`, `tokenEndpointHeaders`, form body
 * with `grant_type`, the grant's fields and `scope` (when set). Client credentials go in the body, or in an
 * HTTP Basic header when `isCredentialsInHeaders`. Grants:
 * - `client_credentials`: nothing more.
 * - `password`: `username`, `password`.
 * - `authorization_code`: the code is exchanged once (`code`, `redirect_uri`); afterwards the refresh token
 *   from the response is used (`grant_type=refresh_token`), replaced whenever the server rotates it.
 * - `refresh_token`: starts from the configured `refreshToken`.
 * `client_credentials` and `password` simply run their grant again on renewal, ignoring any refresh token.
 * Data requests carry `Authorization: {accessTokenPrepend} {access_token}` (default `Bearer`). The token is
 * cached until `expires_in` minus a margin; a 401 triggers one refresh.
 */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy, HttpResponse, OutgoingRequest } from "../engine/types.ts";
import { type Credential, createCredentialCache } from "./credential-cache.ts";
import { AuthError } from "./errors.ts";
import { basicCredentials, lowerCaseHeaders, prefixed, withHeader } from "./request.ts";
import {
  invalidResponse,
  lifetimeFromExpiresIn,
  parseJsonResponse,
  sendTokenRequest,
  type TokenRequestContext,
  urlWithQuery,
} from "./token-request.ts";

export type OAuth2AuthConfig = Extract<SupportedAuthConfig, { type: "OAuth2" }>;

export const oauth2Strategy: AuthStrategy<OAuth2AuthConfig> = {
  create(config, deps) {
    const grant = initialGrant(config);
    const tokenUrl = urlWithQuery(
      config.tokenEndpoint,
      config.tokenEndpointQueryParameters,
      "auth.tokenEndpoint",
    );
    // Rotated refresh tokens are secrets too, so the list grows with them.
    const secrets = [
      config.clientSecret,
      config.authorizationCode,
      config.refreshToken,
      config.password,
    ].filter((secret): secret is string => secret !== undefined);
    const context: TokenRequestContext = { what: "OAuth2 token request", secrets };
    let refreshToken: string | undefined = config.refreshToken;
    let codeExchanged = false;

    const fetchToken = async (): Promise<Credential> => {
      if (refreshToken === undefined && codeExchanged) {
        throw new AuthError(
          "token-response",
          "auth.authorizationCode: the code was already exchanged and the token endpoint returned no refresh_token, so the token cannot be renewed; reconnect to obtain a new code",
          { endpoint: tokenUrl },
        );
      }
      const form =
        refreshToken === undefined ? grant : { grant_type: "refresh_token", refresh_token: refreshToken };
      const response = await sendTokenRequest(deps, tokenRequest(config, tokenUrl, form), context);
      codeExchanged ||= form.grant_type === "authorization_code";
      const token = readTokenResponse(response, context);
      // client_credentials and password can always re-run their grant; only code-based grants need the refresh token.
      if (
        token.refreshToken !== undefined &&
        (form.grant_type === "authorization_code" || form.grant_type === "refresh_token")
      ) {
        refreshToken = token.refreshToken;
        secrets.push(token.refreshToken);
      }
      return token.credential;
    };

    const cache = createCredentialCache(fetchToken, deps.clock);
    return {
      templateVariables: {},
      async apply(request, signal) {
        const token = await cache.get(signal);
        return withHeader(request, "authorization", prefixed(config.accessTokenPrepend, token));
      },
      async onUnauthorized(signal) {
        await cache.refresh(signal);
        return true;
      },
    };
  },
};

/** The form fields of the first token request, validated against what the grant needs. */
function initialGrant(config: OAuth2AuthConfig): Record<string, string> {
  if (config.isJwtBearerFlow === true) {
    throw new AuthError("configuration", "auth.isJwtBearerFlow: the JWT-bearer flow is not supported");
  }
  switch (config.grantType) {
    case "client_credentials":
      return { grant_type: "client_credentials" };
    case "password":
      if (config.userName === undefined || config.password === undefined) {
        throw new AuthError(
          "configuration",
          "auth.userName and auth.password: required for grantType 'password'",
        );
      }
      return { grant_type: "password", username: config.userName, password: config.password };
    case "authorization_code":
      if (config.authorizationCode === undefined && config.refreshToken === undefined) {
        throw new AuthError(
          "configuration",
          "auth.authorizationCode: required for grantType 'authorization_code' (or auth.refreshToken)",
        );
      }
      return {
        grant_type: "authorization_code",
        code: config.authorizationCode ?? "",
        ...(config.redirectUri === undefined ? {} : { redirect_uri: config.redirectUri }),
      };
    case "refresh_token":
      if (config.refreshToken === undefined) {
        throw new AuthError("configuration", "auth.refreshToken: required for grantType 'refresh_token'");
      }
      return { grant_type: "refresh_token", refresh_token: config.refreshToken };
  }
}

function tokenRequest(
  config: OAuth2AuthConfig,
  url: URL,
  grantFields: Record<string, string>,
): OutgoingRequest {
  const headers = lowerCaseHeaders(config.tokenEndpointHeaders);
  // Sent on every grant when configured: RFC 6749 allows it on refreshes, and Microsoft's endpoints expect it.
  const form: Record<string, string> = { ...grantFields, ...(config.scope ? { scope: config.scope } : {}) };
  if (config.isCredentialsInHeaders) {
    headers.authorization = basicCredentials(config.clientId, config.clientSecret);
  } else {
    form.client_id = config.clientId;
    form.client_secret = config.clientSecret;
  }
  headers.accept ??= "application/json";
  return { method: "POST", url, headers, body: { type: "form", value: form } };
}

function readTokenResponse(
  response: HttpResponse,
  context: TokenRequestContext,
): { credential: Credential; refreshToken?: string } {
  const json = parseJsonResponse(response, context);
  const fields = typeof json === "object" && json !== null ? (json as Record<string, unknown>) : {};
  const accessToken = fields.access_token;
  if (typeof accessToken !== "string" || accessToken === "") {
    throw invalidResponse(
      response,
      context,
      "no access_token (expected a JSON object with a string access_token)",
    );
  }
  const lifetimeMs = lifetimeFromExpiresIn(fields.expires_in);
  const credential: Credential =
    lifetimeMs === undefined ? { value: accessToken } : { value: accessToken, lifetimeMs };
  const refreshToken = fields.refresh_token;
  return typeof refreshToken === "string" && refreshToken !== ""
    ? { credential, refreshToken }
    : { credential };
}
