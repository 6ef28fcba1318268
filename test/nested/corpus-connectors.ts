/**
 * Two real nested definitions from ../shared/ccp-corpus, loaded in place with settings that point them at
 * their fakes: CyberArk EPM's raw events (child NextPageToken paging, window filter in the child's body) and
 * BigID DSPM (two joining steps, two deep). Their hosts stay as written; a dispatcher takes every request,
 * token calls included, to the fake's loopback origin, as DNS would.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { Agent, type Dispatcher } from "undici";
import { loadConnectors } from "../../src/definition/load.ts";
import type { Connector } from "../../src/definition/schema.ts";
import { createFakeClock } from "../../src/engine/clock.ts";
import { connectorHttpOptions, createEngine } from "../../src/engine/engine.ts";
import { createHttpClient } from "../../src/engine/http.ts";
import type { Clock, Logger } from "../../src/engine/types.ts";
import { BIGID_USER_TOKEN } from "../fakes/bigid.ts";
import { EPM_CLIENT_SECRET } from "../fakes/cyberark-epm.ts";

export const corpusDir = path.resolve(import.meta.dirname, "../../../shared/ccp-corpus");
/** The nested tests run real corpus files; without ../shared they skip with this message. */
export const corpusPresent = existsSync(corpusDir);
if (!corpusPresent)
  console.warn(`nested corpus tests skipped: ${corpusDir} is absent (clone ../shared beside the repo)`);
export const EPM_FILE = path.join(corpusDir, "CyberArkEPM__CyberArkEPM_CCF__CyberArkEPM_PollingConfig.json");
export const EPM_ID = "Idira EPM Raw Events Polling Config";
export const BIGID_FILE = path.join(corpusDir, "BigID__BigIDDSPMLogs_PollerConfig.json");
export const BIGID_ID = "BigIDDSPMCatalog";
export const DCR_ID = "dcr-00000000000000000000000000000e57";

export function epmEnv(dataCollectionEndpoint: string): Record<string, string> {
  const p = "CCP_IDIRA_EPM_RAW_EVENTS_POLLING_CONFIG_";
  return {
    [`${p}DATACOLLECTIONENDPOINT`]: dataCollectionEndpoint,
    [`${p}DATACOLLECTIONRULEIMMUTABLEID`]: DCR_ID,
    [`${p}CLIENTID`]: "test-client-id-epm",
    [`${p}CLIENTSECRET`]: EPM_CLIENT_SECRET,
    [`${p}IDENTITYENDPOINT`]: "identity.epm.example.test",
    [`${p}WEBAPPID`]: "sentinel-app",
    [`${p}TENANTURL`]: "tenant.epm.example.test",
  };
}

export function bigIdEnv(dataCollectionEndpoint: string): Record<string, string> {
  const p = "CCP_BIGIDDSPMCATALOG_";
  return {
    [`${p}DATACOLLECTIONENDPOINT`]: dataCollectionEndpoint,
    [`${p}DATACOLLECTIONRULEIMMUTABLEID`]: DCR_ID,
    [`${p}BIGIDTOKEN`]: BIGID_USER_TOKEN,
    [`${p}BIGIDFQDN`]: "bigid.example.test",
  };
}

export async function loadCorpusConnector(
  file: string,
  id: string,
  env: Record<string, string>,
): Promise<Connector> {
  const result = await loadConnectors([file], { env });
  const connector = result.connectors.find((c) => c.id === id);
  if (!connector) {
    throw new Error(
      `${id} did not load: ${result.errors.map((e) => e.message).join("; ") || "not in the file"}`,
    );
  }
  return connector;
}

/** Sends every request, whatever its host, to `origin`. */
export function towards(origin: string): Agent & Dispatcher {
  return new Agent().compose(
    (dispatch) => (request, handler) => dispatch({ ...request, origin }, handler),
  ) as Agent & Dispatcher;
}

export function nestedEngine(dispatcher: Dispatcher, clock: Clock = createFakeClock("2026-01-01T01:00:30Z")) {
  const logger: Logger = { info() {}, warn() {}, error() {} };
  return createEngine({
    clock,
    logger,
    http: createHttpClient({ clock, logger, dispatcher }),
    createHttpClient: (connector) =>
      createHttpClient({ ...connectorHttpOptions(connector), clock, logger, dispatcher }),
  });
}
