/**
 * CCP `JwtToken` (reference §2.4).
 *
 * Token request: `tokenEndpointHttpMethod` (default POST) to `tokenEndpoint` + `queryParameters`, with
 * `headers`, carrying one of:
 * - `userToken`: `Authorization: [{userTokenPrepend} ]{userToken}` (BigID, Zoom in the corpus);
 * - `isCredentialsInHeaders`: `Authorization: Basic base64(userName.value:password.value)`;
 * - otherwise the body `{userName.key: userName.value, password.key: password.value}`, JSON when
 *   `isJsonRequest`, else form-encoded (keys default to `username`/`password`).
 * The token is read at `jwtTokenJsonPath` (default `$.access_token`, then `$.token`), or from the response header
 * `jwtTokenHeaderName` when `jwtTokenInResponseHeader`, with a leading `jwtTokenIdentifier` stripped.
 * Data requests carry `{apiKeyName ?? Authorization}: Bearer <token>`, or the bare token when
 * `noAccessTokenPrepend` (§9 A5). The token is kept until its JWT `exp` (or a body `expires_in`) minus a
 * margin; opaque tokens without either are kept until a 401.
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
  readJsonPath,
  sendTokenRequest,
  type TokenRequestContext,
  urlWithQuery,
} from "./token-request.ts";

export type JwtTokenAuthConfig = Extract<SupportedAuthConfig, { type: "JwtToken" }>;

/** OAuth-style servers answer `access_token`; login APIs (Prisma Cloud's /login) answer `token`. */
const DEFAULT_TOKEN_PATHS = ["$.access_token", "$.token"];

export const jwtTokenStrategy: AuthStrategy<JwtTokenAuthConfig> = {
  create(config, deps) {
    const request = tokenRequest(config);
    const secrets = [config.password?.value, config.userToken].filter(
      (secret): secret is string => secret !== undefined && secret !== "",
    );
    const context: TokenRequestContext = {
      what: "JwtToken token request",
      secrets,
      timeoutMs: config.requestTimeoutInSeconds * 1000,
    };

    const cache = createCredentialCache(async () => {
      const response = await sendTokenRequest(deps, request, context);
      const token = readToken(config, response, context);
      const lifetimeMs = jwtLifetimeMs(token, deps.clock.now()) ?? bodyLifetimeMs(config, response);
      return lifetimeMs === undefined
        ? { value: token }
        : ({ value: token, lifetimeMs } satisfies Credential);
    }, deps.clock);

    const headerName =
      config.apiKeyName === undefined || config.apiKeyName === "" ? "authorization" : config.apiKeyName;
    return {
      templateVariables: {},
      async apply(outgoing, signal) {
        const token = await cache.get(signal);
        return withHeader(outgoing, headerName, config.noAccessTokenPrepend ? token : `Bearer ${token}`);
      },
      async onUnauthorized(signal) {
        await cache.refresh(signal);
        return true;
      },
    };
  },
};

function tokenRequest(config: JwtTokenAuthConfig): OutgoingRequest {
  const url = urlWithQuery(config.tokenEndpoint, config.queryParameters, "auth.tokenEndpoint");
  const headers = lowerCaseHeaders(config.headers);
  const request: OutgoingRequest = { method: config.tokenEndpointHttpMethod, url, headers };
  if (config.userToken !== undefined) {
    headers.authorization = prefixed(config.userTokenPrepend ?? "", config.userToken);
    return request;
  }
  if (config.userName === undefined || config.password === undefined) {
    throw new AuthError(
      "configuration",
      "auth.userName and auth.password: required for JwtToken unless auth.userToken is set",
    );
  }
  if (config.isCredentialsInHeaders) {
    headers.authorization = basicCredentials(config.userName.value, config.password.value);
    return request;
  }
  const fields = {
    [config.userName.key ?? "username"]: config.userName.value,
    [config.password.key ?? "password"]: config.password.value,
  };
  // The body type decides the content type; a configured Content-Type header would contradict it.
  delete headers["content-type"];
  request.body = config.isJsonRequest ? { type: "json", value: fields } : { type: "form", value: fields };
  return request;
}

function readToken(config: JwtTokenAuthConfig, response: HttpResponse, context: TokenRequestContext): string {
  if (config.jwtTokenInResponseHeader) {
    const headerName = config.jwtTokenHeaderName.toLowerCase();
    const token = stripIdentifier(response.headers[headerName], config.jwtTokenIdentifier);
    if (token === undefined)
      throw invalidResponse(response, context, `no token in the response header '${headerName}'`);
    return token;
  }
  const paths = config.jwtTokenJsonPath === undefined ? DEFAULT_TOKEN_PATHS : [config.jwtTokenJsonPath];
  const json = parseJsonResponse(response, context);
  for (const path of paths) {
    const token = readJsonPath(json, path);
    if (token !== undefined) return token;
  }
  throw invalidResponse(response, context, `no token at auth.jwtTokenJsonPath ${paths.join(" or ")}`);
}

function stripIdentifier(value: string | undefined, identifier: string | undefined): string | undefined {
  const trimmed = value?.trim();
  if (trimmed === undefined || trimmed === "") return undefined;
  if (identifier === undefined || identifier === "") return trimmed;
  const prefix = `${identifier} `;
  const token = trimmed.toLowerCase().startsWith(prefix.toLowerCase())
    ? trimmed.slice(prefix.length).trim()
    : trimmed;
  return token === "" ? undefined : token;
}

/** Time left until the JWT's `exp`, or undefined when the token is not a decodable JWT with a numeric `exp`. */
function jwtLifetimeMs(token: string, now: Date): number | undefined {
  const payload = token.split(".")[1];
  if (payload === undefined) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    const exp = typeof claims === "object" && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
    // An already-expired exp (clock skew) still yields a tiny positive lifetime: renew on next use.
    return typeof exp === "number" && Number.isFinite(exp)
      ? Math.max(1, exp * 1000 - now.getTime())
      : undefined;
  } catch {
    return undefined;
  }
}

function bodyLifetimeMs(config: JwtTokenAuthConfig, response: HttpResponse): number | undefined {
  if (config.jwtTokenInResponseHeader) return undefined;
  try {
    const json: unknown = JSON.parse(response.body.toString("utf8"));
    return typeof json === "object" && json !== null
      ? lifetimeFromExpiresIn((json as { expires_in?: unknown }).expires_in)
      : undefined;
  } catch {
    return undefined;
  }
}
