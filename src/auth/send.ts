/**
 * The 401 contract in one place: apply credentials, send, and on a 401 let the authenticator renew its
 * credentials once and resend. A second 401 fails with an `AuthError` (never a loop of refreshes).
 */
import { HttpStatusError } from "../engine/errors.ts";
import type {
  Authenticator,
  HttpClient,
  HttpResponse,
  OutgoingRequest,
  SendOptions,
} from "../engine/types.ts";
import { AuthError, describeEndpoint } from "./errors.ts";

export async function sendAuthenticated(
  http: HttpClient,
  authenticator: Authenticator,
  request: OutgoingRequest,
  options: SendOptions = {},
): Promise<HttpResponse> {
  // The credentials just applied (a fresh token, say) are redacted from the error excerpt too.
  const send = async () => {
    const applied = await authenticator.apply(request, options.signal);
    const secrets = [...(options.secrets ?? []), ...(authenticator.credentialValues?.() ?? [])];
    return http.send(applied, { ...options, secrets });
  };
  try {
    return await send();
  } catch (error) {
    if (!isUnauthorized(error) || authenticator.onUnauthorized === undefined) throw error;
    if (!(await authenticator.onUnauthorized(options.signal))) throw error;
  }
  try {
    return await send();
  } catch (error) {
    if (!isUnauthorized(error)) throw error;
    throw new AuthError(
      "unauthorized",
      `${request.method} ${describeEndpoint(request.url)} returned HTTP 401 again after the credentials were renewed`,
      { status: 401, endpoint: request.url },
    );
  }
}

function isUnauthorized(error: unknown): boolean {
  return error instanceof HttpStatusError && error.status === 401;
}
