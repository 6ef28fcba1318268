/** The state layer's public surface: what the runner and the CLI import. */
export { type Activity, hourlySeries, silentDrop, silentDropRule } from "./activity.ts";
export { createStateTableClient, type StateAuthKind, type StateTableConnection } from "./config.ts";
export {
  ConnectorNotRegisteredError,
  LeaseLostError,
  StateConfigError,
  StateError,
  StateUnavailableError,
  StateValueTooLargeError,
  WindowNotContiguousError,
} from "./errors.ts";
export { defaultHistoryRetention, type RunOutcome, type RunRecord } from "./history.ts";
export type { HealthNote, Lease, LeaseOptions } from "./lease.ts";
export {
  defaultStatusPolicy,
  deriveStatus,
  formatWindow,
  limits,
  type StatusPolicy,
  sameWindow,
  type TotalCounts,
  type WatermarkRow,
  type WatermarkStatus,
  type WindowCounts,
} from "./row.ts";
export {
  createWatermarkStore,
  defaultLeaseOwner,
  type RegisteredConnector,
  type WatermarkStore,
  type WatermarkStoreOptions,
} from "./watermark-store.ts";
