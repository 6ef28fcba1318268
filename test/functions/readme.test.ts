/**
 * The configuration reference in docs/operating.md is generated from src/config/app-settings.ts: this test fails with the table
 * to paste whenever a setting is added, renamed, or its default or description changes.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type AppSettingSpec, appSettings } from "../../src/config/app-settings.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");

function settingsTable(settings: readonly AppSettingSpec[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  return [
    "| setting | default | set by `azd up` | what it does |",
    "| --- | --- | --- | --- |",
    ...settings.map(
      (s) =>
        `| \`${s.name}\` | ${s.default === undefined ? "—" : `\`${cell(s.default)}\``} | ${s.setInAzure ? "yes" : "no"} | ${cell(s.description)} |`,
    ),
  ].join("\n");
}

describe("docs/operating.md configuration reference", () => {
  it("lists every app setting with its default, as src/config/app-settings.ts does", async () => {
    const readme = await readFile(path.join(repoRoot, "docs/operating.md"), "utf8");
    const table = settingsTable(appSettings);
    expect(
      readme.includes(table),
      `docs/operating.md should contain this table (Configuration reference):\n\n${table}\n`,
    ).toBe(true);
  });
});
