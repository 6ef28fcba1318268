/** CCP `Basic`: `Authorization: Basic base64(userName:password)` on every data request (reference §2.1). */
import type { SupportedAuthConfig } from "../definition/schema.ts";
import type { AuthStrategy } from "../engine/types.ts";
import { basicCredentials, withHeader } from "./request.ts";

export type BasicAuthConfig = Extract<SupportedAuthConfig, { type: "Basic" }>;

export const basicStrategy: AuthStrategy<BasicAuthConfig> = {
  create(config) {
    const authorization = basicCredentials(config.userName, config.password);
    return {
      templateVariables: {},
      apply: async (request) => withHeader(request, "authorization", authorization),
    };
  },
};
