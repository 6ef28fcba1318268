/**
 * Typed errors of the state layer. The runner branches on the class: LeaseLostError = stop this connector
 * without writing; StateUnavailableError = storage is down, retry the run later; the others are bugs or
 * configuration to fix.
 */

/** Base class, so callers can tell state failures from upstream or sink failures. */
export class StateError extends Error {
  override name = "StateError";
}

/** The settings do not describe a usable table connection. */
export class StateConfigError extends StateError {
  override name = "StateConfigError";
}

/** Table Storage cannot be reached (connection refused, DNS, timeout, 5xx). Nothing was written. */
export class StateUnavailableError extends StateError {
  override name = "StateUnavailableError";
  constructor(
    message: string,
    readonly tableUrl: string,
  ) {
    super(message);
  }
}

/**
 * Another writer changed the row since this lease last saw it (412): another runner owns the connector now,
 * or an operator reset it. Stop polling this connector and do not write again.
 */
export class LeaseLostError extends StateError {
  override name = "LeaseLostError";
  constructor(
    readonly connectorId: string,
    readonly owner: string,
  ) {
    super(
      `Lease on connector "${connectorId}" held by "${owner}" was lost: the watermark row changed under it.`,
    );
  }
}

/** A commit that would leave a hole or move backwards; nothing was written. */
export class WindowNotContiguousError extends StateError {
  override name = "WindowNotContiguousError";
}

/** A value would exceed what the table (or an on-call) can take; nothing was written. */
export class StateValueTooLargeError extends StateError {
  override name = "StateValueTooLargeError";
}

/** The connector has no watermark row yet: call `register(connector)` first. */
export class ConnectorNotRegisteredError extends StateError {
  override name = "ConnectorNotRegisteredError";
}
