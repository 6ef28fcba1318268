/** CCP `None`: a public API; requests go out unchanged. */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy } from "../engine/types.ts";

export type NoneAuthConfig = Extract<SupportedAuthConfig, { type: "None" }>;

export const noneStrategy: AuthStrategy<NoneAuthConfig> = {
  create() {
    return { templateVariables: {}, apply: async (request) => request };
  },
};
