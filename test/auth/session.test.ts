import { afterEach, describe, expect, it } from "vitest";
import { AuthError, createAuthenticator, sendAuthenticated } from "../../src/auth/index.ts";
import type { SessionAuthConfig } from "../../src/auth/session.ts";
import { type SessionFake, type SessionFakeOptions, startSessionFake } from "../fakes/session.ts";
import { authDeps, expectNoSecrets, get, rejectionOf } from "./helpers.ts";

const PASSWORD = "test-password-a9f0";

let fake: SessionFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  auth: Partial<SessionAuthConfig> = {},
  server: Partial<Omit<SessionFakeOptions, "clock">> = {},
  deps = authDeps(),
) {
  fake = await startSessionFake({
    clock: deps.clock,
    userKey: "user",
    userName: "test-user",
    passwordKey: "pass",
    password: PASSWORD,
    sessionIdName: "X-Session-Id",
    ...server,
  });
  const config: SessionAuthConfig = {
    type: "Session",
    userName: { key: "user", value: "test-user" },
    password: { key: "pass", value: PASSWORD },
    sessionLoginRequestUri: fake.loginUrl,
    sessionIdName: "X-Session-Id",
    isPostPayloadJson: false,
    ...auth,
  };
  const authenticator = createAuthenticator(config, deps);
  const events = () => sendAuthenticated(deps.http, authenticator, get(fake?.dataUrl ?? ""));
  return { fake, deps, authenticator, events };
}

describe("Session login", () => {
  it("posts form credentials and sends the session id from the response header as that header", async () => {
    const { fake, events } = await setup();

    const response = await events();

    expect(response.status).toBe(200);
    const login = fake.loginRequests()[0];
    expect(login).toMatchObject({
      method: "POST",
      path: "/session/login",
      body: `user=test-user&pass=${PASSWORD}`,
    });
    expect(login?.headers["content-type"]).toBe("application/x-www-form-urlencoded");
    expect(fake.dataRequests()[0]?.headers["x-session-id"]).toBe("test-session-1");
  });

  it("logs in with JSON, query parameters and headers, reads the id from a cookie, and repeats the headers on data requests", async () => {
    const { fake, events } = await setup(
      {
        isPostPayloadJson: true,
        queryParameters: { domain: "corp", version: 2 },
        headers: { "X-Api-Version": "2" },
      },
      { idIn: "cookie" },
    );

    expect((await events()).status).toBe(200);

    const login = fake.loginRequests()[0];
    expect(login?.query).toEqual({ domain: "corp", version: "2" });
    expect(login?.headers).toMatchObject({ "content-type": "application/json", "x-api-version": "2" });
    expect(JSON.parse(login?.body ?? "")).toEqual({ user: "test-user", pass: PASSWORD });
    expect(fake.dataRequests()[0]?.headers).toMatchObject({
      "x-session-id": "test-session-1",
      "x-api-version": "2",
    });
  });

  it("reuses the session, and logs in again after sessionTimeoutInMinutes (less a margin)", async () => {
    const { fake, deps, events } = await setup(
      { sessionTimeoutInMinutes: 30 },
      { sessionLifetimeMinutes: 30 },
    );
    await events();
    deps.clock.advance(28 * 60_000);
    await events();
    expect(fake.loginRequests()).toHaveLength(1);

    deps.clock.advance(90_000);
    await events();

    expect(fake.loginRequests()).toHaveLength(2);
    expect(fake.dataRequests().map((r) => r.headers["x-session-id"])).toEqual([
      "test-session-1",
      "test-session-1",
      "test-session-2",
    ]);
  });

  it("logs in again once on a 401 and retries; a second 401 is an AuthError", async () => {
    const { fake, events } = await setup();
    await events();
    fake.sessions.revokeAll();
    expect((await events()).status).toBe(200);
    expect(fake.loginRequests()).toHaveLength(2);

    fake.server.fail({ kind: "status", status: 401 }, { kind: "pass" }, { kind: "status", status: 401 });
    const error = await rejectionOf(events());

    expect(error).toMatchObject({ name: "AuthError", kind: "unauthorized" });
    expect(fake.loginRequests()).toHaveLength(3);
  });
});

describe("Session failures", () => {
  it("reports refused credentials without the password", async () => {
    const { fake, authenticator } = await setup({ password: { key: "pass", value: "test-password-wrong" } });

    const error = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ kind: "token-request", status: 401, endpoint: fake.loginUrl });
    expectNoSecrets(error, [PASSWORD, "test-password-wrong"]);
  });

  it("names the header or cookie it looked for when the login response has no session id", async () => {
    const { fake, authenticator } = await setup({ sessionIdName: "X-Token" });

    const error = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(error).toMatchObject({ kind: "token-response", status: 200 });
    expect(String(error)).toContain("no session id in the header or cookie 'X-Token'");
  });

  it("refuses a definition without a login URI or session id name", () => {
    expect(() =>
      createAuthenticator(
        {
          type: "Session",
          userName: { value: "u" },
          password: { value: PASSWORD },
          isPostPayloadJson: false,
        },
        authDeps(),
      ),
    ).toThrow("auth.sessionLoginRequestUri and auth.sessionIdName: required for Session auth");
  });
});
