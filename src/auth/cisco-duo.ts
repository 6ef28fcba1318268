/**
 * `CiscoDuo` (Cisco Duo's Admin API, as the Cisco Duo solution's pollers declare it): `APIKey` is the
 * integration key, `ClientSecret` the secret key. Each request is signed as Duo's Admin API documents
 * (signature v2): the canonical text is the lines
 *
 *   RFC 2822 date, METHOD, lower-cased host, path, parameters
 *
 * joined by `\n`, where the parameters are sorted by name and written `name=value` with RFC 3986 encoding
 * (only `A-Z a-z 0-9 - . _ ~` left as is) and joined by `&`: the query string of a GET, or the form body of
 * a POST. The request carries `Date: <that date>` and `Authorization: Basic base64(ikey:hex(HMAC-SHA1(skey,
 * text)))`. The signature covers the request as sent, so it is computed per request on the injected clock.
 * A JSON body would need Duo's v5 signature (a body hash), which no CCP connector uses: refused as configuration.
 */
import { createHmac } from "node:crypto";
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy, OutgoingRequest } from "../engine/types.ts";
import { AuthError } from "./errors.ts";
import { basicCredentials } from "./request.ts";

export type CiscoDuoAuthConfig = Extract<SupportedAuthConfig, { type: "CiscoDuo" }>;

export const ciscoDuoStrategy: AuthStrategy<CiscoDuoAuthConfig> = {
  create(config, deps) {
    return {
      templateVariables: {},
      async apply(request) {
        const date = rfc2822(deps.clock.now());
        const signature = createHmac("sha1", config.clientSecret)
          .update(canonicalText(request, date))
          .digest("hex");
        return {
          ...request,
          headers: {
            ...request.headers,
            date,
            authorization: basicCredentials(config.apiKey, signature),
          },
        };
      },
    };
  },
};

/** The text Duo signs for this request. */
function canonicalText(request: OutgoingRequest, date: string): string {
  return [
    date,
    request.method.toUpperCase(),
    request.url.host.toLowerCase(),
    request.url.pathname,
    canonicalParameters(signedParameters(request)),
  ].join("\n");
}

function canonicalParameters(params: ReadonlyArray<readonly [string, string]>): string {
  return params
    .map(([name, value]) => [rfc3986(name), rfc3986(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
}

function signedParameters(request: OutgoingRequest): Array<[string, string]> {
  const body = request.body;
  if (body === undefined) return [...request.url.searchParams];
  if (body.type === "form") return Object.entries(body.value);
  if (body.type === "text" && body.contentType.startsWith("application/x-www-form-urlencoded")) {
    return [...new URLSearchParams(body.text)];
  }
  throw new AuthError(
    "configuration",
    "auth type CiscoDuo signs query or form parameters; a JSON or text body needs Duo's v5 signature, which is not implemented",
  );
}

/** encodeURIComponent leaves `!'()*` as is; RFC 3986 (and Duo) encode them. */
function rfc3986(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `Tue, 21 Aug 2012 17:29:18 -0000`, as Python's email.utils.formatdate() writes it for Duo's clients. */
function rfc2822(at: Date): string {
  return at.toUTCString().replace(/GMT$/, "-0000");
}
