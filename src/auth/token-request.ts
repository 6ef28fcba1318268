/** Sends token and login requests through the engine's HTTP client and turns every failure into a safe `AuthError`. */
import { HttpStatusError } from "../engine/errors.ts";
import { firstJsonPath } from "../engine/jsonpath.ts";
import type { AuthDeps, HttpResponse, OutgoingRequest } from "../engine/types.ts";
import { AuthError, describeEndpoint, maskSecrets, safeExcerpt } from "./errors.ts";

/** A token endpoint that blips once should not fail the whole run; a dead one should fail it quickly. */
const TOKEN_RETRY_COUNT = 2;

export interface TokenRequestContext {
  /** What is being requested, for messages: "OAuth2 token request", "Session login". */
  what: string;
  /** Every credential that could appear in a response or a transport error. */
  secrets: readonly string[];
  timeoutMs?: number;
}

/** Sends the request and returns the 2xx response, or throws an `AuthError` naming status and endpoint only. */
export async function sendTokenRequest(
  deps: AuthDeps,
  request: OutgoingRequest,
  context: TokenRequestContext,
): Promise<HttpResponse> {
  const endpoint = describeEndpoint(request.url);
  let response: HttpResponse;
  try {
    response = await deps.http.send(request, {
      retryCount: TOKEN_RETRY_COUNT,
      secrets: context.secrets,
      ...(context.timeoutMs === undefined ? {} : { timeoutMs: context.timeoutMs }),
    });
  } catch (error) {
    if (error instanceof HttpStatusError) throw rejected(error.status, error.bodyExcerpt);
    // The transport error's cause may hold the request, so only its masked message is kept.
    const reason = error instanceof Error ? error.message : String(error);
    throw new AuthError(
      "token-request",
      `${context.what} to ${endpoint} failed: ${maskSecrets(reason, context.secrets)}`,
      { endpoint: request.url },
    );
  }
  // The client returns 3xx as responses; a token endpoint that redirects has not issued a token.
  if (response.status < 200 || response.status > 299) throw rejected(response.status, response.body);
  return response;

  function rejected(status: number, body: Buffer | string): AuthError {
    return new AuthError(
      "token-request",
      `${context.what} to ${endpoint} returned HTTP ${status}: ${safeExcerpt(body, context.secrets)}`,
      { status, endpoint: request.url },
    );
  }
}

export function parseJsonResponse(response: HttpResponse, context: TokenRequestContext): unknown {
  try {
    return JSON.parse(response.body.toString("utf8"));
  } catch {
    throw invalidResponse(
      response,
      context,
      `a body that is not JSON (content-type ${response.headers["content-type"] ?? "none"}): ${safeExcerpt(response.body, context.secrets)}`,
    );
  }
}

/** The first string (or number) at `path` in `json`; undefined when the path selects nothing usable. */
export function readJsonPath(json: unknown, path: string): string | undefined {
  const first = firstJsonPath(json, path);
  if (typeof first === "string" && first !== "") return first;
  if (typeof first === "number") return String(first);
  return undefined;
}

/** A response that came back 2xx but does not hold what was expected. */
export function invalidResponse(
  response: HttpResponse,
  context: TokenRequestContext,
  problem: string,
): AuthError {
  const endpoint = describeEndpoint(response.url);
  return new AuthError("token-response", `${context.what} to ${endpoint} returned ${problem}`, {
    status: response.status,
    endpoint: response.url,
  });
}

/** `expires_in` as milliseconds, accepting the numeric strings some servers send. */
export function lifetimeFromExpiresIn(expiresIn: unknown): number | undefined {
  const seconds = typeof expiresIn === "string" ? Number(expiresIn) : expiresIn;
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Appends `params` to `base`'s query (which may already have one). */
export function urlWithQuery(
  base: string,
  params: Readonly<Record<string, unknown>> | undefined,
  field: string,
): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new AuthError("configuration", `${field}: expected an absolute URL, got ${JSON.stringify(base)}`);
  }
  for (const [name, value] of Object.entries(params ?? {})) url.searchParams.append(name, String(value));
  return url;
}
