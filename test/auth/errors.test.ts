import { describe, expect, it } from "vitest";
import { AuthError, safeExcerpt } from "../../src/auth/errors.ts";

describe("safeExcerpt", () => {
  it("masks token-like JSON and form fields and known secrets, keeping the rest readable", () => {
    const body =
      '{"error":"invalid_grant","access_token":"eyJ.abc.def","expires_in":3600,' +
      '"note":"key test-secret-1 was wrong"} refresh_token=test-rt-9&state=ok';

    const excerpt = safeExcerpt(body, ["test-secret-1"]);

    expect(excerpt).toBe(
      '{"error":"invalid_grant","access_token":"***","expires_in":3600,"note":"key *** was wrong"} refresh_token=***&state=ok',
    );
  });

  it("masks before truncating, so a long body never ends in half a token", () => {
    const excerpt = safeExcerpt(`${"x".repeat(190)} {"id_token":"${"t".repeat(50)}"}`, []);

    expect(excerpt).not.toContain("ttt");
    expect(excerpt.endsWith("…")).toBe(true);
  });
});

describe("AuthError", () => {
  it("keeps only origin and path of the endpoint, dropping user info and query", () => {
    const error = new AuthError("token-request", "failed", {
      status: 400,
      endpoint: "https://user:test-password-q@login.example.test/oauth/token?client_secret=test-secret-2",
    });

    expect(error.endpoint).toBe("https://login.example.test/oauth/token");
    expect(JSON.stringify(error)).toBe(
      '{"name":"AuthError","kind":"token-request","message":"failed","status":400,"endpoint":"https://login.example.test/oauth/token"}',
    );
  });
});
