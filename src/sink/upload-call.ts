/**
 * One Logs Ingestion call whose body is the rows' JSON as already serialized (src/sink/rows.ts), sent through the
 * `LogsIngestionClient`'s own pipeline: its credential and scope, api-version, gzip, retry (429 after
 * `Retry-After`, 5xx and network errors with backoff), TLS options and logging all apply as they do to `upload`.
 *
 * Why not `upload`: it takes row objects and serializes every row twice (once to size its chunks, once for the
 * body), about a fifth of the pipeline's CPU, and its public API has no way to pass bytes already made. The
 * request is the one its generated `upload` operation builds: POST
 * `{endpoint}/dataCollectionRules/{ruleId}/streams/{stream}`, JSON, gzip-encoded, 204 on success.
 */
import type { HttpClient, PipelineResponse, RestError } from "@azure/core-rest-pipeline";
import type { LogsIngestionClient } from "@azure/monitor-ingestion";
import { coreRestPipeline } from "../config/azure-sdk.ts";

const { createDefaultHttpClient, createHttpHeaders, createPipelineRequest } = coreRestPipeline();

export type UploadCall = (
  ruleId: string,
  streamName: string,
  body: Uint8Array,
  abortSignal?: AbortSignal,
) => Promise<void>;

export function uploadCall(
  client: LogsIngestionClient,
  endpoint: string,
  httpClient: HttpClient = createDefaultHttpClient(),
): UploadCall {
  const base = endpoint.replace(/\/+$/, "");
  return async (ruleId, streamName, body, abortSignal) => {
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
