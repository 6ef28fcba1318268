import { afterEach, describe, expect, it } from "vitest";
import { AuthError, createAuthenticator, sendAuthenticated } from "../../src/auth/index.ts";
import type { JwtTokenAuthConfig } from "../../src/auth/jwt-token.ts";
import { type JwtFake, type JwtFakeOptions, startJwtFake } from "../fakes/jwt.ts";
import { authDeps, expectNoSecrets, get, rejectionOf } from "./helpers.ts";

const PASSWORD = "test-password-5d8e";
const USER_TOKEN = "test-user-token-0c4b";
const SECRETS = [PASSWORD, USER_TOKEN];

let fake: JwtFake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

const fieldCredentials: JwtFakeOptions["credentials"] = {
  kind: "fields",
  userKey: "login",
  userName: "test-user",
  passwordKey: "secret",
  password: PASSWORD,
};

async function setup(
  auth: Partial<JwtTokenAuthConfig>,
  server: Omit<JwtFakeOptions, "clock">,
  deps = authDeps(),
) {
  fake = await startJwtFake({ clock: deps.clock, ...server });
  const config: JwtTokenAuthConfig = {
    type: "JwtToken",
    tokenEndpoint: fake.loginUrl,
    noAccessTokenPrepend: false,
    tokenEndpointHttpMethod: "POST",
    isCredentialsInHeaders: false,
    isJsonRequest: false,
    jwtTokenInResponseHeader: false,
    jwtTokenHeaderName: "Authorization",
    requestTimeoutInSeconds: 100,
    ...auth,
  };
  const authenticator = createAuthenticator(config, deps);
  const events = () => sendAuthenticated(deps.http, authenticator, get(fake?.dataUrl ?? ""));
  return { fake, deps, authenticator, events };
}

const withFields = {
  userName: { key: "login", value: "test-user" },
  password: { key: "secret", value: PASSWORD },
};

describe("JwtToken login", () => {
  it("posts form credentials with the configured keys, query and headers, and sends Bearer <jwt>", async () => {
    const { fake, events } = await setup(
      { ...withFields, queryParameters: { tenant: "contoso" }, headers: { "X-Client": "ccp-poller" } },
      { credentials: fieldCredentials },
    );

    const response = await events();

    expect(response.status).toBe(200);
    const login = fake.loginRequests()[0];
    expect(login).toMatchObject({ method: "POST", path: "/auth/login", query: { tenant: "contoso" } });
    expect(login?.headers).toMatchObject({
      "content-type": "application/x-www-form-urlencoded",
      "x-client": "ccp-poller",
    });
    expect(login?.body).toBe(`login=test-user&secret=${PASSWORD}`);
    expect(fake.dataRequests()[0]?.headers.authorization).toBe(`Bearer ${fake.tokens.issued[0]}`);
  });

  it("sends the credentials as JSON when isJsonRequest", async () => {
    const { fake, events } = await setup(
      { ...withFields, isJsonRequest: true },
      { credentials: fieldCredentials },
    );

    await events();

    const login = fake.loginRequests()[0];
    expect(login?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(login?.body ?? "")).toEqual({ login: "test-user", secret: PASSWORD });
  });

  it("reads a login API's `token` field when no jwtTokenJsonPath is set and there is no access_token (Prisma Cloud's /login)", async () => {
    const { fake, events } = await setup(
      { ...withFields, isJsonRequest: true },
      { credentials: fieldCredentials, tokenIn: { body: "token" } },
    );

    expect((await events()).status).toBe(200);
    expect(fake.dataRequests()[0]?.headers.authorization).toBe(`Bearer ${fake.tokens.issued[0]}`);
  });

  it("sends HTTP Basic and no body when isCredentialsInHeaders", async () => {
    const { fake, events } = await setup(
      { ...withFields, isCredentialsInHeaders: true },
      { credentials: { kind: "basic", userName: "test-user", password: PASSWORD } },
    );

    await events();

    const login = fake.loginRequests()[0];
    expect(login?.headers.authorization).toBe(
      `Basic ${Buffer.from(`test-user:${PASSWORD}`).toString("base64")}`,
    );
    expect(login?.body).toBe("");
  });

  it("exchanges a user token with GET and sends the system token bare (the BigID shape)", async () => {
    const { fake, events } = await setup(
      {
        userToken: USER_TOKEN,
        userTokenPrepend: "",
        tokenEndpointHttpMethod: "GET",
        noAccessTokenPrepend: true,
        jwtTokenJsonPath: "$.systemToken",
      },
      {
        credentials: { kind: "userToken", prepend: "", token: USER_TOKEN },
        loginMethod: "GET",
        tokenIn: { body: "systemToken" },
        dataPrefix: "",
      },
    );

    const response = await events();

    expect(response.status).toBe(200);
    expect(fake.loginRequests()[0]).toMatchObject({ method: "GET", body: "" });
    expect(fake.loginRequests()[0]?.headers.authorization).toBe(USER_TOKEN);
    expect(fake.dataRequests()[0]?.headers.authorization).toBe(fake.tokens.issued[0]);
  });

  it("puts userTokenPrepend before the user token (the Zoom shape) and reads a nested JSONPath", async () => {
    const { fake, events } = await setup(
      { userToken: USER_TOKEN, userTokenPrepend: "Basic", jwtTokenJsonPath: "$.data.jwt" },
      {
        credentials: { kind: "userToken", prepend: "Basic", token: USER_TOKEN },
        tokenIn: { body: "data.jwt" },
      },
    );

    expect((await events()).status).toBe(200);
    expect(fake.loginRequests()[0]?.headers.authorization).toBe(`Basic ${USER_TOKEN}`);
  });

  it("reads the token from a response header, strips its identifier, and sends it in the apiKeyName header", async () => {
    const { fake, events } = await setup(
      {
        ...withFields,
        jwtTokenInResponseHeader: true,
        jwtTokenHeaderName: "X-Auth-Token",
        jwtTokenIdentifier: "Bearer",
        apiKeyName: "X-Api-Token",
      },
      {
        credentials: fieldCredentials,
        tokenIn: { header: "x-auth-token", identifier: "Bearer" },
        dataHeader: "x-api-token",
      },
    );

    expect((await events()).status).toBe(200);
    expect(fake.dataRequests()[0]?.headers["x-api-token"]).toBe(`Bearer ${fake.tokens.issued[0]}`);
    expect(fake.dataRequests()[0]?.headers.authorization).toBeUndefined();
  });
});

describe("JwtToken caching and renewal", () => {
  it("keeps the JWT until shortly before its exp, then logs in again", async () => {
    const { fake, deps, events } = await setup(withFields, {
      credentials: fieldCredentials,
      tokenLifetimeSeconds: 600,
    });
    await events();
    await events();

    deps.clock.advance(530_000);
    await events();
    expect(fake.loginRequests()).toHaveLength(1);

    deps.clock.advance(15_000);
    await events();
    expect(fake.loginRequests()).toHaveLength(2);
    expect(fake.dataRequests().at(-1)?.headers.authorization).toBe(`Bearer ${fake.tokens.issued[1]}`);
  });

  it("keeps an opaque token until a 401, then logs in once and retries", async () => {
    const { fake, deps, events } = await setup(withFields, {
      credentials: fieldCredentials,
      opaqueTokens: true,
      tokenLifetimeSeconds: null,
    });
    await events();
    deps.clock.advance(7 * 24 * 3600_000);
    await events();
    expect(fake.loginRequests()).toHaveLength(1);

    fake.tokens.revokeAll();
    expect((await events()).status).toBe(200);
    expect(fake.loginRequests()).toHaveLength(2);
    expect(fake.dataRequests().at(-1)?.headers.authorization).toBe("Bearer opaque-test-jwt-2");
  });

  it("fails with an AuthError when the API answers 401 again after a new login", async () => {
    const { fake, events } = await setup(withFields, { credentials: fieldCredentials });
    await events();
    fake.server.fail({ kind: "status", status: 401 }, { kind: "pass" }, { kind: "status", status: 401 });

    const error = await rejectionOf(events());

    expect(error).toMatchObject({ name: "AuthError", kind: "unauthorized" });
    expect(fake.loginRequests()).toHaveLength(2);
  });
});

describe("JwtToken failures", () => {
  it("reports refused credentials with status and endpoint and no secret", async () => {
    const { fake, authenticator } = await setup(
      {
        userName: { key: "login", value: "test-user" },
        password: { key: "secret", value: "test-password-wrong" },
      },
      { credentials: fieldCredentials },
    );

    const error = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(error).toBeInstanceOf(AuthError);
    expect(String(error)).toBe(
      `AuthError: JwtToken token request to ${fake.loginUrl} returned HTTP 401: {"error":"bad credentials"}`,
    );
    expectNoSecrets(error, [...SECRETS, "test-password-wrong"]);
  });

  it("names the JSONPath when the token is not where the definition says", async () => {
    const { fake, authenticator } = await setup(
      { ...withFields, jwtTokenJsonPath: "$.token" },
      { credentials: fieldCredentials },
    );

    const error = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(error).toMatchObject({ kind: "token-response", status: 200 });
    expect(String(error)).toContain("no token at auth.jwtTokenJsonPath $.token");
    // The body holds the token that was issued; the excerpt must not show it.
    expectNoSecrets(error, fake.tokens.issued);
  });

  it("refuses a definition with neither credentials nor a user token", () => {
    expect(() =>
      createAuthenticator(
        {
          type: "JwtToken",
          tokenEndpoint: "http://127.0.0.1:9/login",
          noAccessTokenPrepend: false,
          tokenEndpointHttpMethod: "POST",
          isCredentialsInHeaders: false,
          isJsonRequest: false,
          jwtTokenInResponseHeader: false,
          jwtTokenHeaderName: "Authorization",
          requestTimeoutInSeconds: 100,
        },
        authDeps(),
      ),
    ).toThrow("auth.userName and auth.password: required for JwtToken unless auth.userToken is set");
  });
});
