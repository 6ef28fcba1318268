/**
 * No import circle in src/: each module can be read, tested and replaced from the bottom up (definition → engine,
 * auth, paging → state, sink → runner → functions, CLI). Type-only imports count too: a circle of types is still
 * two modules that cannot be understood apart. Written out here because the graph tools on npm (madge, dpdm) need
 * the TypeScript 5 compiler API, which TypeScript 7 no longer ships; every relative import in src/ names its
 * `.ts` file (tsconfig `allowImportingTsExtensions`), so the graph is plain to read.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const srcDir = path.resolve(import.meta.dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith(".ts") ? [full] : [];
  });
}

function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const specifier =
    /(?:^|\n)\s*(?:import|export)\b[^;]*?\bfrom\s*"(\.{1,2}\/[^"]+)"|\bimport\(\s*"(\.{1,2}\/[^"]+)"\s*\)/g;
  for (const file of sourceFiles(srcDir)) {
    const text = readFileSync(file, "utf8");
    const targets = [...text.matchAll(specifier)].map((m) =>
      path.resolve(path.dirname(file), m[1] ?? m[2] ?? ""),
    );
    graph.set(file, targets);
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan), each as relative paths. */
function cycles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter);
    counter += 1;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) ?? 0, low.get(next) ?? 0));
      } else if (onStack.has(next)) {
        low.set(node, Math.min(low.get(node) ?? 0, index.get(next) ?? 0));
      }
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string | undefined;
      do {
        member = stack.pop();
        if (member === undefined) break;
        onStack.delete(member);
        component.push(path.relative(srcDir, member));
      } while (member !== node);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe("src/ imports", () => {
  it("resolve to files that exist (so the graph misses no edge)", () => {
    const missing = [...importGraph()].flatMap(([file, targets]) =>
      targets
        .filter((target) => !existsSync(target))
        .map((target) => `${path.relative(srcDir, file)} → ${target}`),
    );
    expect(missing).toEqual([]);
  });

  it("form no circle", () => {
    expect(cycles(importGraph())).toEqual([]);
  });

  it("would report a circle (the checker is not blind)", () => {
    const a = path.join(srcDir, "a.ts");
    const b = path.join(srcDir, "b.ts");
    expect(
      cycles(
        new Map([
          [a, [b]],
          [b, [a]],
        ]),
      ),
    ).toEqual([["a.ts", "b.ts"]]);
  });
});
