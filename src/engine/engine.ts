/**
 * The engine: plans windows and polls one window as an async stream of pages.
 *
 * Per connector (keyed by id, definition hash and bound secrets) the engine keeps one Authenticator (tokens stay cached)
 * and one HttpClient (its QPS budget covers every request of the connector). A window's pages are fetched
 * one after another and yielded as soon as each is decoded, so a window is never held in memory. A 401
 * triggers `onUnauthorized()` once and one retry. Every error that leaves the engine has the connector's
 * secrets redacted from its message and stack.
 */
import { createHash } from "node:crypto";
import { createAuthenticator } from "../auth/index.ts";
import { sendAuthenticated } from "../auth/send.ts";
import type { Connector, ResponseConfig } from "../definition/schema.ts";
import { childConnector } from "../nested/child-connector.ts";
import { extractRecords } from "../nested/records.ts";
import { nestedPages, type RecordPage } from "../nested/run.ts";
import { pagingStrategies } from "../paging/index.ts";
import type { PagingStrategy } from "../paging/types.ts";
import { EngineError } from "./errors.ts";
import { createHttpClient, type HttpClientOptions } from "./http.ts";
import { excerpt, redact } from "./redact.ts";
import { buildRequest } from "./request.ts";
import { decodeBody, decodeResponse } from "./response.ts";
import type {
  Authenticator,
  Engine,
  EngineDeps,
  HttpClient,
  HttpResponse,
  OutgoingRequest,
  Page,
  PollOptions,
  Window,
} from "./types.ts";
import { planWindows } from "./windows.ts";

export const DEFAULT_MAX_PAGES = 10_000;

/** The HTTP client options a connector's definition implies (QPS budget, rate-limit headers, secrets). */
export function connectorHttpOptions(connector: Connector): HttpClientOptions {
  const { rateLimitQPS, rateLimitConfig } = connector.properties.request;
  return {
    ...(rateLimitQPS !== undefined ? { rateLimitQPS } : {}),
    ...(rateLimitConfig !== undefined ? { rateLimitConfig } : {}),
    secrets: connector.secrets,
  };
}

interface ConnectorClients {
  auth: Authenticator;
  http: HttpClient;
}

export function createEngine(deps: EngineDeps): Engine {
  const clients = new Map<string, ConnectorClients>();
  const clientsFor = (connector: Connector): ConnectorClients => {
    // Bound secrets are part of the key: a rotated password must not keep using the old authenticator.
    const secrets = createHash("sha256").update(connector.secrets.join("\u0000")).digest("hex");
    const key = `${connector.id}\u0000${connector.definitionHash}\u0000${secrets}`;
    let entry = clients.get(key);
    if (!entry) {
      entry = {
        auth: createAuthenticator(connector.properties.auth, { http: deps.http, clock: deps.clock }),
        http:
          deps.createHttpClient?.(connector) ??
          createHttpClient({ ...connectorHttpOptions(connector), clock: deps.clock, logger: deps.logger }),
      };
      clients.set(key, entry);
    }
    return entry;
  };

  /** Bound secrets plus the credentials the connector's authenticator has sent so far (tokens, session ids). */
  const secretsOf = (connector: Connector): string[] => [
    ...connector.secrets,
    ...(clientsFor(connector).auth.credentialValues?.() ?? []),
    // Tokens of child steps with auth of their own (nested polling).
    ...Object.entries(connector.properties.stepCollectorConfigs ?? {})
      .filter(([, step]) => step.auth !== undefined)
      .flatMap(
        ([stepKey, step]) =>
          clientsFor(childConnector(connector, { stepKey, step })).auth.credentialValues?.() ?? [],
      ),
  ];

  async function* pollWindow(
    connector: Connector,
    window: Window,
    options: PollOptions = {},
  ): AsyncGenerator<Page> {
    try {
      yield* pages(connector, window, options);
    } catch (error) {
      throw redactError(error, secretsOf(connector));
    }
  }

  async function* pages(connector: Connector, window: Window, options: PollOptions): AsyncGenerator<Page> {
    if (!connector.properties.stepInfo) {
      yield* stepPages(connector, window, options, "events");
      return;
    }
    const parentAuth = clientsFor(connector).auth;
    yield* nestedPages(
      connector.properties,
      (signal) => recordPages(stepPages(connector, window, { ...options, signal }, "records")),
      (call, signal) => {
        const child = childConnector(connector, call);
        // A child without auth of its own uses the parent's authenticator, and so its cached token.
        const auth = call.step.auth ? undefined : parentAuth;
        const childOptions = {
          signal,
          ...(options.maxPages !== undefined ? { maxPages: options.maxPages } : {}),
        };
        return recordPages(stepPages(child, window, childOptions, "records", connector, auth));
      },
      options.signal,
    );
  }

  async function* recordPages(source: AsyncIterable<Page>): AsyncGenerator<RecordPage> {
    for await (const page of source) {
      yield {
        records: page.events,
        bytes: page.bytes,
        ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
      };
    }
  }

  /**
   * One step's pages. `events` mode holds each page to the response contract; `records` mode (the steps of
   * a nested connector) takes what the paths select as records for the placeholder queries. A child step's
   * client (its own QPS budget) is kept under its id, `<parent id>/<step>`, across calls and windows; `root`
   * is the connector whose secrets, and whose child steps' tokens, errors must not show.
   */
  async function* stepPages(
    connector: Connector,
    window: Window,
    options: PollOptions,
    mode: "events" | "records",
    root: Connector = connector,
    authOverride?: Authenticator,
  ): AsyncGenerator<Page> {
    const { auth: ownAuth, http } = clientsFor(connector);
    const auth = authOverride ?? ownAuth;
    const { request: requestConfig, response: responseConfig, paging } = connector.properties;
    const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
    const sendOptions = {
      timeoutMs: requestConfig.timeoutInSeconds * 1000,
      retryCount: requestConfig.retryCount,
      ...(options.signal ? { signal: options.signal } : {}),
    };

    const base = buildRequest(connector, { window, templateVariables: auth.templateVariables });
    const session = (pagingStrategies[paging.pagingType] as PagingStrategy).start(paging, {
      request: base,
      ...(options.cursor !== undefined ? { cursor: options.cursor } : {}),
      allowedOrigins: allowedOrigins(connector, base.url),
    });

    const seen = new Map<string, number>();
    let request: OutgoingRequest | undefined = session.first();
    let eventsSoFar = 0;
    for (let number = 1; request; number++) {
      if (number > maxPages) {
        throw new EngineError(
          "paging",
          `${connector.source.file}: more than ${maxPages} pages in window ${window.start.toISOString()}/` +
            `${window.end.toISOString()}; stopped (raise PollOptions.maxPages if the API really returns this much)`,
        );
      }
      const fingerprint = requestFingerprint(request);
      const earlier = seen.get(fingerprint);
      if (earlier !== undefined) {
        throw new EngineError(
          "paging",
          `${connector.source.file}: page ${number} would repeat the request of page ${earlier} ` +
            `(${paging.pagingType} returned the same next-page token or URL); stopped to avoid a loop`,
        );
      }
      seen.set(fingerprint, number);

      const page = await readPage(number, request);
      yield page.page;
      request = page.next;
    }

    /**
     * One page's request, decoding and paging step. Its own scope, so the raw body and the parsed document are
     * not held while the page is delivered (only the events are).
     */
    async function readPage(
      number: number,
      request: OutgoingRequest,
    ): Promise<{ page: Page; next: OutgoingRequest | undefined }> {
      const response = await sendAuthenticated(http, auth, request, sendOptions);
      const { document, events } =
        mode === "events"
          ? decodeResponse(responseConfig, response, secretsOf(root))
          : recordsOf(responseConfig, response, secretsOf(root));
      if (requestConfig.logResponseContent) {
        deps.logger.info("response content", {
          connector: connector.id,
          page: number,
          status: response.status,
          content: excerpt(JSON.stringify(document) ?? "", secretsOf(root), 4000),
        });
      }
      eventsSoFar += events.length;
      const next = session.next({ number, request, response, document, events, eventsSoFar });
      const cursor = session.cursor?.();
      return {
        page: { number, events, bytes: response.body.length, ...(cursor !== undefined ? { cursor } : {}) },
        next,
      };
    }
  }

  return {
    planWindows: (connector, committedThrough, options) => planWindows(connector, committedThrough, options),
    pollWindow,
  };
}

function recordsOf(config: ResponseConfig, response: HttpResponse, secrets: readonly string[]) {
  const { document } = decodeBody(config, response, secrets);
  return { document, events: extractRecords(config, document) };
}

function allowedOrigins(connector: Connector, endpoint: URL): string[] {
  const origins = [endpoint.origin];
  const paging = connector.properties.paging;
  if (paging.pagingType === "NextPageUrl" && paging.nextPageUrl) {
    try {
      origins.push(new URL(paging.nextPageUrl).origin);
    } catch {
      // A relative nextPageUrl resolves against the endpoint, whose origin is already allowed.
    }
  }
  return origins;
}

/**
 * Identifies a request for the loop guard: same method, URL, headers and body means the same page. Hashed,
 * so a window of many pages keeps a few bytes per page (and no request bodies).
 */
function requestFingerprint(request: OutgoingRequest): string {
  const identity = JSON.stringify([request.method, request.url.href, request.headers, request.body ?? null]);
  return createHash("sha256").update(identity).digest("base64");
}

function redactError(error: unknown, secrets: readonly string[]): unknown {
  if (!(error instanceof Error) || secrets.length === 0) return error;
  const message = redact(error.message, secrets);
  const stack = error.stack === undefined ? undefined : redact(error.stack, secrets);
  if (message !== error.message || stack !== error.stack) {
    // Own properties, because some errors (DOMException) only have getters for these.
    Object.defineProperty(error, "message", { value: message, writable: true, configurable: true });
    Object.defineProperty(error, "stack", { value: stack, writable: true, configurable: true });
  }
  // Fields such as HttpStatusError.bodyExcerpt travel with the error into whatever logs it whole.
  for (const [name, value] of Object.entries(error)) {
    const descriptor = Object.getOwnPropertyDescriptor(error, name);
    if (typeof value === "string" && descriptor?.writable) {
      Object.defineProperty(error, name, { ...descriptor, value: redact(value, secrets) });
    }
  }
  return error;
}
