/**
 * A fake OAuth2 authorization server plus a protected API, modelled on RFC 6749:
 * - `POST /oauth/token` (form body) accepts client authentication in the body (`client_id`/`client_secret`)
 *   or as HTTP Basic, and the grants `client_credentials`, `password`, `authorization_code` (single-use code)
 *   and `refresh_token` (rotating: each use invalidates the old refresh token and issues a new one).
 * - `GET /api/events` requires `Authorization: Bearer <token>` and answers 401 for unknown, revoked or
 *   expired tokens. Expiry follows the clock passed in, so tests move time with a fake clock.
 * Faults (500, malformed JSON, …) are queued with `server.fail(...)` from `./server.ts`.
 */
import type { Clock } from "../../src/engine/types.ts";
import {
  basicCredentials,
  type FakeResponse,
  type FakeServer,
  type RecordedRequest,
  startFakeServer,
} from "./server.ts";

/** Access tokens (or session ids) a fake has issued, with their expiry on the shared clock. */
export interface TokenBook {
  /** `format` turns the new id and its expiry into the token sent (a JWT, say); default: the id itself. */
  issue(
    prefix: string,
    lifetimeMs: number | undefined,
    format?: (id: string, expiresAtMs: number) => string,
  ): string;
  isValid(token: string | undefined): boolean;
  /** Server-side revocation: every token issued so far stops working (the next data request gets 401). */
  revokeAll(): void;
  readonly issued: readonly string[];
}

export function createTokenBook(clock: Clock): TokenBook {
  const expiries = new Map<string, number>();
  const issued: string[] = [];
  return {
    issued,
    issue(prefix, lifetimeMs, format = (id) => id) {
      const expiresAtMs =
        lifetimeMs === undefined ? Number.POSITIVE_INFINITY : clock.now().getTime() + lifetimeMs;
      const token = format(`${prefix}-${issued.length + 1}`, expiresAtMs);
      issued.push(token);
      expiries.set(token, expiresAtMs);
      return token;
    },
    isValid(token) {
      const expiry = token === undefined ? undefined : expiries.get(token);
      return expiry !== undefined && clock.now().getTime() < expiry;
    },
    revokeAll() {
      expiries.clear();
    },
  };
}

export const unauthorized = (realm: string): FakeResponse => ({
  status: 401,
  headers: { "www-authenticate": `${realm} error="invalid_token"` },
  json: { error: "invalid_token" },
});

export interface OAuth2FakeOptions {
  clock: Clock;
  clientId: string;
  clientSecret: string;
  /** `expires_in` of issued access tokens; omitted from the response when null. Default 3600. */
  tokenLifetimeSeconds?: number | null;
  /** Resource owner accepted by the password grant. */
  user?: { userName: string; password: string };
  /** The code accepted (once) by the authorization_code grant, with the redirect URI it was issued for. */
  authorizationCode?: { code: string; redirectUri: string };
  /** A refresh token the server already knows (for the refresh_token grant). */
  refreshToken?: string;
}

export interface OAuth2Fake {
  readonly server: FakeServer;
  readonly tokenUrl: string;
  readonly dataUrl: string;
  readonly accessTokens: TokenBook;
  /** The refresh token currently valid (rotates on each use). */
  readonly currentRefreshToken: string | undefined;
  tokenRequests(): RecordedRequest[];
  dataRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export const OAUTH2_EVENTS = [{ id: "evt-1" }, { id: "evt-2" }];

export async function startOAuth2Fake(options: OAuth2FakeOptions): Promise<OAuth2Fake> {
  const accessTokens = createTokenBook(options.clock);
  const lifetimeSeconds = options.tokenLifetimeSeconds === undefined ? 3600 : options.tokenLifetimeSeconds;
  let refreshToken = options.refreshToken;
  let refreshCount = 0;
  let codeUsed = false;

  const grantError = (status: number, error: string): FakeResponse => ({ status, json: { error } });

  const issue = (withRefreshToken: boolean): FakeResponse => {
    const json: Record<string, unknown> = {
      access_token: accessTokens.issue(
        "test-access-token",
        lifetimeSeconds === null ? undefined : lifetimeSeconds * 1000,
      ),
      token_type: "Bearer",
    };
    if (lifetimeSeconds !== null) json.expires_in = lifetimeSeconds;
    if (withRefreshToken) {
      refreshCount += 1;
      refreshToken = `test-refresh-token-${refreshCount}`;
      json.refresh_token = refreshToken;
    }
    return { json };
  };

  const token = (request: RecordedRequest): FakeResponse => {
    if (request.method !== "POST") return grantError(405, "invalid_request");
    if (!request.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) {
      return grantError(400, "invalid_request");
    }
    const form = Object.fromEntries(new URLSearchParams(request.body));
    const basic = basicCredentials(request);
    const client = basic
      ? { id: basic.user, secret: basic.password }
      : { id: form.client_id, secret: form.client_secret };
    if (client.id !== options.clientId || client.secret !== options.clientSecret)
      return grantError(401, "invalid_client");

    switch (form.grant_type) {
      case "client_credentials":
        return issue(false);
      case "password":
        if (form.username !== options.user?.userName || form.password !== options.user?.password) {
          return grantError(400, "invalid_grant");
        }
        return issue(false);
      case "authorization_code":
        if (
          codeUsed ||
          form.code !== options.authorizationCode?.code ||
          form.redirect_uri !== options.authorizationCode?.redirectUri
        ) {
          return grantError(400, "invalid_grant");
        }
        codeUsed = true;
        return issue(true);
      case "refresh_token":
        if (refreshToken === undefined || form.refresh_token !== refreshToken)
          return grantError(400, "invalid_grant");
        return issue(true);
      default:
        return grantError(400, "unsupported_grant_type");
    }
  };

  const server = await startFakeServer((request) => {
    if (request.path === "/oauth/token") return token(request);
    if (request.path === "/api/events") {
      const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      return accessTokens.isValid(bearer) ? { json: { events: OAUTH2_EVENTS } } : unauthorized("Bearer");
    }
    return { status: 404, json: { error: "not_found" } };
  });

  return {
    server,
    tokenUrl: `${server.origin}/oauth/token`,
    dataUrl: `${server.origin}/api/events`,
    accessTokens,
    get currentRefreshToken() {
      return refreshToken;
    },
    tokenRequests: () => server.requests.filter((r) => r.path === "/oauth/token"),
    dataRequests: () => server.requests.filter((r) => r.path === "/api/events"),
    close: () => server.close(),
  };
}
