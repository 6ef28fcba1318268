/** Basic, APIKey and None: credentials that need no token request, checked on the wire and on the request. */
import { afterEach, describe, expect, it } from "vitest";
import type { ApiKeyAuthConfig } from "../../src/auth/api-key.ts";
import { AuthError, createAuthenticator, sendAuthenticated } from "../../src/auth/index.ts";
import { HttpStatusError } from "../../src/engine/errors.ts";
import type { OutgoingRequest } from "../../src/engine/types.ts";
import { type FakeServer, startFakeServer } from "../fakes/server.ts";
import { authDeps, get } from "./helpers.ts";

const API_KEY = "test-api-key-3e7d";

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Sends one request through the authenticator to a real server and returns what the server received. */
async function received(
  authenticator: ReturnType<typeof createAuthenticator>,
  request?: Partial<OutgoingRequest>,
) {
  server = await startFakeServer(() => ({ json: { ok: true } }));
  const { http } = authDeps();
  await sendAuthenticated(http, authenticator, { ...get(`${server.origin}/api/events?from=1`), ...request });
  return server.requests[0];
}

function apiKey(fields: Partial<ApiKeyAuthConfig> = {}) {
  return createAuthenticator(
    { type: "APIKey", apiKey: API_KEY, isApiKeyInPostPayload: false, ...fields },
    authDeps(),
  );
}

const post = (body?: OutgoingRequest["body"]): OutgoingRequest => ({
  method: "POST",
  url: new URL("http://api.example.test/query"),
  headers: {},
  ...(body === undefined ? {} : { body }),
});

describe("Basic", () => {
  it("sends Authorization: Basic base64(user:password)", async () => {
    const authenticator = createAuthenticator(
      { type: "Basic", userName: "test-user@example.test", password: "test-password-p:ss" },
      authDeps(),
    );

    const request = await received(authenticator);

    const expected = Buffer.from("test-user@example.test:test-password-p:ss").toString("base64");
    expect(request?.headers.authorization).toBe(`Basic ${expected}`);
    expect(request?.rawQuery).toBe("from=1");
  });

  it("passes a 401 through without resending: static credentials have nothing to renew", async () => {
    server = await startFakeServer(() => ({ status: 401, json: { error: "unauthorized" } }));
    const { http } = authDeps();
    const authenticator = createAuthenticator(
      { type: "Basic", userName: "u", password: "test-password-x" },
      authDeps(),
    );

    const error = await sendAuthenticated(http, authenticator, get(`${server.origin}/api`)).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toMatchObject({ status: 401 });
    expect(server.requests).toHaveLength(1);
  });
});

describe("APIKey in a header", () => {
  it.each([
    ["absent name and identifier: Authorization: token <key>", {}, "authorization", `token ${API_KEY}`],
    [
      "a named header with an identifier",
      { apiKeyName: "X-MyApp-Auth-Header", apiKeyIdentifier: "Bearer" },
      "x-myapp-auth-header",
      `Bearer ${API_KEY}`,
    ],
    [
      "an Okta-style SSWS identifier",
      { apiKeyName: "Authorization", apiKeyIdentifier: "SSWS" },
      "authorization",
      `SSWS ${API_KEY}`,
    ],
    [
      "an empty identifier: the bare key",
      { apiKeyName: "x-api-key", apiKeyIdentifier: "" },
      "x-api-key",
      API_KEY,
    ],
    [
      "an empty name (S1, §9 A3): Authorization with no prefix",
      { apiKeyName: "", apiKeyIdentifier: "Bearer" },
      "authorization",
      API_KEY,
    ],
  ] as const)("%s", async (_title, fields, header, value) => {
    const request = await received(apiKey(fields));

    expect(request?.headers[header]).toBe(value);
  });

  it("overrides an Authorization header the request already had instead of sending two", async () => {
    const request = await received(apiKey(), { headers: { authorization: "stale" } });

    expect(request?.headers.authorization).toBe(`token ${API_KEY}`);
  });
});

describe("APIKey in the POST payload", () => {
  const inBody = () => apiKey({ apiKeyName: "provhash", isApiKeyInPostPayload: true });

  it("sends no header and offers {_APIKeyName}/{_APIKey} to the template", async () => {
    const authenticator = inBody();

    const applied = await authenticator.apply(post({ type: "json", value: { cid: "1", provhash: API_KEY } }));

    expect(authenticator.templateVariables).toEqual({ _APIKeyName: "provhash", _APIKey: API_KEY });
    expect(applied.headers).toEqual({});
    expect(applied.body).toEqual({ type: "json", value: { cid: "1", provhash: API_KEY } });
  });

  it("adds the key to a body the template did not put it in (§9 A4), and creates a form body when there is none", async () => {
    const authenticator = inBody();

    const json = await authenticator.apply(post({ type: "json", value: { cmd: "reporting" } }));
    const form = await authenticator.apply(post({ type: "form", value: { cmd: "reporting" } }));
    const none = await authenticator.apply(post());
    const text = await authenticator.apply(
      post({ type: "text", text: "data=%7B%7D", contentType: "application/x-www-form-urlencoded" }),
    );

    expect(json.body).toEqual({ type: "json", value: { cmd: "reporting", provhash: API_KEY } });
    expect(form.body).toEqual({ type: "form", value: { cmd: "reporting", provhash: API_KEY } });
    expect(none.body).toEqual({ type: "form", value: { provhash: API_KEY } });
    expect(text.body).toEqual({
      type: "text",
      text: `data=%7B%7D&provhash=${API_KEY}`,
      contentType: "application/x-www-form-urlencoded",
    });
  });

  it("goes to the query string of a GET, which has no body", async () => {
    const applied = await inBody().apply(get("http://api.example.test/events?cmd=reporting"));

    expect(applied.url.search).toBe(`?cmd=reporting&provhash=${API_KEY}`);
    expect(applied.body).toBeUndefined();
  });

  it("reaches the server in the body, not in a header", async () => {
    const request = await received(inBody(), {
      method: "POST",
      body: { type: "json", value: { cmd: "reporting" } },
    });

    expect(JSON.parse(request?.body ?? "")).toEqual({ cmd: "reporting", provhash: API_KEY });
    expect(request?.headers.authorization).toBeUndefined();
  });

  it("refuses a text body that has no place for the key, naming the field and the remedy", async () => {
    const error = await inBody()
      .apply(post({ type: "text", text: "query { events }", contentType: "application/graphql" }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(AuthError);
    expect(String(error)).toContain("auth.isApiKeyInPostPayload");
    expect(String(error)).toContain("'{_APIKeyName}': '{_APIKey}'");
    expect(String(error)).not.toContain(API_KEY);
  });
});

describe("None", () => {
  it("None leaves the request exactly as it was", async () => {
    const request = get("http://api.example.test/public?x=1");

    expect(await createAuthenticator({ type: "None" }, authDeps()).apply(request)).toBe(request);
  });
});
