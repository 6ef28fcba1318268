/**
 * The status endpoint's document: the on-call lines (the same `statusView` the CLI prints), plus what the lines
 * cannot show — definitions that never loaded and connectors loaded but never polled have no watermark row.
 */
import { formatRefusal, type LoadResult } from "../definition/index.ts";
import { redact } from "../engine/redact.ts";
import type { WatermarkRow } from "../state/index.ts";
import { type StatusLine, statusView } from "./view.ts";

export interface StatusPage {
  generatedAt: string;
  /** The on-call lines, worst first: the same field and shape as `ccp-poller status --json`. */
  connectors: StatusLine[];
  /** Loaded connectors with no row yet: the timer has not reached them. */
  notPolledYet: string[];
  /** Definitions that failed to load or were refused: never polled, so they have no line. */
  definitionProblems: string[];
  /** The table the lines were read from, for the empty state. */
  stateTable: string;
}

export function buildStatusPage(input: {
  rows: readonly WatermarkRow[];
  now: Date;
  load: LoadResult;
  stateTable: string;
}): StatusPage {
  const { rows, now, load } = input;
  const withRow = new Set(rows.map((row) => row.connectorId));
  const secrets = load.connectors.flatMap((connector) => connector.secrets);
  return {
    generatedAt: now.toISOString(),
    connectors: statusView(rows, now),
    notPolledYet: load.connectors.map((c) => c.id).filter((id) => !withRow.has(id)),
    // Definition errors never quote a secret; redacting again costs nothing and survives a future mistake.
    definitionProblems: [...load.errors.map((e) => e.message), ...load.refused.map(formatRefusal)].map(
      (text) => redact(text, secrets),
    ),
    stateTable: input.stateTable,
  };
}
