/**
 * `Basic` auth with a `TokenEndpoint` (Palo Alto Prisma Cloud CSPM): not HTTP Basic on the data requests but
 * a login that returns a token. The file spells it with JwtToken's fields (`userName`/`password` as
 * `{ key, value }`, `IsJsonRequest`), so it is read as the JwtToken flow: the credentials are POSTed to
 * `TokenEndpoint` (JSON with `IsJsonRequest`, else a form), the token is read at `jwtTokenJsonPath` (default
 * `$.access_token`, then `$.token`) and sent as `Authorization: Bearer <token>` unless the file sets
 * `apiKeyName`/`NoAccessTokenPrepend` like any JwtToken. Plain-string credentials become `username`/`password`.
 */
import { findKey, isRecord } from "./keys.ts";

/** A copy of `properties` whose Basic-with-TokenEndpoint auth is a JwtToken auth; undefined when not one. */
export function basicLoginAsJwtToken(
  properties: Record<string, unknown>,
): { properties: Record<string, unknown>; authPath: string[] } | undefined {
  const authKey = findKey(properties, "auth");
  const auth = authKey === undefined ? undefined : properties[authKey];
  if (authKey === undefined || !isRecord(auth)) return undefined;
  const typeKey = findKey(auth, "type", "authType");
  if (typeKey === undefined || String(auth[typeKey]).toLowerCase() !== "basic") return undefined;
  if (findKey(auth, "tokenEndpoint") === undefined) return undefined;
  const jwt: Record<string, unknown> = { ...auth, [typeKey]: "JwtToken" };
  for (const [field, key] of [
    ["userName", "username"],
    ["password", "password"],
  ] as const) {
    const found = findKey(jwt, field);
    if (found !== undefined && typeof jwt[found] === "string") jwt[found] = { key, value: jwt[found] };
  }
  return { properties: { ...properties, [authKey]: jwt }, authPath: [authKey, typeKey] };
}
