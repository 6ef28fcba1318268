/** The auth registry: one strategy per supported CCP auth type (reference §2). */
import type { AuthType, SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthDeps, Authenticator, AuthStrategy } from "../engine/types.ts";
import { apiKeyStrategy } from "./api-key.ts";
import { basicStrategy } from "./basic.ts";
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
};

/** Creates the connector's authenticator; call once per run and reuse it so tokens stay cached. */
export function createAuthenticator(config: SupportedAuthConfig, deps: AuthDeps): Authenticator {
  // The mapped type guarantees the strategy matches `config.type`; TypeScript cannot correlate the two.
  const strategy = authStrategies[config.type] as AuthStrategy<SupportedAuthConfig>;
  return strategy.create(config, deps);
}
