/** Sink failures. Messages carry the connector, the destination and the service's answer, never a token. */

const EXCERPT_CHARS = 300;

/** The connector cannot be sent anywhere: no `dcrConfig`. Fix the definition or the environment's settings. */
export class SinkConfigurationError extends Error {
  override readonly name = "SinkConfigurationError";
  constructor(
    readonly connectorId: string,
    message: string,
  ) {
    super(message);
  }
}

export interface DeliveryProgress {
  /** Rows the service accepted (204) before the failure. */
  accepted: number;
  /** Rows stored in the dead-letter store before the failure. */
  deadLettered: number;
  /** Rows of the page that were neither: the page is not delivered and its window must not be committed. */
  undelivered: number;
}

/**
 * A page could not be fully delivered. Nothing in `progress.undelivered` reached the service's 204. The SDK
 * error is not attached as `cause`: it holds the request, whose headers carry the bearer token.
 */
export class SinkDeliveryError extends Error {
  override readonly name = "SinkDeliveryError";
  constructor(
    readonly connectorId: string,
    /** HTTP status of the failed call; undefined for network errors and aborts. */
    readonly status: number | undefined,
    readonly progress: DeliveryProgress,
    message: string,
  ) {
    super(message);
  }
}

export function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length > EXCERPT_CHARS ? `${flat.slice(0, EXCERPT_CHARS)}…` : flat;
}
