/**
 * A fake session-login API: `POST /session/login` takes user name and password fields (form or JSON) and
 * answers with a session id in a response header or a `Set-Cookie`; `GET /api/events` requires that id in
 * the request header of the same name (reference §9 A6) and answers 401 once the session has expired on the
 * server side (after `sessionLifetimeMinutes` on the shared clock) or been revoked.
 */
import type { Clock } from "../../src/engine/types.ts";
import { createTokenBook, type TokenBook, unauthorized } from "./oauth2.ts";
import { type FakeResponse, type FakeServer, type RecordedRequest, startFakeServer } from "./server.ts";

export interface SessionFakeOptions {
  clock: Clock;
  userKey: string;
  userName: string;
  passwordKey: string;
  password: string;
  sessionIdName: string;
  /** How the login response carries the id. Default: header. */
  idIn?: "header" | "cookie";
  sessionLifetimeMinutes?: number;
}

export interface SessionFake {
  readonly server: FakeServer;
  readonly loginUrl: string;
  readonly dataUrl: string;
  readonly sessions: TokenBook;
  loginRequests(): RecordedRequest[];
  dataRequests(): RecordedRequest[];
  close(): Promise<void>;
}

export const SESSION_EVENTS = [{ id: "session-evt-1" }];

export async function startSessionFake(options: SessionFakeOptions): Promise<SessionFake> {
  const sessions = createTokenBook(options.clock);
  const headerName = options.sessionIdName.toLowerCase();
  const lifetimeMs =
    options.sessionLifetimeMinutes === undefined ? undefined : options.sessionLifetimeMinutes * 60_000;

  const login = (request: RecordedRequest): FakeResponse => {
    if (request.method !== "POST") return { status: 405, json: { error: "method" } };
    const fields = request.headers["content-type"]?.startsWith("application/json")
      ? (JSON.parse(request.body) as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(request.body));
    if (fields[options.userKey] !== options.userName || fields[options.passwordKey] !== options.password) {
      return { status: 401, json: { error: "bad credentials" } };
    }
    const id = sessions.issue("test-session", lifetimeMs);
    const headers: Record<string, string | string[]> =
      options.idIn === "cookie"
        ? { "set-cookie": ["theme=dark; Path=/", `${options.sessionIdName}=${id}; Path=/; HttpOnly; Secure`] }
        : { [headerName]: id };
    return { headers, json: { status: "logged in" } };
  };

  const server = await startFakeServer((request) => {
    if (request.path === "/session/login") return login(request);
    if (request.path === "/api/events") {
      return sessions.isValid(request.headers[headerName])
        ? { json: { events: SESSION_EVENTS } }
        : unauthorized("Session");
    }
    return { status: 404, json: { error: "not_found" } };
  });

  return {
    server,
    loginUrl: `${server.origin}/session/login`,
    dataUrl: `${server.origin}/api/events`,
    sessions,
    loginRequests: () => server.requests.filter((r) => r.path === "/session/login"),
    dataRequests: () => server.requests.filter((r) => r.path === "/api/events"),
    close: () => server.close(),
  };
}
