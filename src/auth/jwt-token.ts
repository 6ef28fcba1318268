/** CCP `JwtToken`: being implemented; fails clearly until then. */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy } from "../engine/types.ts";
import { AuthError } from "./errors.ts";

export type JwtTokenAuthConfig = Extract<SupportedAuthConfig, { type: "JwtToken" }>;

export const jwtTokenStrategy: AuthStrategy<JwtTokenAuthConfig> = {
  create() {
    throw new AuthError("configuration", "auth.type 'JwtToken' is not implemented yet");
  },
};
