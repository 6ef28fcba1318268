import { DefinitionError } from "./errors.ts";

/** Parses JSON text as Sentinel files come: a leading BOM is tolerated; errors carry line and column. */
export function parseDefinitionJson(text: string, file: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return JSON.parse(body);
  } catch {
    // JSON.parse does not always say where (trailing commas): find the first error ourselves.
    const problem = locateSyntaxError(body);
    throw new DefinitionError(file, `$ (${lineColumn(body, problem.offset)})`, problem.expected, problem.got);
  }
}

function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split("\n").length;
  const column = offset - before.lastIndexOf("\n");
  return `line ${line}, column ${column}`;
}

interface SyntaxProblem {
  offset: number;
  expected: string;
  got: string;
}

class SyntaxFailure extends Error {
  constructor(readonly problem: SyntaxProblem) {
    super(problem.expected);
  }
}

/** A strict JSON syntax walk that stops at the first error; used only after JSON.parse has failed. */
function locateSyntaxError(text: string): SyntaxProblem {
  let i = 0;
  const fail = (expected: string): never => {
    const got = i >= text.length ? "end of input" : JSON.stringify(text[i]);
    throw new SyntaxFailure({ offset: i, expected, got });
  };
  const skipSpace = () => {
    while (i < text.length && /[ \t\r\n]/.test(text[i] as string)) i++;
  };
  const string = () => {
    if (text[i] !== '"') fail("a double-quoted string");
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === "\\") i++;
      else if ((text[i] as string) < " ") fail("no control characters inside a string");
      i++;
    }
    if (i >= text.length) fail('a closing "');
    i++;
  };
  const value = (): void => {
    skipSpace();
    const ch = text[i];
    if (ch === "{") {
      i++;
      skipSpace();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        string();
        skipSpace();
        if (text[i] !== ":") fail("':' after a property name");
        i++;
        value();
        skipSpace();
        if (text[i] === ",") {
          i++;
          skipSpace();
          if (text[i] === "}") fail("a property name after ',' (no trailing commas in JSON)");
        } else if (text[i] === "}") {
          i++;
          return;
        } else fail("',' or '}' after a property value");
      }
    }
    if (ch === "[") {
      i++;
      skipSpace();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (text[i] === ",") {
          i++;
          skipSpace();
          if (text[i] === "]") fail("a value after ',' (no trailing commas in JSON)");
        } else if (text[i] === "]") {
          i++;
          return;
        } else fail("',' or ']' after an array element");
      }
    }
    if (ch === '"') {
      string();
      return;
    }
    const literal = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
    if (literal === null) fail("a JSON value");
    i += (literal as RegExpExecArray)[0].length;
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail("the end of the document");
  } catch (error) {
    if (error instanceof SyntaxFailure) return error.problem;
    throw error;
  }
  return { offset: 0, expected: "valid JSON", got: "text JSON.parse rejects" };
}
