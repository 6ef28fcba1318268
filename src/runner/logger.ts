/**
 * Structured logging: one JSON object per line, so a terminal, a log file and Application Insights (where the
 * line is the trace message; `parse_json(Message)` reads it) all get the same fields. Every line is scrubbed of
 * every bound secret the run knows, whatever the caller put in it.
 */
import { redact } from "../engine/redact.ts";
import type { Logger } from "../engine/types.ts";

export type LogLevel = "info" | "warn" | "error";

export function createJsonLogger(
  write: (level: LogLevel, line: string) => void,
  options: { secrets?: () => readonly string[]; now?: () => Date } = {},
): Logger {
  const emit = (level: LogLevel, message: string, fields: Record<string, unknown> = {}) => {
    const line = JSON.stringify({
      time: (options.now?.() ?? new Date()).toISOString(),
      level,
      message,
      ...fields,
    });
    write(level, redact(line, options.secrets?.() ?? []));
  };
  return {
    info: (message, fields) => emit("info", message, fields),
    warn: (message, fields) => emit("warn", message, fields),
    error: (message, fields) => emit("error", message, fields),
  };
}
