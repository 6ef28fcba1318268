/**
 * A small evaluator for the ARM template expressions connector files carry (`[[parameters('x')]`,
 * `[concat(...)]`). Only the functions listed in `functions` exist; anything else is an error naming it.
 * No npm library evaluates ARM expressions, and a full one is not needed for connector definitions.
 */
import { createHash } from "node:crypto";

/** Stands for a value that is not bound yet (structure-only validation); it poisons every expression it enters. */
export const unbound: unique symbol = Symbol("unbound");

export interface ArmScope {
  parameter(name: string): unknown;
  variable(name: string): unknown;
}

/** `expected`/`got` halves, so the loader can report it as `<file>: <path> — expected …, got …`. */
export class ArmExpressionError extends Error {
  override readonly name = "ArmExpressionError";
  constructor(
    readonly expected: string,
    readonly got?: string,
  ) {
    super(got === undefined ? `expected ${expected}` : `expected ${expected}, got ${got}`);
  }
}

/** The expression text of an ARM expression string (`[x]` or the escaped `[[x]`), or undefined for plain strings. */
export function armExpressionBody(text: string): string | undefined {
  const match = /^\[\[?(\s*[A-Za-z_][\w.]*\s*\([\s\S]*)\]$/.exec(text.trim());
  if (match?.[1] === undefined) return undefined;
  // `[[equals(x, 'y')]]`: one closing bracket too many (seen in real files); ignore it when unbalanced.
  const body = match[1];
  return bracketBalance(body) < 0 && body.endsWith("]") ? body.slice(0, -1) : body;
}

function bracketBalance(text: string): number {
  let balance = 0;
  let inString = false;
  for (const ch of text) {
    if (ch === "'") inString = !inString;
    else if (!inString && ch === "[") balance++;
    else if (!inString && ch === "]") balance--;
  }
  return balance;
}

export function evaluateArm(body: string, scope: ArmScope): unknown {
  const parser = new Parser(tokenize(body));
  const ast = parser.expression();
  parser.expectEnd();
  return evaluate(ast, scope);
}

// ---------------------------------------------------------------- tokens and syntax

type Token =
  | { t: "str"; v: string }
  | { t: "num"; v: number }
  | { t: "id"; v: string }
  | { t: "punct"; v: "(" | ")" | "," | "[" | "]" | "." };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const ch = text[i] as string;
    if (/\s/.test(ch)) {
      i++;
    } else if (ch === "'") {
      let value = "";
      i++;
      for (;;) {
        if (i >= text.length) throw new ArmExpressionError("a closing quote in the ARM expression");
        if (text[i] === "'" && text[i + 1] === "'") {
          value += "'";
          i += 2;
        } else if (text[i] === "'") {
          i++;
          break;
        } else {
          value += text[i];
          i++;
        }
      }
      tokens.push({ t: "str", v: value });
    } else if (/[0-9-]/.test(ch)) {
      const m = /^-?\d+/.exec(text.slice(i));
      if (m === null) throw new ArmExpressionError(`a number at character ${i + 1} of the ARM expression`);
      tokens.push({ t: "num", v: Number(m[0]) });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(ch)) {
      const m = /^[A-Za-z_]\w*/.exec(text.slice(i)) as RegExpExecArray;
      tokens.push({ t: "id", v: m[0] });
      i += m[0].length;
    } else if ("(),[].".includes(ch)) {
      tokens.push({ t: "punct", v: ch as "(" });
      i++;
    } else {
      throw new ArmExpressionError(`a valid ARM expression, not ${JSON.stringify(ch)} at character ${i + 1}`);
    }
  }
  return tokens;
}

type Node =
  | { n: "lit"; v: unknown }
  | { n: "call"; name: string; args: Node[] }
  | { n: "index"; target: Node; index: Node }
  | { n: "prop"; target: Node; name: string };

class Parser {
  private position = 0;
  constructor(private readonly tokens: Token[]) {}

  expression(): Node {
    let node = this.primary();
    for (;;) {
      if (this.peekPunct("[")) {
        this.position++;
        const index = this.expression();
        this.expectPunct("]");
        node = { n: "index", target: node, index };
      } else if (this.peekPunct(".")) {
        this.position++;
        const name = this.next();
        if (name?.t !== "id") throw new ArmExpressionError("a property name after '.'");
        node = { n: "prop", target: node, name: name.v };
      } else {
        return node;
      }
    }
  }

  expectEnd(): void {
    const extra = this.tokens[this.position];
    if (extra !== undefined)
      throw new ArmExpressionError(`the end of the ARM expression, not ${JSON.stringify(extra.v)}`);
  }

  private primary(): Node {
    const token = this.next();
    if (token === undefined) throw new ArmExpressionError("more of the ARM expression (it ends early)");
    if (token.t === "str" || token.t === "num") return { n: "lit", v: token.v };
    if (token.t === "id") {
      if (!this.peekPunct("(")) {
        const literals: Record<string, unknown> = { true: true, false: false, null: null };
        if (token.v in literals) return { n: "lit", v: literals[token.v] };
        throw new ArmExpressionError(`'(' after ${token.v} in the ARM expression`);
      }
      this.position++;
      const args: Node[] = [];
      if (!this.peekPunct(")")) {
        for (;;) {
          args.push(this.expression());
          if (this.peekPunct(",")) this.position++;
          else break;
        }
      }
      this.expectPunct(")");
      return { n: "call", name: token.v, args };
    }
    throw new ArmExpressionError(`a value, not ${JSON.stringify(token.v)} in the ARM expression`);
  }

  private next(): Token | undefined {
    return this.tokens[this.position++];
  }

  private peekPunct(p: string): boolean {
    const token = this.tokens[this.position];
    return token?.t === "punct" && token.v === p;
  }

  private expectPunct(p: string): void {
    if (!this.peekPunct(p)) throw new ArmExpressionError(`'${p}' in the ARM expression`);
    this.position++;
  }
}

// ---------------------------------------------------------------- evaluation

type ArmFunction = (args: unknown[]) => unknown;

const functions: Record<string, ArmFunction> = {
  concat: (args) =>
    args.every(Array.isArray) && args.length > 0 ? args.flat() : args.map((a) => stringify(a)).join(""),
  int: ([value]) => {
    const n = typeof value === "number" ? value : Number.parseInt(String(value), 10);
    if (!Number.isInteger(n))
      throw new ArmExpressionError("an integer argument for int()", JSON.stringify(value));
    return n;
  },
  string: ([value]) => stringify(value),
  bool: ([value]) => value === true || String(value).toLowerCase() === "true",
  equals: ([a, b]) => JSON.stringify(a) === JSON.stringify(b),
  contains: ([container, item]) => {
    if (typeof container === "string") return container.toLowerCase().includes(String(item).toLowerCase());
    if (Array.isArray(container)) return container.some((c) => JSON.stringify(c) === JSON.stringify(item));
    if (typeof container === "object" && container !== null) return String(item) in container;
    return false;
  },
  or: (args) => args.some((a) => a === true),
  and: (args) => args.every((a) => a === true),
  not: ([a]) => a !== true,
  empty: ([a]) => a === "" || a === null || (Array.isArray(a) && a.length === 0),
  toLower: ([a]) => String(a).toLowerCase(),
  toUpper: ([a]) => String(a).toUpperCase(),
  base64: ([a]) => Buffer.from(String(a), "utf8").toString("base64"),
  // Deterministic 13-character id like ARM's; the hash differs from Azure's, which only names things.
  uniqueString: (args) =>
    createHash("sha256")
      .update(args.map((a) => stringify(a)).join("-"))
      .digest("hex")
      .slice(0, 13),
};

function stringify(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

function evaluate(node: Node, scope: ArmScope): unknown {
  switch (node.n) {
    case "lit":
      return node.v;
    case "index": {
      const target = evaluate(node.target, scope);
      const index = evaluate(node.index, scope);
      if (target === unbound || index === unbound) return unbound;
      return member(target, index);
    }
    case "prop": {
      const target = evaluate(node.target, scope);
      return target === unbound ? unbound : member(target, node.name);
    }
    case "call":
      return call(node.name, node.args, scope);
  }
}

function member(target: unknown, key: unknown): unknown {
  if (typeof target === "string") {
    // Environment variables hold text; the settings file and portal give arrays and objects as such.
    const structured = jsonArrayOrObject(target);
    if (structured === undefined) {
      throw new ArmExpressionError(
        `an array or object to take [${JSON.stringify(key)}] of (an environment variable holds text: write it as JSON, e.g. ["a","b"] or {"k":"v"}, or give the value in the settings file)`,
        `the text ${JSON.stringify(target.slice(0, 60))}`,
      );
    }
    return member(structured, key);
  }
  if (typeof target === "object" && target !== null && (typeof key === "number" || typeof key === "string")) {
    const value = (target as Record<string | number, unknown>)[key];
    if (value !== undefined) return value;
  }
  throw new ArmExpressionError(
    `a value at [${JSON.stringify(key)}]`,
    `nothing there in ${JSON.stringify(target).slice(0, 60)}`,
  );
}

function jsonArrayOrObject(text: string): object | undefined {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
  } catch {
    return undefined;
  }
}

function call(name: string, argNodes: Node[], scope: ArmScope): unknown {
  const lower = name.toLowerCase();
  if (lower === "if") {
    const [condition, whenTrue, whenFalse] = argNodes;
    if (condition === undefined || whenTrue === undefined || whenFalse === undefined) {
      throw new ArmExpressionError("three arguments for if()");
    }
    const test = evaluate(condition, scope);
    if (test === unbound) return unbound;
    return evaluate(test === true ? whenTrue : whenFalse, scope);
  }
  const args = argNodes.map((a) => evaluate(a, scope));
  if (args.includes(unbound)) return unbound;
  if (lower === "parameters" || lower === "variables") {
    const [key] = args;
    if (typeof key !== "string") throw new ArmExpressionError(`a string name for ${name}()`);
    return lower === "parameters" ? scope.parameter(key) : scope.variable(key);
  }
  const fn = Object.entries(functions).find(([n]) => n.toLowerCase() === lower)?.[1];
  if (fn === undefined) {
    throw new ArmExpressionError(
      `a supported ARM function (${["parameters", "variables", "if", ...Object.keys(functions)].join(", ")})`,
      `unsupported ARM function ${name}()`,
    );
  }
  return fn(args);
}
