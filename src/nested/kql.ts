/**
 * The KQL subset of `stepPlaceholdersParsingKql` (reference §7, §9 A23): a query over the table `source`,
 * whose one column `data` holds a parent record as JSON text. Every column the query outputs becomes a
 * `$column$` placeholder of one child call, one call per output row.
 *
 * Supported: `source` (optional before the first `|`), `project` and `extend` (with `name = expr` or a bare
 * column or member access, named after its last member), `mv-expand`/`mvexpand` (`col` or `name = expr`),
 * `where`; expressions with `.name`, `['name']`, `[index]`, string/number/bool literals, `==`, `!=`, `=~`,
 * `!~`, `<`, `<=`, `>`, `>=`, `and`, `or`, parentheses, and the functions `parse_json`, `todynamic`,
 * `tostring`, `toint`, `tolong`, `todouble`, `toreal`, `isempty`, `isnotempty`, `isnull`, `isnotnull`, `not`,
 * `strcat`. Anything else is a `KqlError` naming the operator or function, raised by `compileKql` so a
 * definition is refused when it loads rather than when the window runs. Column names are checked then too.
 *
 * Deviation, on purpose: `mv-expand` of a value that is not an array keeps the row as it is. Kusto splits a
 * property bag into key/value rows, but Meraki's definition applies `mvexpand` to each network object, and
 * only this reading gives one child call per network.
 */

export class KqlError extends Error {}

export type Row = Record<string, unknown>;

export interface CompiledKql {
  /** The output columns, in order: the placeholder names. */
  readonly columns: readonly string[];
  /** Runs the query over `source` holding one row whose `data` is `record` as JSON text. */
  run(record: unknown): Row[];
}

export const supportedOperators = ["project", "extend", "mv-expand", "mvexpand", "where"] as const;

type Expr =
  | { kind: "literal"; value: unknown }
  | { kind: "column"; name: string }
  | { kind: "member"; target: Expr; key: Expr }
  | { kind: "call"; name: string; args: Expr[] }
  | { kind: "binary"; op: string; left: Expr; right: Expr };

type Step =
  | { op: "project"; columns: { name: string; expr: Expr }[] }
  | { op: "extend"; columns: { name: string; expr: Expr }[] }
  | { op: "mv-expand"; name: string; expr: Expr }
  | { op: "where"; expr: Expr };

interface Token {
  type: "ident" | "string" | "number" | "punct";
  text: string;
  at: number;
}

const functions: Record<string, { arity: [number, number]; apply: (...args: unknown[]) => unknown }> = {
  parse_json: { arity: [1, 1], apply: parseJson },
  todynamic: { arity: [1, 1], apply: parseJson },
  tostring: { arity: [1, 1], apply: toKqlString },
  toint: { arity: [1, 1], apply: (v) => toNumber(v, true) },
  tolong: { arity: [1, 1], apply: (v) => toNumber(v, true) },
  todouble: { arity: [1, 1], apply: (v) => toNumber(v, false) },
  toreal: { arity: [1, 1], apply: (v) => toNumber(v, false) },
  isempty: { arity: [1, 1], apply: (v) => isNull(v) || v === "" },
  isnotempty: { arity: [1, 1], apply: (v) => !(isNull(v) || v === "") },
  isnull: { arity: [1, 1], apply: isNull },
  isnotnull: { arity: [1, 1], apply: (v) => !isNull(v) },
  not: { arity: [1, 1], apply: (v) => !truthy(v) },
  strcat: { arity: [1, 64], apply: (...args) => args.map(toKqlString).join("") },
};

export function compileKql(text: string): CompiledKql {
  const tokens = tokenize(text);
  const parser = new Parser(tokens, text);
  const steps = parser.query();
  const columns = checkColumns(steps);
  return { columns, run: (record) => run(steps, columns, record) };
}

/** A placeholder value as text: strings as they are, null as empty, anything else as JSON. */
export function toKqlString(value: unknown): string {
  if (isNull(value)) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

// ---------------------------------------------------------------- tokens and parsing

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const pattern =
    /\s+|(?<ident>mv-expand\b|[A-Za-z_][\w]*)|(?<number>\d+(?:\.\d+)?)|(?<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?<punct>==|!=|=~|!~|<=|>=|[|,=()[\].<>])/y;
  for (let at = 0; at < text.length; ) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (!match) throw new KqlError(`unexpected ${JSON.stringify(text.slice(at, at + 10))} at ${at + 1}`);
    const groups = match.groups ?? {};
    for (const type of ["ident", "number", "string", "punct"] as const) {
      const value = groups[type];
      if (value !== undefined) tokens.push({ type, text: value, at });
    }
    at = pattern.lastIndex;
  }
  return tokens;
}

class Parser {
  private at = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly text: string,
  ) {}

  query(): Step[] {
    const steps: Step[] = [];
    if (this.peek()?.type === "ident" && this.peek()?.text === "source") this.at++;
    else if (this.peek()?.text !== "|") {
      throw new KqlError(`a query must start with source or |, found ${this.describe(this.peek())}`);
    }
    while (this.peek()) {
      this.expect("|");
      const operator = this.next();
      if (operator?.type !== "ident")
        throw new KqlError(`expected an operator after |, found ${this.describe(operator)}`);
      const name = operator.text.toLowerCase();
      if (name === "project") steps.push({ op: "project", columns: this.assignments() });
      else if (name === "extend") steps.push({ op: "extend", columns: this.assignments() });
      else if (name === "mv-expand" || name === "mvexpand")
        steps.push({ op: "mv-expand", ...this.assignment() });
      else if (name === "where") steps.push({ op: "where", expr: this.expression() });
      else {
        throw new KqlError(
          `KQL operator ${operator.text} is not supported (supported: ${supportedOperators.join(", ")})`,
        );
      }
      if (this.peek() && this.peek()?.text !== "|") {
        throw new KqlError(`unexpected ${this.describe(this.peek())} after ${operator.text}`);
      }
    }
    return steps;
  }

  private assignments(): { name: string; expr: Expr }[] {
    const list = [this.assignment()];
    while (this.peek()?.text === ",") {
      this.at++;
      list.push(this.assignment());
    }
    return list;
  }

  private assignment(): { name: string; expr: Expr } {
    const first = this.peek();
    if (first?.type === "ident" && this.tokens[this.at + 1]?.text === "=") {
      this.at += 2;
      return { name: first.text, expr: this.expression() };
    }
    const expr = this.expression();
    const name = impliedName(expr);
    if (name === undefined)
      throw new KqlError(`a computed column needs a name (name = …) at ${this.position(first)}`);
    return { name, expr };
  }

  private expression(): Expr {
    return this.binary(0);
  }

  private binary(level: number): Expr {
    const levels = [["or"], ["and"], ["==", "!=", "=~", "!~", "<", "<=", ">", ">="]];
    const ops = levels[level];
    if (ops === undefined) return this.postfix();
    let left = this.binary(level + 1);
    for (let token = this.peek(); token && ops.includes(token.text); token = this.peek()) {
      this.at++;
      left = { kind: "binary", op: token.text, left, right: this.binary(level + 1) };
      if (level === 2) break; // comparisons do not chain
    }
    return left;
  }

  private postfix(): Expr {
    let expr = this.primary();
    for (;;) {
      const token = this.peek();
      if (token?.text === ".") {
        this.at++;
        const key = this.next();
        if (key?.type !== "ident") throw new KqlError(`expected a name after . at ${this.position(token)}`);
        expr = { kind: "member", target: expr, key: { kind: "literal", value: key.text } };
      } else if (token?.text === "[") {
        this.at++;
        const key = this.expression();
        this.expect("]");
        expr = { kind: "member", target: expr, key };
      } else return expr;
    }
  }

  private primary(): Expr {
    const token = this.next();
    if (!token) throw new KqlError("the query ends in the middle of an expression");
    if (token.type === "string") return { kind: "literal", value: unquote(token.text) };
    if (token.type === "number") return { kind: "literal", value: Number(token.text) };
    if (token.text === "(") {
      const inner = this.expression();
      this.expect(")");
      return inner;
    }
    if (token.type !== "ident") throw new KqlError(`unexpected ${this.describe(token)}`);
    if (token.text === "true" || token.text === "false")
      return { kind: "literal", value: token.text === "true" };
    if (this.peek()?.text !== "(") return { kind: "column", name: token.text };
    this.at++;
    const name = token.text.toLowerCase();
    const fn = functions[name];
    if (!fn) {
      throw new KqlError(
        `KQL function ${token.text}() is not supported (supported: ${Object.keys(functions).join(", ")})`,
      );
    }
    const args: Expr[] = [];
    if (this.peek()?.text !== ")") {
      args.push(this.expression());
      while (this.peek()?.text === ",") {
        this.at++;
        args.push(this.expression());
      }
    }
    this.expect(")");
    const [min, max] = fn.arity;
    if (args.length < min || args.length > max) {
      throw new KqlError(
        `${token.text}() takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${args.length}`,
      );
    }
    return { kind: "call", name, args };
  }

  private peek(): Token | undefined {
    return this.tokens[this.at];
  }

  private next(): Token | undefined {
    return this.tokens[this.at++];
  }

  private expect(text: string): void {
    const token = this.next();
    if (token?.text !== text) throw new KqlError(`expected ${text}, found ${this.describe(token)}`);
  }

  private describe(token: Token | undefined): string {
    return token ? `${JSON.stringify(token.text)} at ${token.at + 1}` : "the end of the query";
  }

  private position(token: Token | undefined): string {
    return token ? String(token.at + 1) : String(this.text.length + 1);
  }
}

function impliedName(expr: Expr): string | undefined {
  if (expr.kind === "column") return expr.name;
  if (expr.kind === "member" && expr.key.kind === "literal" && typeof expr.key.value === "string") {
    return expr.key.value;
  }
  return undefined;
}

function unquote(text: string): string {
  return text.slice(1, -1).replace(/\\(.)/g, (_, ch: string) => ({ n: "\n", t: "\t", r: "\r" })[ch] ?? ch);
}

// ---------------------------------------------------------------- checking and running

function checkColumns(steps: Step[]): string[] {
  let columns = ["data"];
  const check = (expr: Expr): void => {
    if (expr.kind === "column" && !columns.includes(expr.name)) {
      throw new KqlError(`unknown column ${expr.name} (columns here: ${columns.join(", ")})`);
    }
    if (expr.kind === "member") [expr.target, expr.key].forEach(check);
    if (expr.kind === "call") expr.args.forEach(check);
    if (expr.kind === "binary") [expr.left, expr.right].forEach(check);
  };
  for (const step of steps) {
    if (step.op === "project" || step.op === "extend") {
      for (const { expr } of step.columns) check(expr);
      const names = step.columns.map((c) => c.name);
      columns = step.op === "project" ? names : [...columns.filter((c) => !names.includes(c)), ...names];
    } else {
      check(step.expr);
      if (step.op === "mv-expand" && !columns.includes(step.name)) columns = [...columns, step.name];
    }
  }
  return columns;
}

function run(steps: Step[], columns: readonly string[], record: unknown): Row[] {
  let rows: Row[] = [{ data: JSON.stringify(record) }];
  for (const step of steps) {
    if (step.op === "project") {
      rows = rows.map((row) => Object.fromEntries(step.columns.map((c) => [c.name, evaluate(c.expr, row)])));
    } else if (step.op === "extend") {
      rows = rows.map((row) => ({
        ...row,
        ...Object.fromEntries(step.columns.map((c) => [c.name, evaluate(c.expr, row)])),
      }));
    } else if (step.op === "where") {
      rows = rows.filter((row) => truthy(evaluate(step.expr, row)));
    } else {
      rows = rows.flatMap((row) => {
        const value = evaluate(step.expr, row);
        return Array.isArray(value) ? value.map((item) => ({ ...row, [step.name]: item })) : [row];
      });
    }
  }
  return rows.map((row) => Object.fromEntries(columns.map((c) => [c, row[c] ?? null])));
}

function evaluate(expr: Expr, row: Row): unknown {
  switch (expr.kind) {
    case "literal":
      return expr.value;
    case "column":
      return row[expr.name] ?? null;
    case "member": {
      const target = evaluate(expr.target, row);
      const key = evaluate(expr.key, row);
      if (Array.isArray(target) && typeof key === "number") return target.at(key) ?? null;
      if (isBag(target) && typeof key === "string") return Object.hasOwn(target, key) ? target[key] : null;
      return null;
    }
    case "call":
      return (functions[expr.name] as (typeof functions)[string]).apply(
        ...expr.args.map((a) => evaluate(a, row)),
      );
    case "binary": {
      const left = evaluate(expr.left, row);
      if (expr.op === "and") return truthy(left) && truthy(evaluate(expr.right, row));
      if (expr.op === "or") return truthy(left) || truthy(evaluate(expr.right, row));
      return compare(expr.op, left, evaluate(expr.right, row));
    }
  }
}

function compare(op: string, left: unknown, right: unknown): boolean {
  if (op === "=~" || op === "!~") {
    const equal = toKqlString(left).toLowerCase() === toKqlString(right).toLowerCase();
    return op === "=~" ? equal : !equal;
  }
  if (isNull(left) || isNull(right))
    return op === "!=" ? !(isNull(left) && isNull(right)) : op === "==" && isNull(left) && isNull(right);
  const [a, b] =
    typeof left === "number" || typeof right === "number"
      ? [toNumber(left, false), toNumber(right, false)]
      : [toKqlString(left), toKqlString(right)];
  if (a === null || b === null) return op === "!=";
  switch (op) {
    case "==":
      return a === b;
    case "!=":
      return a !== b;
    case "<":
      return a < b;
    case "<=":
      return a <= b;
    case ">":
      return a > b;
    default:
      return a >= b;
  }
}

/** Kusto's parse_json: text that is not JSON stays the text; a value that is already dynamic stays as is. */
function parseJson(value: unknown): unknown {
  if (typeof value !== "string") return value ?? null;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function toNumber(value: unknown, integer: boolean): number | null {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "boolean") n = value ? 1 : 0;
  else if (typeof value === "string" && value.trim() !== "" && Number.isFinite(Number(value)))
    n = Number(value);
  else return null;
  return integer ? Math.trunc(n) : n;
}

function isNull(value: unknown): boolean {
  return value === null || value === undefined;
}

function truthy(value: unknown): boolean {
  return value === true;
}

function isBag(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
