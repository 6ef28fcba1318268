import { DefinitionError } from "./errors.ts";

/** Parses JSON text as Sentinel files come: a leading BOM is tolerated; errors carry line and column. */
export function parseDefinitionJson(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const position = /at position (\d+)/.exec(message)?.[1];
    const where = position === undefined ? "end of input" : lineColumn(body, Number(position));
    const reason = message.replace(/\s*(in JSON )?at position \d+.*$/s, "").replace(/\s*\(line.*$/s, "");
    return fail(new DefinitionError(file, `$ (${where})`, "valid JSON", reason));
  }
}

function fail(error: DefinitionError): never {
  throw error;
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}
