/**
 * Checkers over one KQL text that return a list of problems (empty = fine), so each can be fed a broken text in a
 * test: the analyzer's errors, and for DCR transforms what Azure Monitor does not run in a transformation.
 */
import { type Analysis, analyze, type Database } from "./kusto.ts";

/**
 * What a DCR transformation may use, from "Supported KQL features in Azure Monitor transformations"
 * (learn.microsoft.com/azure/azure-monitor/data-collection/data-collection-transformations-kql): "Only the
 * operators listed in this article are supported in transformations." Its tabular operators; `datatable` and
 * `columnifexists` are listed there too, but are not query operators in the syntax tree.
 */
const transformOperators = new Set([
  "extend",
  "project",
  "print",
  "where",
  "parse",
  "project-away",
  "project-rename",
]);

/** Its scalar functions, `columnifexists`, and the two functions only transformations have. */
const transformFunctions = new Set(
  [
    "binary_and binary_or binary_xor binary_not binary_shift_left binary_shift_right",
    "tobool todatetime todouble toreal toguid toint tolong tostring totimespan",
    "ago datetime_add datetime_diff datetime_part dayofmonth dayofweek dayofyear endofday endofmonth endofweek",
    "endofyear getmonth getyear hourofday make_datetime make_timespan now startofday startofmonth startofweek",
    "startofyear weekofyear",
    "array_concat array_length pack_array pack parse_json parse_xml zip",
    "abs bin floor ceiling exp exp10 exp2 isfinite isinf isnan log log10 log2 pow round sign",
    "case iif max_of min_of",
    "base64_encodestring base64_decodestring countof extract extract_all indexof isempty isnotempty split strcat",
    "strcat_delim strlen substring tolower toupper hash_sha256",
    "gettype isnotnull isnull",
    "columnifexists parse_cef_dictionary geo_location",
  ].flatMap((line) => line.split(" ")),
);

/** The line of `kql` a problem is on, to show with it. */
function lineOf(kql: string, line: number): string {
  return (kql.split("\n")[line - 1] ?? "").trim();
}

export function analyzerProblems(where: string, kql: string, analysis: Analysis): string[] {
  return analysis.errors.map(
    (e) => `${where} (${e.line}:${e.column}): ${e.code} ${e.message} | ${lineOf(kql, e.line)}`,
  );
}

export function transformProblems(where: string, kql: string, analysis: Analysis): string[] {
  const refused = (what: string, allowed: Set<string>, uses: Analysis["operators"]) =>
    uses
      .filter((use) => !allowed.has(use.name.toLowerCase()))
      .map(
        (use) =>
          `${where} (${use.line}:${use.column}): ${what} ${use.name} is not supported in a DCR transformation | ${lineOf(kql, use.line)}`,
      );
  return [
    ...refused("operator", transformOperators, analysis.operators),
    ...refused("function", transformFunctions, analysis.functions),
  ];
}

/** Analyzer errors and, for a DCR transform, everything outside what transformations support. */
export function checkKql(args: { where: string; kql: string; db: Database; transform: boolean }): string[] {
  const analysis = analyze(args.kql, args.db);
  return [
    ...analyzerProblems(args.where, args.kql, analysis),
    ...(args.transform ? transformProblems(args.where, args.kql, analysis) : []),
  ];
}
