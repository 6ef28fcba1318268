/** Replaces every bound secret (and its URL-encoded and base64 forms) with `***`. */
export const REDACTED = "***";

/**
 * Returns `text` with every occurrence of each secret replaced. Longest secrets go first so a secret that
 * contains another is removed whole. Encoded forms are covered because secrets travel in query strings
 * (percent-encoded) and in Basic credentials (base64).
 */
export function redact(text: string, secrets: readonly string[]): string {
  const needles = new Set<string>();
  for (const secret of secrets) {
    if (!secret) continue;
    needles.add(secret);
    needles.add(encodeURIComponent(secret));
    needles.add(new URLSearchParams({ s: secret }).toString().slice(2));
    for (const needle of base64Needles(secret)) needles.add(needle);
  }
  needles.delete("");
  let out = text;
  for (const needle of [...needles].sort((a, b) => b.length - a.length)) {
    out = out.split(needle).join(REDACTED);
  }
  return out;
}

/**
 * The base64 of a secret wherever it sits in the encoded text: `Basic base64(user:password)` puts the password
 * mid-group, where its plain base64 never appears. For each of the three alignments, the characters that
 * depend only on the secret's own bytes (the groups mixed with neighbouring bytes are left out).
 */
function base64Needles(secret: string): string[] {
  const needles = [Buffer.from(secret).toString("base64").replace(/=+$/, "")];
  for (const offset of [1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(offset), Buffer.from(secret)]).toString("base64");
    const inner = encoded.slice(4, -4);
    // Too short a run would match unrelated text; such short secrets keep only the aligned form.
    if (inner.length >= 8) needles.push(inner);
  }
  return needles;
}

/** Query parameter names whose values are treated as secret even when not bound from a secret field. */
const sensitiveParam = /key|token|secret|password|passwd|signature|sig$|code|auth|session|hash/i;

/** A query parameter or header name whose value is a credential (`Authorization`, `X-Api-Key`, `Cookie`, …). */
export function isSensitiveName(name: string): boolean {
  return sensitiveParam.test(name) || /^cookie$/i.test(name);
}

/** A URL safe to log: no user info, values of secret-looking query parameters replaced, secrets redacted. */
export function safeUrl(url: URL, secrets: readonly string[] = []): string {
  const copy = new URL(url.href);
  copy.username = "";
  copy.password = "";
  for (const name of new Set(copy.searchParams.keys())) {
    if (isSensitiveName(name)) copy.searchParams.set(name, REDACTED);
  }
  return redact(copy.href, secrets);
}

/**
 * A short excerpt of a response body for error messages, safe to print on one line: a body that is not text is
 * described by its size and first bytes (a corrupt gzip stream pasted as UTF-8 is noise that can drive a
 * terminal), whitespace runs become one space, other control and format characters are escaped, secrets are
 * redacted.
 */
export function excerpt(body: Buffer | string, secrets: readonly string[] = [], max = 200): string {
  if (typeof body !== "string" && looksBinary(body)) {
    const head = [...body.subarray(0, 16)].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
    return `${body.length} bytes of binary data: ${head}${body.length > 16 ? " …" : ""}`;
  }
  const text = typeof body === "string" ? body : body.subarray(0, max * 4).toString("utf8");
  // Secrets are masked before the cut, since a secret cut in half would no longer match.
  const flat = printable(redact(text.replace(/[\t\n\r\v\f ]+/g, " ").trim(), secrets));
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Escapes control and format characters (and U+FFFD, the trace of undecodable bytes) as `\u{…}`. */
export function printable(text: string): string {
  return text.replace(/[\p{Cc}\p{Cf}\uFFFD]/gu, (char) => `\\u{${(char.codePointAt(0) ?? 0).toString(16)}}`);
}

/** More than a few undecodable or control bytes in the first 512: not text a person could read. */
function looksBinary(body: Buffer): boolean {
  const head = body.subarray(0, 512).toString("utf8");
  const noise = (head.match(/[\uFFFD\p{Cc}]/gu) ?? []).filter((char) => !"\t\n\r\v\f".includes(char)).length;
  return noise > Math.max(2, head.length / 20);
}
