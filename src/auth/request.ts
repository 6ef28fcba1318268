/** Small immutable helpers for adding credentials to an `OutgoingRequest`. */
import type { OutgoingRequest } from "../engine/types.ts";

/** Returns a copy of the request with the header set (names are lower-case on `OutgoingRequest`). */
export function withHeader(request: OutgoingRequest, name: string, value: string): OutgoingRequest {
  return { ...request, headers: { ...request.headers, [name.toLowerCase()]: value } };
}

/** Copies `headers` with lower-case names, as `OutgoingRequest` requires. */
export function lowerCaseHeaders(
  headers: Readonly<Record<string, string>> | undefined,
): Record<string, string> {
  const lowered: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) lowered[name.toLowerCase()] = value;
  return lowered;
}

export function basicCredentials(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, "utf8").toString("base64")}`;
}

/** `prefix value`, or the bare value when the prefix is empty. */
export function prefixed(prefix: string, value: string): string {
  return prefix === "" ? value : `${prefix} ${value}`;
}
