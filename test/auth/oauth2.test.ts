import { afterEach, describe, expect, it } from "vitest";
import { AuthError, createAuthenticator, sendAuthenticated } from "../../src/auth/index.ts";
import type { OAuth2AuthConfig } from "../../src/auth/oauth2.ts";
import { type OAuth2Fake, type OAuth2FakeOptions, startOAuth2Fake } from "../fakes/oauth2.ts";
import { authDeps, expectNoSecrets, formFields, get, rejectionOf } from "./helpers.ts";

const CLIENT_ID = "test-client-id";
const CLIENT_SECRET = "test-client-secret-7f3a";
const PASSWORD = "test-password-b21c";
const CODE = "test-auth-code-99e1";
const REDIRECT = "https://portal.azure.com/TokenAuthorize/ExtensionName/Microsoft_Azure_Security_Insights";
const SECRETS = [CLIENT_SECRET, PASSWORD, CODE];

let fake: OAuth2Fake | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

async function setup(
  auth: Partial<OAuth2AuthConfig> = {},
  server: Partial<OAuth2FakeOptions> = {},
  deps = authDeps(),
) {
  fake = await startOAuth2Fake({
    clock: deps.clock,
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    ...server,
  });
  const config: OAuth2AuthConfig = {
    type: "OAuth2",
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    grantType: "client_credentials",
    tokenEndpoint: fake.tokenUrl,
    isCredentialsInHeaders: false,
    accessTokenPrepend: "Bearer",
    ...auth,
  };
  const authenticator = createAuthenticator(config, deps);
  const events = () => sendAuthenticated(deps.http, authenticator, get(fake?.dataUrl ?? ""));
  return { fake, deps, authenticator, events };
}

describe("OAuth2 client_credentials", () => {
  it("requests a token with the exact form, query and headers, then sends it as a Bearer header", async () => {
    const { fake, events } = await setup({
      scope: "audit.read audit.write",
      tokenEndpointHeaders: { "X-Tenant": "contoso", Accept: "application/json" },
      tokenEndpointQueryParameters: { audience: "https://api.example.test/" },
    });

    const response = await events();

    expect(response.status).toBe(200);
    const [tokenRequest, ...more] = fake.tokenRequests();
    expect(more).toEqual([]);
    expect(tokenRequest).toMatchObject({
      method: "POST",
      path: "/oauth/token",
      query: { audience: "https://api.example.test/" },
    });
    expect(tokenRequest?.headers).toMatchObject({
      "content-type": "application/x-www-form-urlencoded",
      accept: "application/json",
      "x-tenant": "contoso",
    });
    expect(tokenRequest?.headers.authorization).toBeUndefined();
    expect(tokenRequest?.body).toBe(
      "grant_type=client_credentials&scope=audit.read+audit.write" +
        `&client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`,
    );
    expect(fake.dataRequests()[0]?.headers.authorization).toBe("Bearer test-access-token-1");
  });

  it("sends the client credentials as HTTP Basic when isCredentialsInHeaders", async () => {
    const { fake, events } = await setup({ isCredentialsInHeaders: true });

    await events();

    const tokenRequest = fake.tokenRequests()[0];
    const basic = Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString("base64");
    expect(tokenRequest?.headers.authorization).toBe(`Basic ${basic}`);
    expect(formFields(tokenRequest?.body ?? "")).toEqual({ grant_type: "client_credentials" });
  });

  it("uses accessTokenPrepend, and no prefix at all when it is empty", async () => {
    const { authenticator } = await setup({ accessTokenPrepend: "" });
    const custom = createAuthenticator(
      { ...baseConfig(), tokenEndpoint: fake?.tokenUrl ?? "", accessTokenPrepend: "OAuth" },
      authDeps(),
    );

    const bare = await authenticator.apply(get("http://api.example.test/x"));
    const prefixed = await custom.apply(get("http://api.example.test/x"));

    expect(bare.headers.authorization).toBe("test-access-token-1");
    expect(prefixed.headers.authorization).toBe("OAuth test-access-token-2");
  });

  it("caches the token across data requests and shares one in-flight token request between concurrent callers", async () => {
    const { fake, events } = await setup();

    await Promise.all([events(), events(), events()]);
    await events();

    expect(fake.tokenRequests()).toHaveLength(1);
    expect(fake.dataRequests().map((r) => r.headers.authorization)).toEqual(
      Array(4).fill("Bearer test-access-token-1"),
    );
  });

  it("lets one caller abort its wait without failing the others waiting on the same token request", async () => {
    const { fake, authenticator } = await setup();
    fake.server.fail({ kind: "slowHeaders", delayMs: 30 });
    const impatient = new AbortController();

    const aborted = rejectionOf(authenticator.apply(get(fake.dataUrl), impatient.signal));
    const patient = authenticator.apply(get(fake.dataUrl));
    impatient.abort(new Error("caller gave up"));

    expect(await aborted).toMatchObject({ message: "caller gave up" });
    expect((await patient).headers.authorization).toBe("Bearer test-access-token-1");
    expect(fake.tokenRequests()).toHaveLength(1);
  });

  it("renews the token shortly before expires_in runs out, on the injected clock", async () => {
    const { fake, deps, events } = await setup({}, { tokenLifetimeSeconds: 600 });
    await events();

    deps.clock.advance(530_000);
    await events();
    expect(fake.tokenRequests()).toHaveLength(1);

    // 600 s lifetime, 60 s margin: from 540 s on the token is renewed before it is used.
    deps.clock.advance(15_000);
    await events();
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.dataRequests().at(-1)?.headers.authorization).toBe("Bearer test-access-token-2");
  });

  it("keeps a token without expires_in until the API answers 401, then renews it once and retries", async () => {
    const { fake, deps, events } = await setup({}, { tokenLifetimeSeconds: null });
    await events();
    deps.clock.advance(24 * 3600_000);
    await events();
    expect(fake.tokenRequests()).toHaveLength(1);

    fake.accessTokens.revokeAll();
    const response = await events();

    expect(response.status).toBe(200);
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.dataRequests().map((r) => r.headers.authorization)).toEqual([
      "Bearer test-access-token-1",
      "Bearer test-access-token-1",
      "Bearer test-access-token-1",
      "Bearer test-access-token-2",
    ]);
  });

  it("fails with an AuthError when the API answers 401 again after the renewal", async () => {
    const { fake, events } = await setup();
    await events();
    fake.server.fail({ kind: "status", status: 401 }, { kind: "pass" }, { kind: "status", status: 401 });

    const error = await rejectionOf(events());

    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ kind: "unauthorized", status: 401 });
    expect(String(error)).toContain(`GET ${fake.server.origin}/api/events returned HTTP 401 again`);
    expect(fake.tokenRequests()).toHaveLength(2);
    expect(fake.dataRequests()).toHaveLength(3);
  });
});

describe("OAuth2 authorization_code", () => {
  const codeGrant: Partial<OAuth2AuthConfig> = {
    grantType: "authorization_code",
    authorizationCode: CODE,
    redirectUri: REDIRECT,
    scope: "offline_access audit.read",
  };

  it("exchanges the code once, then renews with each rotated refresh token", async () => {
    const { fake, deps, events } = await setup(codeGrant, {
      tokenLifetimeSeconds: 600,
      authorizationCode: { code: CODE, redirectUri: REDIRECT },
    });

    await events();
    deps.clock.advance(600_000);
    await events();
    fake.accessTokens.revokeAll();
    await events();

    expect(fake.tokenRequests().map((r) => formFields(r.body))).toEqual([
      {
        grant_type: "authorization_code",
        code: CODE,
        redirect_uri: REDIRECT,
        scope: "offline_access audit.read",
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      },
      {
        grant_type: "refresh_token",
        refresh_token: "test-refresh-token-1",
        scope: "offline_access audit.read",
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      },
      {
        grant_type: "refresh_token",
        refresh_token: "test-refresh-token-2",
        scope: "offline_access audit.read",
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
      },
    ]);
    expect(fake.dataRequests().at(-1)?.headers.authorization).toBe("Bearer test-access-token-3");
  });

  it("starts from a configured refresh token (grantType refresh_token)", async () => {
    const { fake, events } = await setup(
      { grantType: "refresh_token", refreshToken: "test-refresh-token-0" },
      { refreshToken: "test-refresh-token-0" },
    );

    await events();

    expect(formFields(fake.tokenRequests()[0]?.body ?? "")).toMatchObject({
      grant_type: "refresh_token",
      refresh_token: "test-refresh-token-0",
    });
    expect(fake.currentRefreshToken).toBe("test-refresh-token-1");
  });

  it("refuses a code grant with neither a code nor a refresh token, naming the field", () => {
    expect(() =>
      createAuthenticator({ ...baseConfig(), grantType: "authorization_code" }, authDeps()),
    ).toThrow(/auth\.authorizationCode: required for grantType 'authorization_code'/);
  });
});

describe("OAuth2 password grant", () => {
  it("sends the resource owner's credentials with the client's", async () => {
    const { fake, events } = await setup(
      { grantType: "password", userName: "test-user", password: PASSWORD },
      { user: { userName: "test-user", password: PASSWORD } },
    );

    const response = await events();

    expect(response.status).toBe(200);
    expect(formFields(fake.tokenRequests()[0]?.body ?? "")).toEqual({
      grant_type: "password",
      username: "test-user",
      password: PASSWORD,
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
    });
  });
});

describe("OAuth2 token endpoint failures", () => {
  it("reports a refused client with status and endpoint, and never the secret", async () => {
    const deps = authDeps();
    fake = await startOAuth2Fake({
      clock: deps.clock,
      clientId: CLIENT_ID,
      clientSecret: "test-other-secret",
    });
    const authenticator = createAuthenticator({ ...baseConfig(), tokenEndpoint: fake.tokenUrl }, deps);

    const error = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(error).toBeInstanceOf(AuthError);
    expect(error).toMatchObject({ kind: "token-request", status: 401, endpoint: fake.tokenUrl });
    expect(String(error)).toBe(
      `AuthError: OAuth2 token request to ${fake.tokenUrl} returned HTTP 401: {"error":"invalid_client"}`,
    );
    expectNoSecrets(error, SECRETS);
  });

  it("masks secrets and token-like fields that a failing endpoint echoes back", async () => {
    const { fake, authenticator } = await setup({ grantType: "password", userName: "u", password: PASSWORD });
    fake.server.fail({
      kind: "status",
      status: 400,
      body: JSON.stringify({
        error: "invalid_grant",
        detail: `password ${PASSWORD} rejected for client ${CLIENT_SECRET}`,
        refresh_token: "test-refresh-token-leaked",
      }),
    });

    const error = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(error).toMatchObject({ status: 400 });
    expect(String(error)).toContain('"error":"invalid_grant"');
    expectNoSecrets(error, [...SECRETS, "test-refresh-token-leaked"]);
  });

  it("retries a 5xx token endpoint twice, then fails with the status", async () => {
    const { fake, authenticator } = await setup();
    fake.server.fail(...Array(3).fill({ kind: "status", status: 503 }));

    const error = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(error).toMatchObject({ kind: "token-request", status: 503 });
    expect(fake.tokenRequests()).toHaveLength(3);
  });

  it("recovers when a 5xx burst is shorter than the retries", async () => {
    const { fake, events } = await setup();
    fake.server.fail({ kind: "status", status: 500 });

    expect((await events()).status).toBe(200);
    expect(fake.tokenRequests()).toHaveLength(2);
  });

  it("rejects a token response that is not JSON, or has no access_token", async () => {
    const { fake, authenticator } = await setup();
    fake.server.fail(
      { kind: "malformed", body: "<html>maintenance</html>" },
      { kind: "contentType", contentType: "application/json", body: '{"token_type":"Bearer"}' },
    );

    const notJson = await rejectionOf(authenticator.apply(get(fake.dataUrl)));
    const noToken = await rejectionOf(authenticator.apply(get(fake.dataUrl)));

    expect(notJson).toMatchObject({ kind: "token-response", status: 200 });
    expect(String(notJson)).toContain("a body that is not JSON");
    expect(String(notJson)).toContain("<html>maintenance</html>");
    expect(noToken).toMatchObject({ kind: "token-response" });
    expect(String(noToken)).toContain("no access_token");
  });

  it("does not cache a failure: the next call asks the endpoint again", async () => {
    const { fake, events } = await setup();
    fake.server.fail(...Array(3).fill({ kind: "status", status: 500 }));
    await rejectionOf(events());

    expect((await events()).status).toBe(200);
    expect(fake.tokenRequests()).toHaveLength(4);
  });
});

function baseConfig(): OAuth2AuthConfig {
  return {
    type: "OAuth2",
    clientId: CLIENT_ID,
    clientSecret: CLIENT_SECRET,
    grantType: "client_credentials",
    tokenEndpoint: "http://127.0.0.1:9/oauth/token",
    isCredentialsInHeaders: false,
    accessTokenPrepend: "Bearer",
  };
}
