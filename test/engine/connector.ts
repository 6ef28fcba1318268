/** Builds connectors for engine tests the way the loader would, without waiting for the loader. */
import {
  type Connector,
  connectorProperties,
  type SupportedAuthConfig,
} from "../../src/definition/schema.ts";
import { connectorHttpOptions, createEngine } from "../../src/engine/engine.ts";
import { createFakeClock, createHttpClient, type HttpClientOptions } from "../../src/engine/http.ts";
import type { Page, Window } from "../../src/engine/types.ts";

export function makeConnector(
  properties: Record<string, unknown>,
  secrets: readonly string[] = [],
): Connector {
  const parsed = connectorProperties.parse({ auth: { type: "None" }, ...properties });
  return {
    id: "test-connector",
    sourceKind: "RestApiPoller",
    source: { file: "test/connector.json", jsonPath: "$" },
    definitionHash: "0000000000000000",
    properties: { ...parsed, auth: parsed.auth as SupportedAuthConfig },
    secrets,
  };
}

/** A test engine on a fake clock: backoff and Retry-After waits are recorded, never slept. */
export function testEngine(start = "2026-01-01T00:00:00Z", httpOptions: Partial<HttpClientOptions> = {}) {
  const clock = createFakeClock(start);
  const logger = { info() {}, warn() {}, error() {} };
  const engine = createEngine({
    clock,
    logger,
    http: createHttpClient({ clock }),
    createHttpClient: (connector) =>
      createHttpClient({ ...connectorHttpOptions(connector), clock, logger, ...httpOptions }),
  });
  return { engine, clock };
}

export async function collect(pages: AsyncIterable<Page>): Promise<Page[]> {
  const all: Page[] = [];
  for await (const page of pages) all.push(page);
  return all;
}

export const windowOf = (start: string, end: string): Window => ({
  start: new Date(start),
  end: new Date(end),
});
