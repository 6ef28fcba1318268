/**
 * local.settings.sample.json is what `func start` users copy: it must name every app setting the app reads, and
 * every value the connectors it enables need, so the copy runs without guessing (with fake secrets only).
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { appSettings } from "../../src/config/app-settings.ts";
import { loadConnectors } from "../../src/definition/index.ts";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const sample = JSON.parse(await readFile(path.join(repoRoot, "local.settings.sample.json"), "utf8")) as {
  IsEncrypted: boolean;
  Values: Record<string, unknown>;
};
const values = sample.Values;
const text = (name: string) => String(values[name] ?? "");

describe("local.settings.sample.json", () => {
  it("runs on Azurite with the Node worker, unencrypted, with string values only (the host reads nothing else)", () => {
    expect(sample.IsEncrypted).toBe(false);
    expect(values.FUNCTIONS_WORKER_RUNTIME).toBe("node");
    expect(values.AzureWebJobsStorage).toBe("UseDevelopmentStorage=true");
    const notStrings = Object.entries(values).filter(([, value]) => typeof value !== "string");
    expect(notStrings).toEqual([]);
  });

  it("names every app setting in src/config/app-settings.ts, and nothing the app does not read", () => {
    const missing = appSettings.map((s) => s.name).filter((name) => !(name in values));
    expect(missing, "add these to local.settings.sample.json").toEqual([]);
    const known = new Set<string>([...appSettings.map((s) => s.name), "FUNCTIONS_WORKER_RUNTIME"]);
    const unknown = Object.keys(values).filter((name) => !known.has(name) && !name.startsWith("CCP_"));
    expect(unknown, "not app settings (typos?)").toEqual([]);
  });

  it("holds every value the connectors under CONNECTORS_DIR need, so each of them loads", async () => {
    const folder = path.resolve(repoRoot, text("CONNECTORS_DIR"));
    const env = Object.fromEntries(Object.entries(values).map(([name, value]) => [name, String(value)]));
    const result = await loadConnectors([folder], { env });

    expect(result.errors.map((e) => e.message)).toEqual([]);
    expect(result.refused).toEqual([]);
    expect(result.connectors.length).toBeGreaterThan(0);
    // Secrets in a sample must look fake wherever they end up.
    for (const secret of result.connectors.flatMap((c) => c.secrets)) expect(secret).toMatch(/^test-/);
  });

  it("carries the enabled connectors' sample values unchanged", async () => {
    const folder = path.resolve(repoRoot, text("CONNECTORS_DIR"));
    const connectorSample = JSON.parse(
      await readFile(path.join(folder, "settings.sample.json"), "utf8"),
    ) as Record<string, string>;
    expect(Object.keys(connectorSample).length).toBeGreaterThan(0);
    for (const [name, value] of Object.entries(connectorSample))
      expect([name, values[name]]).toEqual([name, value]);
  });
});
