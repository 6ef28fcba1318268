import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compileKql, KqlError } from "../../src/nested/kql.ts";

const corpus = path.resolve(import.meta.dirname, "../../../shared/ccp-corpus");

/** Every stepPlaceholdersParsingKql in the corpus, found by walking each file. */
function corpusQueries(): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        if (key === "stepPlaceholdersParsingKql" && typeof child === "string") found.add(child);
        walk(child);
      }
    }
  };
  for (const file of readdirSync(corpus).filter((f) => f.endsWith(".json"))) {
    walk(JSON.parse(readFileSync(path.join(corpus, file), "utf8").replace(/^\uFEFF/, "")));
  }
  return [...found];
}

describe.skipIf(!existsSync(corpus))("the corpus queries", () => {
  it("all compile (and there are some)", () => {
    const queries = corpusQueries();
    expect(queries.length).toBeGreaterThanOrEqual(8);
    for (const query of queries) expect(() => compileKql(query), query).not.toThrow();
  });

  it("Meraki: one row per network, whether the record is the list or one network", () => {
    const q = compileKql(
      "source | project res = parse_json(data) | mvexpand res | project networkId = tostring(res['id'])",
    );
    expect(q.columns).toEqual(["networkId"]);
    expect(q.run([{ id: "N_1" }, { id: "N_2" }])).toEqual([{ networkId: "N_1" }, { networkId: "N_2" }]);
    expect(q.run({ id: "N_3", name: "x" })).toEqual([{ networkId: "N_3" }]);
  });

  it("CrowdStrike: mv-expand of a list of ids, the column keeps the dynamic value", () => {
    const q = compileKql(
      "source | project res = parse_json(data) | project resources = res['resources'] | mvexpand resources | project Url_PlaceHolder = resources",
    );
    expect(q.run({ resources: ["a", "b"] })).toEqual([{ Url_PlaceHolder: "a" }, { Url_PlaceHolder: "b" }]);
    expect(q.run({ resources: [] })).toEqual([]);
  });

  it("CyberArk EPM: two columns with bracket access and tostring", () => {
    const q = compileKql(
      "source | project res = parse_json(data) | project SetId_placeholder = tostring(res['Id']), SetName_placeholder = tostring(res['Name'])",
    );
    expect(q.run({ Id: 7, Name: "Set A" })).toEqual([
      { SetId_placeholder: "7", SetName_placeholder: "Set A" },
    ]);
    expect(q.run({})).toEqual([{ SetId_placeholder: "", SetName_placeholder: "" }]);
  });

  it("dot access, a pipe without spaces, and the bare source", () => {
    expect(
      compileKql("source | project res = parse_json(data)| project cursorRef = tostring(res.cursorRef)").run({
        cursorRef: "c1",
      }),
    ).toEqual([{ cursorRef: "c1" }]);
    const bare = compileKql("source");
    expect(bare.columns).toEqual(["data"]);
    expect(bare.run({ a: 1 })).toEqual([{ data: '{"a":1}' }]);
  });
});

describe("the rest of the subset", () => {
  it("extend, where, toint, isnotempty, and/or, =~, mv-expand name = expr, a leading pipe", () => {
    const q = compileKql(
      "| extend res = todynamic(data) | mv-expand item = res.items | where isnotempty(item.id) and (toint(item.n) >= 2 or item.kind =~ 'ALERT') | project id = tostring(item.id), n = toint(item.n)",
    );
    expect(q.columns).toEqual(["id", "n"]);
    const rows = q.run({
      items: [{ id: "a", n: "1" }, { id: "b", n: "3" }, { n: 9 }, { id: "c", n: 0, kind: "alert" }],
    });
    expect(rows).toEqual([
      { id: "b", n: 3 },
      { id: "c", n: 0 },
    ]);
  });

  it("names a projected member after its last key; strcat, ==, != and literals", () => {
    const q = compileKql(
      'source | extend r = parse_json(data) | where r.type != "skip" and r.ok == true | project r.name, label = strcat("x-", r.name, 1)',
    );
    expect(q.run({ name: "n1", ok: true })).toEqual([{ name: "n1", label: "x-n11" }]);
    expect(q.run({ name: "n1", ok: true, type: "skip" })).toEqual([]);
  });

  it("refuses other operators and functions by name, and unknown columns, when compiled", () => {
    const refused = (query: string) => {
      try {
        compileKql(query);
      } catch (error) {
        expect(error).toBeInstanceOf(KqlError);
        return (error as Error).message;
      }
      throw new Error(`compiled: ${query}`);
    };
    expect(refused("source | summarize count() by data")).toMatch(/KQL operator summarize is not supported/);
    expect(refused("source | take 1")).toMatch(/operator take/);
    expect(refused("source | project x = split(data, ',')")).toMatch(
      /KQL function split\(\) is not supported/,
    );
    expect(refused("source | project x = res.id")).toMatch(/unknown column res/);
    expect(refused("T | project data")).toMatch(/must start with source/);
    expect(refused("source | project parse_json(data)")).toMatch(/needs a name/);
    expect(refused("source | project x = tostring(data, 1)")).toMatch(/takes 1 argument/);
  });
});
