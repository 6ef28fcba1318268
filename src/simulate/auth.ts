/**
 * The simulated API's side of each auth type (reference §2): the token, JWT and session endpoints it serves,
 * and the credentials it demands on every data request, answering 401 without them.
 */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import { accepted, basicCredentials, bodyField, type Call, reject, type Verdict } from "./call.ts";
import { placeValue } from "./formats.ts";

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export interface AuthEndpoint {
  /** Absolute URL (already rewritten to the simulator). */
  url: string;
  handle(call: Call): Answer | Verdict;
}

export interface SimulatedAuth {
  endpoints: AuthEndpoint[];
  /** Whether a data request carries the declared credentials. */
  check(call: Call): Verdict;
  /** Body fields the auth itself adds to data requests (APIKey in the POST payload). */
  bodyFields: string[];
}

const tokenAnswer = (body: unknown, headers?: Record<string, string>): Answer => ({
  status: 200,
  body: JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers },
});

export function simulateAuth(auth: SupportedAuthConfig, label: string): SimulatedAuth {
  const issued = new Set<string>();
  let counter = 0;
  const issue = (kind: string) => {
    const token = `test-sim-${kind}-${label}-${++counter}`;
    issued.add(token);
    return token;
  };
  const header = (call: Call, name: string) => call.headers[name.toLowerCase()];
  const none: SimulatedAuth = { endpoints: [], check: () => accepted, bodyFields: [] };

  switch (auth.type) {
    case "None":
      return none;
    case "Basic":
      return {
        ...none,
        check: (call) =>
          header(call, "authorization") === basicCredentials(auth.userName, auth.password)
            ? accepted
            : reject(
                401,
                "auth.userName/password",
                "no Authorization: Basic with the declared user and password",
              ),
      };
    case "APIKey": {
      // §2.2 and §9 A3: absent name → Authorization; empty name → Authorization without identifier.
      const name =
        auth.apiKeyName === undefined || auth.apiKeyName === "" ? "Authorization" : auth.apiKeyName;
      const identifier = auth.apiKeyName === "" ? "" : (auth.apiKeyIdentifier ?? "token");
      const expected = identifier === "" ? auth.apiKey : `${identifier} ${auth.apiKey}`;
      if (auth.isApiKeyInPostPayload) {
        return {
          ...none,
          bodyFields: [name],
          check: (call) =>
            bodyField(call, name) === auth.apiKey
              ? accepted
              : reject(
                  401,
                  "auth.isApiKeyInPostPayload",
                  `the body has no field ${name} holding the API key`,
                ),
        };
      }
      return {
        ...none,
        check: (call) =>
          header(call, name) === expected
            ? accepted
            : reject(
                401,
                "auth.apiKeyName/apiKeyIdentifier",
                `no header ${name}: ${identifier ? `${identifier} ` : ""}<apiKey>`,
              ),
      };
    }
    case "OAuth2":
      return {
        bodyFields: [],
        endpoints: [
          {
            url: auth.tokenEndpoint,
            handle(call) {
              const problem = checkOAuthTokenRequest(auth, call, issued);
              if (problem.ok === false) return problem;
              return tokenAnswer({
                access_token: issue("access"),
                token_type: "Bearer",
                expires_in: 3600,
                refresh_token: issue("refresh"),
              });
            },
          },
        ],
        check: (call) => {
          const value = header(call, "authorization") ?? "";
          const prefix = `${auth.accessTokenPrepend} `;
          return value.startsWith(prefix) && issued.has(value.slice(prefix.length))
            ? accepted
            : reject(
                401,
                "auth.accessTokenPrepend",
                `no Authorization: ${auth.accessTokenPrepend} <access token from the token endpoint>`,
              );
        },
      };
    case "JwtToken": {
      const dataHeader = auth.apiKeyName ?? "Authorization";
      return {
        bodyFields: [],
        endpoints: [
          {
            url: auth.tokenEndpoint,
            handle(call) {
              const problem = checkJwtTokenRequest(auth, call);
              if (problem.ok === false) return problem;
              const token = issue("jwt");
              if (auth.jwtTokenInResponseHeader) {
                const value = auth.jwtTokenIdentifier ? `${auth.jwtTokenIdentifier} ${token}` : token;
                return tokenAnswer({}, { [auth.jwtTokenHeaderName.toLowerCase()]: value });
              }
              const placed = placeValue({}, auth.jwtTokenJsonPath ?? "$.access_token", token);
              return tokenAnswer(placed.document);
            },
          },
        ],
        check: (call) => {
          const value = header(call, dataHeader) ?? "";
          const token = auth.noAccessTokenPrepend ? value : value.replace(/^Bearer /, "");
          return issued.has(token) && (auth.noAccessTokenPrepend || value.startsWith("Bearer "))
            ? accepted
            : reject(
                401,
                "auth.jwtTokenJsonPath",
                `no ${dataHeader}: ${auth.noAccessTokenPrepend ? "" : "Bearer "}<token from the token endpoint>`,
              );
        },
      };
    }
    case "Session": {
      // §9 A6: the session id travels back in a header named sessionIdName.
      const idName = auth.sessionIdName ?? "Set-Cookie";
      return {
        bodyFields: [],
        endpoints: auth.sessionLoginRequestUri
          ? [
              {
                url: auth.sessionLoginRequestUri,
                handle(call) {
                  const user = bodyField(call, auth.userName.key ?? "username");
                  const password = bodyField(call, auth.password.key ?? "password");
                  if (user !== auth.userName.value || password !== auth.password.value) {
                    return reject(
                      401,
                      "auth.userName/password",
                      "the login body lacks the declared user name or password fields",
                    );
                  }
                  return { status: 200, body: "{}", headers: { [idName.toLowerCase()]: issue("session") } };
                },
              },
            ]
          : [],
        check: (call) =>
          issued.has(header(call, idName) ?? "")
            ? accepted
            : reject(401, "auth.sessionIdName", `no ${idName} header with the session id from the login`),
      };
    }
    default:
      // An auth type the reference does not describe for REST polling (e.g. CiscoDuo): nothing to demand.
      return none;
  }
}

type OAuth2 = Extract<SupportedAuthConfig, { type: "OAuth2" }>;

function checkOAuthTokenRequest(auth: OAuth2, call: Call, issued: ReadonlySet<string>): Verdict {
  if (call.method !== "POST")
    return reject(405, "auth.tokenEndpoint", `token requests are POST, got ${call.method}`);
  const declared = declaredHeaders(call, auth.tokenEndpointHeaders, "auth.tokenEndpointHeaders");
  if (declared.ok === false) return declared;
  for (const [name, value] of Object.entries(auth.tokenEndpointQueryParameters ?? {})) {
    if ((call.url.searchParams.get(name) ?? bodyField(call, name)) !== value) {
      return reject(400, `auth.tokenEndpointQueryParameters.${name}`, `missing ${name}=${value}`);
    }
  }
  const credentials = auth.isCredentialsInHeaders
    ? call.headers.authorization === basicCredentials(auth.clientId, auth.clientSecret)
    : bodyField(call, "client_id") === auth.clientId &&
      bodyField(call, "client_secret") === auth.clientSecret;
  if (!credentials) {
    return reject(
      401,
      "auth.isCredentialsInHeaders",
      auth.isCredentialsInHeaders
        ? "no Authorization: Basic client_id:client_secret"
        : "no client_id and client_secret in the body",
    );
  }
  const grant = bodyField(call, "grant_type");
  if (grant === "refresh_token") {
    return issued.has(bodyField(call, "refresh_token") ?? "")
      ? accepted
      : reject(401, "auth.grantType", "unknown refresh_token");
  }
  if (grant !== auth.grantType)
    return reject(
      400,
      "auth.grantType",
      `grant_type ${grant ?? "(none)"}, the definition declares ${auth.grantType}`,
    );
  if (grant === "authorization_code" && bodyField(call, "code") !== auth.authorizationCode) {
    return reject(401, "auth.authorizationCode", "the code is not the declared authorizationCode");
  }
  if (
    grant === "password" &&
    (bodyField(call, "username") !== auth.userName || bodyField(call, "password") !== auth.password)
  ) {
    return reject(
      401,
      "auth.userName/password",
      "the password grant lacks the declared username and password",
    );
  }
  return accepted;
}

type Jwt = Extract<SupportedAuthConfig, { type: "JwtToken" }>;

function checkJwtTokenRequest(auth: Jwt, call: Call): Verdict {
  if (call.method !== auth.tokenEndpointHttpMethod) {
    return reject(
      405,
      "auth.tokenEndpointHttpMethod",
      `token request is ${call.method}, declared ${auth.tokenEndpointHttpMethod}`,
    );
  }
  const declared = declaredHeaders(call, auth.headers, "auth.headers");
  if (declared.ok === false) return declared;
  for (const [name, value] of Object.entries(auth.queryParameters ?? {})) {
    if (call.url.searchParams.get(name) !== value)
      return reject(400, `auth.queryParameters.${name}`, `missing ${name}=${value}`);
  }
  if (auth.userToken !== undefined) {
    const expected = auth.userTokenPrepend ? `${auth.userTokenPrepend} ${auth.userToken}` : auth.userToken;
    return call.headers.authorization === expected
      ? accepted
      : reject(
          401,
          "auth.userToken",
          `no Authorization: ${auth.userTokenPrepend ? `${auth.userTokenPrepend} ` : ""}<userToken>`,
        );
  }
  const user = auth.userName;
  const password = auth.password;
  if (user === undefined || password === undefined)
    return reject(401, "auth.userName", "no credentials declared");
  if (auth.isCredentialsInHeaders) {
    return call.headers.authorization === basicCredentials(user.value, password.value)
      ? accepted
      : reject(401, "auth.isCredentialsInHeaders", "no Authorization: Basic user:password");
  }
  const jsonBody =
    typeof call.body === "object" &&
    call.body !== null &&
    !/form-urlencoded/i.test(call.headers["content-type"] ?? "");
  if (auth.isJsonRequest !== jsonBody)
    return reject(
      400,
      "auth.isJsonRequest",
      `the token request body should be ${auth.isJsonRequest ? "JSON" : "form-encoded"}`,
    );
  return bodyField(call, user.key ?? "username") === user.value &&
    bodyField(call, password.key ?? "password") === password.value
    ? accepted
    : reject(
        401,
        "auth.userName/password",
        "the token request body lacks the declared user name and password fields",
      );
}

/** Every declared header present with its value (a Content-Type may add parameters such as charset). */
export function declaredHeaders(
  call: Call,
  headers: Record<string, string> | undefined,
  field: string,
): Verdict {
  for (const [name, value] of Object.entries(headers ?? {})) {
    const got = call.headers[name.toLowerCase()];
    const same =
      name.toLowerCase() === "content-type"
        ? got?.split(";")[0]?.trim().toLowerCase() === value.split(";")[0]?.trim().toLowerCase()
        : got === value;
    if (!same)
      return reject(
        400,
        `${field}.${name}`,
        `header ${name} is ${got === undefined ? "missing" : "not the declared value"}`,
      );
  }
  return accepted;
}
