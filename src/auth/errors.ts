/**
 * Auth failures. Every message is built here from parts that cannot carry a credential: the status, the
 * endpoint without its query string, and a response excerpt with token-like fields and known secrets
 * masked. The request (headers, body) is never attached, not even as `cause`.
 */

import { REDACTED, redact } from "../engine/redact.ts";

const EXCERPT_CHARS = 200;

/** JSON or form fields whose values are credentials in any token/login response. */
const SECRET_FIELD = /(token|secret|password|passwd|session|jwt|assertion|code|key|cookie)/i;

/**
 * `token-request`: the token/login endpoint failed or refused; `token-response`: it answered 2xx without a
 * usable credential; `configuration`: the auth block cannot work as written; `unauthorized`: the API still
 * answered 401 after the credentials were renewed.
 */
export type AuthErrorKind = "token-request" | "token-response" | "configuration" | "unauthorized";

export class AuthError extends Error {
  override readonly name = "AuthError";
  readonly kind: AuthErrorKind;
  /** HTTP status of the failed token/login request, when there was a response. */
  readonly status: number | undefined;
  /** Origin and path of the endpoint, never its query (which may carry credentials). */
  readonly endpoint: string | undefined;

  constructor(
    kind: AuthErrorKind,
    message: string,
    details: { status?: number; endpoint?: string | URL } = {},
  ) {
    super(message);
    this.kind = kind;
    this.status = details.status;
    this.endpoint = details.endpoint === undefined ? undefined : describeEndpoint(details.endpoint);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      message: this.message,
      status: this.status,
      endpoint: this.endpoint,
    };
  }
}

/** `https://host/path` with no query string or user info. Unparseable input is not echoed. */
export function describeEndpoint(endpoint: string | URL): string {
  try {
    const url = new URL(endpoint);
    return `${url.origin}${url.pathname}`;
  } catch {
    return "<invalid URL>";
  }
}

/** Replaces each secret and its URL-encoded and base64 forms (the engine's redaction, shared). */
export function maskSecrets(text: string, secrets: readonly string[]): string {
  return redact(text, secrets);
}

/**
 * A short, safe excerpt of a response body for an error message: values of token-like JSON or form fields
 * and the known secrets are masked before truncation, so a cut never leaves half a secret behind.
 */
export function safeExcerpt(body: Buffer | string, secrets: readonly string[]): string {
  const text = typeof body === "string" ? body : body.toString("utf8");
  const jsonMasked = text.replace(
    /("([^"\\]*)"\s*:\s*)("(?:[^"\\]|\\.)*"|[^\s,}\]]+)/g,
    (whole, prefix: string, field: string) => (SECRET_FIELD.test(field) ? `${prefix}"${REDACTED}"` : whole),
  );
  const formMasked = jsonMasked.replace(
    /(^|[&?\s])([\w.-]+)=([^&\s]*)/g,
    (whole, lead: string, field: string) =>
      SECRET_FIELD.test(field) ? `${lead}${field}=${REDACTED}` : whole,
  );
  const masked = maskSecrets(formMasked, secrets).replace(/\s+/g, " ").trim();
  return masked.length > EXCERPT_CHARS ? `${masked.slice(0, EXCERPT_CHARS)}…` : masked;
}
