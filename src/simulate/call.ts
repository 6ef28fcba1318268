/**
 * One request as the simulated API received it, decoded once: query, headers, and the body read as JSON
 * or form fields by its Content-Type. Every check answers with a `Verdict` naming the definition field.
 */
import type { IncomingMessage } from "node:http";

export interface Call {
  method: string;
  url: URL;
  /** Lower-case names. */
  headers: Record<string, string>;
  bodyText: string;
  /** The body's fields: a JSON value, form fields as an object, or undefined when there is no body. */
  body: unknown;
}

export type Verdict = { ok: true } | Rejection;

export interface Rejection {
  ok: false;
  status: 400 | 401 | 404 | 405;
  /** The definition field the request contradicts, e.g. `request.startTimeAttributeName`. */
  field: string;
  reason: string;
}

export const accepted: Verdict = { ok: true };

export function reject(status: Rejection["status"], field: string, reason: string): Rejection {
  return { ok: false, status, field, reason };
}

export async function readCall(request: IncomingMessage, origin: string): Promise<Call> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const bodyText = Buffer.concat(chunks).toString("utf8");
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return {
    method: (request.method ?? "GET").toUpperCase(),
    url: new URL(request.url ?? "/", origin),
    headers,
    bodyText,
    body: parseBody(bodyText, headers["content-type"] ?? ""),
  };
}

function parseBody(text: string, contentType: string): unknown {
  if (text === "") return undefined;
  if (/form-urlencoded/i.test(contentType)) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text);
  } catch {
    return /=/.test(text) ? Object.fromEntries(new URLSearchParams(text)) : text;
  }
}

/** A body field (top-level), as text; undefined when absent. */
export function bodyField(call: Call, name: string): string | undefined {
  const body = call.body;
  if (typeof body !== "object" || body === null || Array.isArray(body)) return undefined;
  const value = (body as Record<string, unknown>)[name];
  if (value === undefined) return undefined;
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** A parameter sent in the query string, or (POST) in the body: the reference leaves the placement open (§9 A13). */
export function param(call: Call, name: string): string | undefined {
  return call.url.searchParams.get(name) ?? (call.method === "GET" ? undefined : bodyField(call, name));
}

export const basicCredentials = (user: string, password: string): string =>
  `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
