import { describe, expect, it } from "vitest";
import { excerpt, redact, safeUrl } from "../../src/engine/redact.ts";

describe("redact", () => {
  it("removes secrets in plain, percent-encoded, form-encoded and base64 form", () => {
    const secret = "test-password-a/b c+d";
    const text = [
      secret,
      encodeURIComponent(secret),
      new URLSearchParams({ p: secret }).toString(),
      Buffer.from(secret).toString("base64"),
    ].join(" | ");
    expect(redact(text, [secret])).toBe("*** | *** | p=*** | ***");
  });

  it("removes a longer secret whole even when it contains a shorter one", () => {
    expect(redact("key=test-api-key-1234", ["test-api-key", "test-api-key-1234"])).toBe("key=***");
  });

  it("ignores empty secrets", () => {
    expect(redact("nothing to hide", ["", "absent"])).toBe("nothing to hide");
  });
});

describe("safeUrl and excerpt", () => {
  it("drops user info and masks secret-looking query values", () => {
    const url = new URL(
      "https://user:test-password-1@api.example.test/x?api_key=k1&token=t1&from=2026&limit=5",
    );
    expect(safeUrl(url)).toBe("https://api.example.test/x?api_key=***&token=***&from=2026&limit=5");
  });

  it("flattens control characters and cuts long bodies", () => {
    expect(excerpt("line1\r\nline2\tend", [], 200)).toBe("line1 line2 end");
    expect(excerpt("x".repeat(300), [], 10)).toBe("xxxxxxxxxx…");
  });
});
