/**
 * Turns a loaded definition into what the simulation runs: the connector with its endpoints pointed at the
 * simulated API and its dcrConfig at the Logs Ingestion stand-in, or the reason it cannot be simulated.
 * Only URLs and the destination change; every other field is polled exactly as written.
 */
import { type Connector, connectorProperties } from "../definition/schema.ts";
import { parsePath } from "./formats.ts";

export interface Prepared {
  connector: Connector;
  /** `/c<n>`: the path prefix of this connector on the simulated API. */
  prefix: string;
  dcrId: string;
  stream: string;
}

export interface Destination {
  upstreamOrigin: string;
  ingestionEndpoint: string;
}

/** Why a loaded definition cannot be simulated, or undefined when it can. */
export function cannotSimulate(connector: Connector): string | undefined {
  const { paging, response } = connector.properties;
  // Values left unbound where the schema wants a number or an enum: the simulation has nothing to go on.
  const checked = connectorProperties.safeParse({ ...connector.properties, dcrConfig: undefined });
  if (!checked.success) {
    const issue = checked.error.issues[0];
    return `${issue?.path.join(".")} has no value without settings (unbound parameter); give it with --settings or the environment`;
  }
  if (
    connector.properties.stepInfo !== undefined ||
    connector.properties.stepCollectorConfigs !== undefined
  ) {
    return "nested steps (reference §7): the simulator does not build child-step APIs yet";
  }
  if (paging.pagingType === "Offset" && paging.offsetEndParaName !== undefined) {
    return "paging.offsetEndParaName (an offset range) is not in the reference, so the simulator has no reading of it";
  }
  if (paging.pagingType === "NextPageUrl") {
    return "NextPageUrl paging: how the token reaches the next request is undocumented (reference §9 A18)";
  }
  for (const path of response.eventsJsonPaths) {
    if (parsePath(path) === undefined)
      return `response.eventsJsonPaths ${JSON.stringify(path)} is outside the JSONPath subset the simulator builds`;
  }
  return undefined;
}

export function prepare(connector: Connector, index: number, destination: Destination): Prepared {
  const prefix = `/c${index}`;
  const properties = structuredClone(connector.properties);
  const redirect = (text: string, role: string): string => {
    try {
      if (/\{\{|^\[/.test(text)) throw new Error("unbound");
      const url = new URL(text);
      return `${destination.upstreamOrigin}${prefix}${url.pathname}${url.search}`;
    } catch {
      // An endpoint still holding a parameter: a fixed path stands in for it.
      return `${destination.upstreamOrigin}${prefix}/${role}`;
    }
  };
  properties.request.apiEndpoint = redirect(properties.request.apiEndpoint, "api");
  const auth = properties.auth;
  if (auth.type === "OAuth2" || auth.type === "JwtToken")
    auth.tokenEndpoint = redirect(auth.tokenEndpoint, "token");
  if (auth.type === "Session" && auth.sessionLoginRequestUri) {
    auth.sessionLoginRequestUri = redirect(auth.sessionLoginRequestUri, "login");
  }
  const dcrId = `dcr-${index.toString(16).padStart(32, "0")}`;
  const stream = `Custom-Sim${index}_CL`;
  properties.dcrConfig = {
    dataCollectionEndpoint: destination.ingestionEndpoint,
    dataCollectionRuleImmutableId: dcrId,
    streamName: stream,
  };
  return { connector: { ...connector, properties }, prefix, dcrId, stream };
}
