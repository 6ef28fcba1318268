/**
 * README.md routes each reader to a page in docs/: every relative link there and in docs/ must reach a file, and
 * a `#fragment` must name a heading of that page (GitHub's anchor rule), so a moved section never leaves a reader
 * at a dead end.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const pages = [
  "README.md",
  ...readdirSync(path.join(repoRoot, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** Markdown outside fenced code blocks. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "");
}

/** GitHub's heading anchor: lower case, punctuation dropped except `-` and `_`, spaces to `-`. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/ /g, "-");
}

function anchorsOf(file: string): Set<string> {
  const headings = prose(readFileSync(file, "utf8")).match(/^#{1,6} .+$/gm) ?? [];
  return new Set(headings.map((line) => anchor(line.replace(/^#+ /, ""))));
}

function brokenLinks(page: string): string[] {
  const file = path.join(repoRoot, page);
  const links = [...prose(readFileSync(file, "utf8")).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1] ?? "");
  return links
    .filter((link) => !/^[a-z]+:/i.test(link))
    .flatMap((link) => {
      const [target = "", fragment] = link.split("#");
      const resolved = target === "" ? file : path.resolve(path.dirname(file), target);
      if (!existsSync(resolved)) return [`${page}: ${link} (no such file)`];
      if (fragment !== undefined && resolved.endsWith(".md") && !anchorsOf(resolved).has(fragment))
        return [`${page}: ${link} (no such heading)`];
      return [];
    });
}

describe("README and docs/", () => {
  it("keep README short: the front door, not the manual", () => {
    expect(readFileSync(path.join(repoRoot, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(
      250,
    );
  });

  it.each(pages)("%s: every relative link resolves", (page) => {
    expect(brokenLinks(page)).toEqual([]);
  });

  it("reach every docs page from README", () => {
    const readme = readFileSync(path.join(repoRoot, "README.md"), "utf8");
    expect(pages.filter((page) => page !== "README.md" && !readme.includes(`](${page}`))).toEqual([]);
  });

  it("would catch a dead link (the checker is not blind)", () => {
    expect(anchor("Deploying with `azd up`: the function app")).toBe(
      "deploying-with-azd-up-the-function-app",
    );
    expect(anchorsOf(path.join(repoRoot, "README.md")).has("quick-start")).toBe(true);
  });
});
