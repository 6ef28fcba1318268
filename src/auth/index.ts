/** The auth registry: one strategy per supported CCP auth type (reference §2). */
import type { AuthType, SupportedAuthConfig } from "../definition/schema.ts";
import { isSensitiveName } from "../engine/redact.ts";
import type { AuthDeps, Authenticator, AuthStrategy } from "../engine/types.ts";
import { apiKeyStrategy } from "./api-key.ts";
import { basicStrategy } from "./basic.ts";
import { ciscoDuoStrategy } from "./cisco-duo.ts";
import { jwtTokenStrategy } from "./jwt-token.ts";
import { noneStrategy } from "./none.ts";
import { oauth2Strategy } from "./oauth2.ts";
import { sessionStrategy } from "./session.ts";

export { AuthError, type AuthErrorKind } from "./errors.ts";
export { sendAuthenticated } from "./send.ts";

export const authStrategies: { [K in AuthType]: AuthStrategy<Extract<SupportedAuthConfig, { type: K }>> } = {
  Basic: basicStrategy,
  APIKey: apiKeyStrategy,
  OAuth2: oauth2Strategy,
  JwtToken: jwtTokenStrategy,
  Session: sessionStrategy,
  None: noneStrategy,
  CiscoDuo: ciscoDuoStrategy,
};

/** Creates the connector's authenticator; call once per run and reuse it so tokens stay cached. */
export function createAuthenticator(config: SupportedAuthConfig, deps: AuthDeps): Authenticator {
  // The mapped type guarantees the strategy matches `config.type`; TypeScript cannot correlate the two.
  const strategy = authStrategies[config.type] as AuthStrategy<SupportedAuthConfig>;
  return recordingCredentials(strategy.create(config, deps));
}

/**
 * Remembers the credential headers `apply` set: a token or session id obtained at run time is as secret as a
 * bound password, and an upstream may echo it in an error body. `Bearer <token>` is kept whole and as its token.
 */
function recordingCredentials(authenticator: Authenticator): Authenticator {
  const seen = new Set<string>();
  return {
    ...authenticator,
    async apply(request, signal) {
      const applied = await authenticator.apply(request, signal);
      for (const [name, value] of Object.entries(applied.headers)) {
        if (request.headers[name] === value || !isSensitiveName(name) || value === "") continue;
        seen.add(value);
        const token = value.split(" ").at(-1) ?? "";
        if (token !== value && token.length >= 8) seen.add(token);
      }
      return applied;
    },
    credentialValues: () => [...seen],
  };
}
