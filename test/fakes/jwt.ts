/**
 * A fake JWT login server plus a protected API, in the shapes the CCP JwtToken corpus uses:
 * - `/auth/login` (method configurable) accepts a user name and password as form or JSON body fields, as
 *   HTTP Basic, or a client-made user token in `Authorization: [<prepend> ]<token>` (BigID, Zoom). It
 *   answers with a signed-looking JWT whose `exp` is the token's real expiry, either in the JSON body (at
 *   `tokenField`, dotted for nesting) or in a response header as `<identifier> <jwt>`.
 * - `GET /api/events` requires the JWT in `dataHeader` (default `authorization`) after `dataPrefix`.
 */
import type { Clock } from "../../src/engine/types.ts";
import { createTokenBook, type TokenBook, unauthorized } from "./oauth2.ts";
import {
  basicCredentials,
  type FakeResponse,
  type FakeServer,
  type RecordedRequest,
  startFakeServer,
} from "./server.ts";

export type JwtCredentials =
  | { kind: "fields"; userKey: string; userName: string; passwordKey: string; password: string }
  | { kind: "basic"; userName: string; password: string }
  | { kind: "userToken"; prepend: string; token: string };

export interface JwtFakeOptions {
  clock: Clock;
  credentials: JwtCredentials;
  loginMethod?: "GET" | "POST";
  /** Where the JWT goes in the login response. Default: body field `access_token`. */
  tokenIn?: { body: string } | { header: string; identifier: string };
  /** Lifetime encoded in `exp`; null issues a JWT without `exp` (valid until revoked). Default 3600. */
  tokenLifetimeSeconds?: number | null;
  /** Opaque (non-JWT) tokens, to exercise servers whose tokens cannot be decoded. */
  opaqueTokens?: boolean;
  dataHeader?: string;
  dataPrefix?: string;
}

export interface JwtFake {
  readonly server: FakeServer;
  readonly loginUrl: string;
  readonly dataUrl: string;
  readonly tokens: TokenBook;
  loginRequests(): RecordedRequest[];
  dataRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export const JWT_EVENTS = [{ id: "jwt-evt-1" }];

export function mintJwt(claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part(claims)}.${Buffer.from("test-signature").toString("base64url")}`;
}

export async function startJwtFake(options: JwtFakeOptions): Promise<JwtFake> {
  const tokens = createTokenBook(options.clock);
  const lifetimeSeconds = options.tokenLifetimeSeconds === undefined ? 3600 : options.tokenLifetimeSeconds;
  const tokenIn = options.tokenIn ?? { body: "access_token" };
  const dataHeader = options.dataHeader ?? "authorization";
  const dataPrefix = options.dataPrefix ?? "Bearer ";

  const login = (request: RecordedRequest): FakeResponse => {
    if (request.method !== (options.loginMethod ?? "POST")) return { status: 405, json: { error: "method" } };
    if (!credentialsMatch(request, options.credentials))
      return { status: 401, json: { error: "bad credentials" } };
    const jwt = tokens.issue(
      "test-jwt",
      lifetimeSeconds === null ? undefined : lifetimeSeconds * 1000,
      (id, expiresAtMs) =>
        options.opaqueTokens
          ? `opaque-${id}`
          : mintJwt({
              sub: "test-user",
              jti: id,
              ...(Number.isFinite(expiresAtMs) ? { exp: expiresAtMs / 1000 } : {}),
            }),
    );
    if ("header" in tokenIn) {
      return { headers: { [tokenIn.header]: `${tokenIn.identifier} ${jwt}`.trim() }, json: { ok: true } };
    }
    return { json: nest(tokenIn.body, jwt) };
  };

  const server = await startFakeServer((request) => {
    if (request.path === "/auth/login") return login(request);
    if (request.path === "/api/events") {
      const value = request.headers[dataHeader];
      const jwt = value?.startsWith(dataPrefix) ? value.slice(dataPrefix.length) : undefined;
      return tokens.isValid(jwt) ? { json: { events: JWT_EVENTS } } : unauthorized("Bearer");
    }
    return { status: 404, json: { error: "not_found" } };
  });

  return {
    server,
    loginUrl: `${server.origin}/auth/login`,
    dataUrl: `${server.origin}/api/events`,
    tokens,
    loginRequests: () => server.requests.filter((r) => r.path === "/auth/login"),
    dataRequests: () => server.requests.filter((r) => r.path === "/api/events"),
    close: () => server.close(),
  };
}

function credentialsMatch(request: RecordedRequest, credentials: JwtCredentials): boolean {
  switch (credentials.kind) {
    case "basic": {
      const basic = basicCredentials(request);
      return basic?.user === credentials.userName && basic.password === credentials.password;
    }
    case "userToken":
      return request.headers.authorization === `${credentials.prepend} ${credentials.token}`.trim();
    case "fields": {
      const fields = request.headers["content-type"]?.startsWith("application/json")
        ? (JSON.parse(request.body) as Record<string, unknown>)
        : Object.fromEntries(new URLSearchParams(request.body));
      return (
        fields[credentials.userKey] === credentials.userName &&
        fields[credentials.passwordKey] === credentials.password
      );
    }
  }
}

/** `{ a: { b: value } }` for the dotted path `a.b`. */
function nest(dottedPath: string, value: string): Record<string, unknown> {
  return dottedPath.split(".").reduceRight<unknown>((inner, key) => ({ [key]: inner }), value) as Record<
    string,
    unknown
  >;
}
