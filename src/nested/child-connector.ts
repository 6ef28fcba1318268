/**
 * A child step as a connector the engine's single-step machinery can poll: the child's request (placeholders
 * filled), response and paging, with what the reference says a child inherits from the parent when it does
 * not say: auth, headers and (for the parent's window tokens) `queryTimeFormat`.
 */
import type { Connector, SupportedAuthConfig } from "../definition/schema.ts";
import { fillPlaceholders } from "./placeholders.ts";
import type { ChildCall } from "./run.ts";

const NO_PAGING = {
  pagingType: "None",
  pagingInfoPlacement: "QueryString",
  pagingQueryParamOnly: false,
} as const;

/** `call` without placeholders gives the step's shell, which keys its authenticator and HTTP client. */
export function childConnector(
  parent: Connector,
  call: Omit<ChildCall, "placeholders"> & Partial<ChildCall>,
): Connector {
  const { step, stepKey } = call;
  const request = call.placeholders ? fillPlaceholders(step.request, call.placeholders) : step.request;
  const parentRequest = parent.properties.request;
  return {
    ...parent,
    id: `${parent.id}/${stepKey}`,
    source: {
      ...parent.source,
      jsonPath: `${parent.source.jsonPath}.properties.stepCollectorConfigs.${stepKey}`,
    },
    properties: {
      ...parent.properties,
      // Auth types for other connector kinds are refused at load (refuse-nested.ts), here and on the root.
      auth: (step.auth as SupportedAuthConfig | undefined) ?? parent.properties.auth,
      request: {
        ...request,
        queryTimeFormat: request.queryTimeFormat ?? parentRequest.queryTimeFormat,
        ...((request.headers ?? parentRequest.headers)
          ? { headers: request.headers ?? parentRequest.headers }
          : {}),
      },
      response: step.response,
      paging: step.paging ?? NO_PAGING,
      stepInfo: step.stepInfo,
    },
  };
}
