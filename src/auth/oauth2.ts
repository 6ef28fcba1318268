/** CCP `OAuth2`: being implemented; fails clearly until then. */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy } from "../engine/types.ts";
import { AuthError } from "./errors.ts";

export type OAuth2AuthConfig = Extract<SupportedAuthConfig, { type: "OAuth2" }>;

export const oauth2Strategy: AuthStrategy<OAuth2AuthConfig> = {
  create() {
    throw new AuthError("configuration", "auth.type 'OAuth2' is not implemented yet");
  },
};
