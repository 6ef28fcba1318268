/**
 * What the operator commands share, so that no command imports another: exit codes, the app settings a command
 * runs with, failure handling, progress display, plain text tables and the status table.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { AppSettingError, type Env } from "../config/app-settings.ts";
import { DefinitionError, formatRefusal, formatWarning } from "../definition/errors.ts";
import { parseDefinitionJson } from "../definition/parse.ts";
import type { Connector } from "../definition/schema.ts";
import type { Runtime } from "../runner/runtime.ts";
import type { WindowReport } from "../runner/types.ts";
import { SinkConfigurationError } from "../sink/errors.ts";
import { ConnectorNotRegisteredError, StateError } from "../state/index.ts";
import type { StatusLine } from "../status/view.ts";
import type { CliIo } from "./io.ts";

/** What every command's exit code means (docs/cli.md: "Exit codes"). */
export const exitCodes = {
  ok: 0,
  /** A connector failed, a definition has errors, a replay was refused, or the connector is unknown. */
  failed: 1,
  /** Unknown command or option, a missing argument, a time that is not ISO 8601. */
  usage: 2,
  /** The watermark table or the sink cannot be used: storage down or misconfigured. */
  unavailable: 3,
  /** The user answered no to a confirmation. */
  declined: 4,
} as const;

export interface SettingsOption {
  settings?: string;
}

/** Adds `--settings`, shared by every command that reads app settings. */
export function withSettingsOption(command: Command): Command {
  return command.option(
    "--settings <file>",
    "a local.settings.json whose Values become app settings (variables already set in the environment win)",
  );
}

/**
 * The app settings a command runs with: the environment, plus the `Values` of a local.settings.json where the
 * environment does not set them (the Functions host's precedence).
 */
export async function commandEnv(io: CliIo, options: SettingsOption): Promise<Env> {
  const file = options.settings;
  if (file === undefined) return io.env;
  const parsed = parseDefinitionJson(await readFile(file, "utf8"), file);
  const values = (parsed as { Values?: unknown }).Values;
  if (typeof values !== "object" || values === null || Array.isArray(values)) {
    throw new DefinitionError(file, "$.Values", "an object of app settings", describe(values));
  }
  const fromFile = Object.fromEntries(
    Object.entries(values).map(([name, value]) => {
      if (typeof value !== "string") {
        throw new DefinitionError(
          options.settings as string,
          `$.Values.${name}`,
          "a string",
          describe(value),
        );
      }
      return [name, value];
    }),
  );
  const set = Object.fromEntries(
    Object.entries(io.env).filter(([, value]) => value !== undefined && value !== ""),
  );
  return { ...fromFile, ...set };
}

const describe = (value: unknown): string => (value === undefined ? "nothing" : JSON.stringify(value));

/**
 * Runs a command body and turns the failures an operator can act on into a message and an exit code: broken
 * settings files, unreachable or misconfigured storage, an unconfigured sink. Anything else is a bug and throws.
 */
export async function guarded(
  io: CliIo,
  exit: (code: number) => void,
  body: () => Promise<number>,
): Promise<void> {
  try {
    exit(await body());
  } catch (error) {
    if (error instanceof DefinitionError || error instanceof ConnectorNotRegisteredError) {
      io.stderr(error.message);
      exit(exitCodes.failed);
    } else if (
      error instanceof StateError ||
      error instanceof SinkConfigurationError ||
      error instanceof AppSettingError
    ) {
      io.stderr(`${error.name}: ${error.message}`);
      exit(exitCodes.unavailable);
    } else {
      throw error;
    }
  }
}

/** Parses an ISO 8601 time given on the command line; undefined when it is not one. */
export function parseTime(text: string): Date | undefined {
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return undefined;
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Definition errors, refusals and warnings of a runtime's load, on stderr. */
export function reportLoad(io: CliIo, runtime: Runtime): void {
  for (const refusal of runtime.load.refused) io.stderr(formatRefusal(refusal));
  for (const warning of runtime.load.warnings) io.stderr(formatWarning(warning));
  for (const error of runtime.load.errors) io.stderr(error.message);
}

/** Left-aligned columns separated by two spaces; the header underlined with dashes. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)];
}

export interface Progress {
  window(report: WindowReport): void;
  /** A log line for stderr. */
  log(line: string): void;
  /** The live lines are done: prints the log lines held back. */
  end(): void;
}

/**
 * Progress per connector and window. On a terminal each connector has one line, redrawn in place as its
 * windows complete, and log lines wait until `end()` so they never break the redraw; otherwise (a pipe, a log
 * file, CI) every window is one appended line and log lines go out at once.
 */
export function createProgress(io: CliIo): Progress {
  const describe = (report: WindowReport, done: number) =>
    `${report.connectorId}  ${report.outcome === "committed" ? "ok" : "FAILED"} ${report.window.start.toISOString()} → ${report.window.end.toISOString()}  pages ${report.counts.pages}  accepted ${report.counts.accepted}${done > 1 ? `  (${done} windows)` : ""}${report.error !== undefined ? `  ${report.error}` : ""}`;
  if (!io.isTTY) {
    return {
      window: (report) => io.stdout(describe(report, 0)),
      log: (line) => io.stderr(line),
      end: () => {},
    };
  }
  const lines = new Map<string, string>();
  const windowsDone = new Map<string, number>();
  const heldBack: string[] = [];
  return {
    window(report) {
      const done = (windowsDone.get(report.connectorId) ?? 0) + 1;
      windowsDone.set(report.connectorId, done);
      const drawn = lines.size;
      lines.set(report.connectorId, describe(report, done));
      // Move up over the block already drawn, then redraw every line of it (clearing each first).
      const block = [...lines.values()].map((line) => `\u001b[2K${line}`).join("\n");
      io.stdout(drawn === 0 ? block : `\u001b[${drawn}A\r${block}`);
    },
    log: (line) => heldBack.push(line),
    end() {
      for (const line of heldBack.splice(0)) io.stderr(line);
    },
  };
}

/** The connector a command names, or undefined after a message listing the ones that loaded. */
export function findConnector(io: CliIo, runtime: Runtime, id: string): Connector | undefined {
  const connector = runtime.connectors.find((candidate) => candidate.id === id);
  if (connector === undefined) {
    const known = runtime.connectors.map((candidate) => candidate.id).join(", ") || "none";
    io.stderr(`No connector "${id}" among the loaded definitions (loaded: ${known}).`);
  }
  return connector;
}

/** Where relative paths in settings resolve: the folder the command runs in, like the Functions app root. */
export const commandRootDir = (): string => path.resolve(".");

/** Error text shortened for a table column: one line, at most this many characters. */
export const errorColumnChars = 100;

export function statusTable(lines: readonly StatusLine[]): string[] {
  return formatTable(
    [
      "CONNECTOR",
      "STATUS",
      "LAG",
      "EVENTS/H, 24 H",
      "LAST SUCCESS",
      "FAILURES",
      "WINDOW IN FLIGHT",
      "LAST ERROR",
    ],
    lines.map((line) => [
      line.connectorId,
      line.activity.silentDrop === null ? line.status : `${line.status} (silent drop)`,
      line.lagMinutes === null ? "-" : `${line.lagMinutes} min`,
      sparkline(line.activity.accepted.slice(-sparklineHours)),
      line.lastSuccessAt ?? "never",
      String(line.consecutiveFailures),
      line.windowInFlight === null ? "-" : `${line.windowInFlight} (attempt ${line.windowAttempts})`,
      // A long Retry-After is why nothing moves: say so before the error that reported it.
      shorten(
        line.notBefore === null ? line.lastError : `no request before ${line.notBefore}: ${line.lastError}`,
        errorColumnChars,
      ),
    ]),
  );
}

const sparklineHours = 24;
const blocks = "▁▂▃▄▅▆▇█";

/**
 * One character per hour, oldest first: a block scaled to the busiest hour shown, a space when runs accepted
 * nothing, a dot when nothing ran.
 */
export function sparkline(values: readonly (number | null)[]): string {
  const peak = Math.max(0, ...values.map((value) => value ?? 0));
  return values
    .map((value) =>
      value === null ? "·" : value === 0 ? " " : blocks[Math.ceil((value / peak) * blocks.length) - 1],
    )
    .join("");
}

export function shorten(text: string, chars: number): string {
  const oneLine = text.replace(/\s+/g, " ");
  return oneLine.length <= chars ? oneLine : `${oneLine.slice(0, chars - 1)}…`;
}
