/**
 * A typed facade over Microsoft's KQL parser and semantic analyzer (Kusto.Language, npm
 * `@kusto/language-service-next`, MIT), the parts the KQL checks use: build table symbols, analyze a query
 * against them, and list the query operators and function calls of its syntax tree. The package is a Bridge.NET
 * translation of the C# library: it loads as two scripts that define the globals `Bridge` and `Kusto`.
 */
import { createRequire } from "node:module";
import type { Column } from "../infra/infra-checks.ts";

/** A table with its columns as infra/ declares them: DCR stream types or Log Analytics table types. */
export interface KqlTable {
  name: string;
  columns: readonly Column[];
}

/** An error the analyzer reports, at 1-based line and column of the query text. */
export interface KqlError {
  code: string;
  message: string;
  line: number;
  column: number;
}

/** A query operator (`where`, `project-away`, `join`) or a called function's name, where it starts. */
export interface KqlUse {
  name: string;
  line: number;
  column: number;
}

export interface Analysis {
  errors: KqlError[];
  operators: KqlUse[];
  functions: KqlUse[];
}

interface List<T> {
  Count: number;
  getItem(index: number): T;
}
interface Diagnostic {
  Severity: string;
  Code: string;
  Message: string;
  Start: number;
}
interface SyntaxNode {
  TextStart: number;
  GetFirstToken(): { Text: string };
}
interface FunctionCall extends SyntaxNode {
  Name: { SimpleName: string };
}
/** Any Kusto.Language symbol (column, table, database, scalar type); opaque here. */
interface KustoSymbol {
  readonly kustoSymbol: never;
}
interface GlobalState {
  WithDatabase(database: KustoSymbol): GlobalState;
}
interface KustoLanguage {
  GlobalState: { Default: GlobalState };
  KustoCode: {
    ParseAndAnalyze(
      text: string,
      globals: GlobalState,
    ): {
      Syntax: { WalkNodes(action: (node: SyntaxNode) => void): void };
      GetDiagnostics(): List<Diagnostic>;
    };
  };
  Symbols: {
    ScalarTypes: { GetSymbol(name: string): KustoSymbol | null };
    ColumnSymbol: new (name: string, type: KustoSymbol) => KustoSymbol;
    TableSymbol: { $ctor4: new (name: string, columns: KustoSymbol[]) => KustoSymbol };
    DatabaseSymbol: { ctor: new (name: string, members: KustoSymbol[]) => KustoSymbol };
  };
  Syntax: { QueryOperator: unknown; FunctionCallExpression: unknown };
}
interface BridgeRuntime {
  is(value: unknown, type: unknown): boolean;
}

const loaded = (() => {
  const require = createRequire(import.meta.url);
  const dir = require.resolve("@kusto/language-service-next").replace(/[^/\\]+$/, "");
  require(`${dir}bridge.min.js`);
  require(`${dir}Kusto.Language.Bridge.min.js`);
  const globals = globalThis as unknown as { Bridge: BridgeRuntime; Kusto: { Language: KustoLanguage } };
  return { bridge: globals.Bridge, kusto: globals.Kusto.Language };
})();

/** DCR stream and table column types are Kusto scalar types, spelt in any case (`dateTime`, `boolean`). */
function scalarType(table: string, column: Column): KustoSymbol {
  const type = loaded.kusto.Symbols.ScalarTypes.GetSymbol(column.type.toLowerCase());
  if (type === null) throw new Error(`${table}.${column.name}: ${column.type} is not a KQL scalar type`);
  return type;
}

/** The analyzer's view of a database holding `tables`, to analyze any number of queries against. */
export type Database = GlobalState;

export function database(tables: readonly KqlTable[]): Database {
  const { Symbols, GlobalState } = loaded.kusto;
  const symbols = tables.map(
    (table) =>
      new Symbols.TableSymbol.$ctor4(
        table.name,
        table.columns.map((c) => new Symbols.ColumnSymbol(c.name, scalarType(table.name, c))),
      ),
  );
  return GlobalState.Default.WithDatabase(new Symbols.DatabaseSymbol.ctor("workspace", symbols));
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

export function analyze(kql: string, db: Database): Analysis {
  const { bridge, kusto } = loaded;
  const code = kusto.KustoCode.ParseAndAnalyze(kql, db);
  const errors: KqlError[] = [];
  const diagnostics = code.GetDiagnostics();
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    if (d.Severity === "Error") {
      errors.push({ code: d.Code, message: d.Message, ...lineAndColumn(kql, d.Start) });
    }
  }
  const operators: KqlUse[] = [];
  const functions: KqlUse[] = [];
  code.Syntax.WalkNodes((node) => {
    const at = lineAndColumn(kql, node.TextStart);
    if (bridge.is(node, kusto.Syntax.QueryOperator)) {
      operators.push({ name: node.GetFirstToken().Text, ...at });
    } else if (bridge.is(node, kusto.Syntax.FunctionCallExpression)) {
      functions.push({ name: (node as FunctionCall).Name.SimpleName, ...at });
    }
  });
  return { errors, operators, functions };
}
