/** CCP `Session`: being implemented; fails clearly until then. */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy } from "../engine/types.ts";
import { AuthError } from "./errors.ts";

export type SessionAuthConfig = Extract<SupportedAuthConfig, { type: "Session" }>;

export const sessionStrategy: AuthStrategy<SessionAuthConfig> = {
  create() {
    throw new AuthError("configuration", "auth.type 'Session' is not implemented yet");
  },
};
