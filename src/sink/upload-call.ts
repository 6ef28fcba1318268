/**
 * One Logs Ingestion call whose body is the rows' JSON as already serialized (src/sink/rows.ts), sent through the
 * `LogsIngestionClient`'s own pipeline: its credential and scope, api-version, retry (429 after `Retry-After`, 5xx
 * and network errors with backoff), TLS options and logging all apply as they do to `upload`, and its gzip too, at
 * zlib's fastest level (`compressInPlace` below).
 *
 * Why not `upload`: it takes row objects and serializes every row twice (once to size its chunks, once for the
 * body), about a fifth of the pipeline's CPU, and its public API has no way to pass bytes already made. The
 * request is the one its generated `upload` operation builds: POST
 * `{endpoint}/dataCollectionRules/{ruleId}/streams/{stream}`, JSON, gzip-encoded, 204 on success.
 */
import { constants, gzipSync } from "node:zlib";
import type { HttpClient, PipelineRequest, PipelineResponse, RestError } from "@azure/core-rest-pipeline";
import type { LogsIngestionClient } from "@azure/monitor-ingestion";
import { coreRestPipeline } from "../config/azure-sdk.ts";

const { createDefaultHttpClient, createHttpHeaders, createPipelineRequest } = coreRestPipeline();

export interface UploadCallOptions {
  abortSignal?: AbortSignal | undefined;
  /** The call's bytes go out only once this resolves (gzip is done before), and fail with its error if it rejects. */
  notBefore?: Promise<unknown> | undefined;
}

export type UploadCall = (
  ruleId: string,
  streamName: string,
  body: Uint8Array,
  options?: UploadCallOptions,
) => Promise<void>;

/**
 * Holds each request whose call was given `notBefore` until it resolves. In the Deserialize phase: after the
 * client's gzip policy (no phase), so the body is compressed while the caller still waits (e.g. for the commit
 * of the window before); before the retry phase, so a `notBefore` that rejects is never taken for a network
 * error to retry, and a retried call does not wait again.
 */
export const notBeforePolicyName = "ccpPollerNotBefore";

/** The client's own policy that gzips every body (`@azure/monitor-ingestion`'s GZippingPolicy). */
const clientGzipPolicyName = "GzippingPolicy";

export function uploadCall(
  client: LogsIngestionClient,
  endpoint: string,
  httpClient: HttpClient = createDefaultHttpClient(),
): UploadCall {
  const base = endpoint.replace(/\/+$/, "");
  const notBefore = new WeakMap<PipelineRequest, Promise<unknown>>();
  compressInPlace(client);
  client.pipeline.addPolicy(
    {
      name: notBeforePolicyName,
      async sendRequest(request, next) {
        await notBefore.get(request);
        return next(request);
      },
    },
    { phase: "Deserialize" },
  );
  return async (ruleId, streamName, body, options = {}) => {
    const { abortSignal } = options;
    const request = createPipelineRequest({
      url: `${base}/dataCollectionRules/${encodeURIComponent(ruleId)}/streams/${encodeURIComponent(streamName)}`,
      method: "POST",
      headers: createHttpHeaders({
        "Content-Type": "application/json",
        "Content-Encoding": "gzip",
        Accept: "application/json",
      }),
      body,
      ...(abortSignal !== undefined ? { abortSignal } : {}),
    });
    if (options.notBefore !== undefined) notBefore.set(request, options.notBefore);
    const response = await client.pipeline.sendRequest(httpClient, request);
    if (response.status !== 204) throw serviceError(response);
  };
}

/** The error the SDK's operation throws for a status other than 204: the service's code and message. */
function serviceError(response: PipelineResponse): RestError {
  let code: string | undefined;
  let message = `Unexpected status code: ${response.status}`;
  try {
    const { error } = JSON.parse(response.bodyAsText ?? "") as {
      error?: { code?: unknown; message?: unknown };
    };
    if (typeof error?.code === "string") code = error.code;
    if (typeof error?.message === "string") message = error.message;
  } catch {
    // Not the service's JSON error shape: the status says what happened.
  }
  return new (coreRestPipeline().RestError)(message, {
    statusCode: response.status,
    ...(code !== undefined ? { code } : {}),
    request: response.request,
    response,
  });
}

/**
 * The client gzips each body at zlib's default level on the libuv threadpool; this compresses it at the fastest
 * level, on the spot. Measured (docs/benchmarks.md): 11-17 % less CPU per event in (a) and (c), and about 1 ms less
 * per small window in (d), mostly the threadpool's hand-off on a busy machine; bodies come out about 12 % larger
 * (the service meters rows, not wire bytes). Same name and place in the pipeline: before `notBefore`, so a held
 * call is compressed while it waits.
 */
function compressInPlace(client: LogsIngestionClient): void {
  const removed = client.pipeline.removePolicy({ name: clientGzipPolicyName });
  if (removed.length !== 1) {
    throw new Error(
      `@azure/monitor-ingestion has no "${clientGzipPolicyName}" policy to replace; its bodies would be sent as they are or gzipped twice.`,
    );
  }
  client.pipeline.addPolicy({
    name: clientGzipPolicyName,
    async sendRequest(request, next) {
      // This module's calls carry their body as bytes.
      if (request.body)
        request.body = gzipSync(request.body as Uint8Array, { level: constants.Z_BEST_SPEED });
      return next(request);
    },
  });
}
