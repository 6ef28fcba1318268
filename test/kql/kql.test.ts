/**
 * Every KQL text the project ships or generates (shipped-kql.ts) is analyzed by Microsoft's KQL analyzer
 * (Kusto.Language) against the tables infra/ declares: no errors, and DCR transforms use only what Azure Monitor
 * transformations support. Each category is also fed a broken text to prove the check can fail.
 */
import { describe, expect, it } from "vitest";
import { checkKql } from "./kql-checks.ts";
import { database } from "./kusto.ts";
import { type Category, type KqlText, shippedKql, tablesFor, workspaceTables } from "./shipped-kql.ts";

const texts = shippedKql();
const check = (text: KqlText, kql = text.kql) =>
  checkKql({
    where: text.where,
    kql,
    db: database(tablesFor(text.scope)),
    transform: text.scope.kind === "transform",
  });
const counts = new Map<Category, number>();
for (const t of texts) counts.set(t.category, (counts.get(t.category) ?? 0) + 1);
console.log(
  `KQL analyzer: ${texts.length} KQL texts (${[...counts].map(([category, n]) => `${n} ${category}`).join(", ")})`,
);

describe("every shipped and generated KQL text", () => {
  it("is found in every category", () => {
    const categories: Category[] = [
      "transform",
      "parity query",
      "health query",
      "connector UI",
      "docs",
      "compare",
    ];
    for (const category of categories) {
      expect(texts.filter((t) => t.category === category).length, category).toBeGreaterThan(0);
    }
  });

  it("run against the tables log-ingestion.bicep loads, the built-in ones they read, and the standard columns", () => {
    const tables = workspaceTables();
    expect(tables.map((t) => t.name)).toEqual([
      "JiraAudit_Func_CL",
      "JiraAudit_CCP_CL",
      "CcpPollerHealth_CL",
      "SentinelHealth",
      "AppTraces",
    ]);
    expect(tables[0]?.columns.map((c) => c.name)).toEqual(
      expect.arrayContaining(["created", "_ResourceId", "Type"]),
    );
  });

  it.each(texts.map((t) => [t.where, t] as const))("%s analyzes with no error", (_, text) => {
    expect(check(text)).toEqual([]);
  });
});

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The first text of a category whose KQL contains `needle`, for a mutation test. */
function first(category: Category, needle: string): KqlText {
  const text = texts.find((t) => t.category === category && t.kql.includes(needle));
  if (text === undefined) throw new Error(`no ${category} text contains ${needle}`);
  return text;
}

describe("the check fails on a broken text", () => {
  it.each([
    // category, a column reference in one of its texts, the column, its misspelling
    ["transform", "isnotempty(CcpEventId)", "CcpEventId", "CcpEventID"],
    ["parity query", "dcountif(SourceRecordId", "SourceRecordId", "SourceRecordID"],
    ["health query", "LagMinutes > lagThresholdMinutes", "LagMinutes", "LagMinute"],
    ["connector UI", "max(TimeGenerated)", "TimeGenerated", "TimeGenerate"],
    ["docs", "parse_json(message)", "message", "mesage"],
    ["compare", "| where TimeGenerated >=", "TimeGenerated", "TimeGenrated"],
  ] as const)(
    "%s: a misspelt column (%s) is named with the file and position",
    (category, needle, column, bad) => {
      const text = first(category, needle);
      const problems = check(text, text.kql.replace(needle, needle.replace(column, bad)));
      expect(problems).toEqual([
        expect.stringMatching(
          new RegExp(
            `^${escapeRegExp(text.where)} \\(\\d+:\\d+\\): KS\\d+ The name '${bad}' does not refer to any known column`,
          ),
        ),
      ]);
    },
  );

  it("transform: summarize, join and functions transformations lack (iff, hash_md5) are refused, naming them", () => {
    const text = first("transform", "iif(");
    const broken = text.kql
      .replace(
        "source\n",
        "source\n| summarize arg_max(created, *) by id\n| join kind=inner (source) on id\n",
      )
      .replace("iif(", "iff(")
      .replace("tostring(id)", "hash_md5(tostring(id))");
    const where = text.where;
    expect(check(text, broken)).toEqual([
      `${where} (2:3): operator summarize is not supported in a DCR transformation | | summarize arg_max(created, *) by id`,
      `${where} (3:3): operator join is not supported in a DCR transformation | | join kind=inner (source) on id`,
      `${where} (2:13): function arg_max is not supported in a DCR transformation | | summarize arg_max(created, *) by id`,
      `${where} (6:22): function hash_md5 is not supported in a DCR transformation | SourceRecordId = hash_md5(tostring(id)),`,
      expect.stringMatching(
        /^\S+ \(7:18\): function iff is not supported in a DCR transformation \| CcpEventId = iff\(/,
      ),
    ]);
  });

  it("transform: a table other than source is an analyzer error", () => {
    const text = first("transform", "source");
    expect(check(text, text.kql.replace("source", "JiraAudit_CCP_CL"))).toEqual([
      expect.stringContaining("The name 'JiraAudit_CCP_CL' does not refer to any known table"),
    ]);
  });
});
