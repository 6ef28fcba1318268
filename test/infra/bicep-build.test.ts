/**
 * Compiles infra/main.bicep when a Bicep CLI is on PATH (CI machines with azd/az have one; these machines
 * cannot download it, see ../shared/reference/sdk-and-infra-facts.md section 6).
 */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";

const repoRoot = path.resolve(import.meta.dirname, "../..");
const bicep = spawnSync("bicep", ["--version"], { encoding: "utf8" });
const haveBicep = bicep.status === 0;
if (!haveBicep) console.warn("Skipping `bicep build infra/main.bicep`: no bicep binary on PATH");

describe.skipIf(!haveBicep)("bicep build", () => {
  it("compiles infra/main.bicep to an ARM template with the native connector and both DCRs", () => {
    const template = execFileSync("bicep", ["build", path.join(repoRoot, "infra/main.bicep"), "--stdout"], {
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(template).toContain("Microsoft.SecurityInsights/dataConnectors");
    expect(template).toContain("Microsoft.Insights/dataCollectionRules");
  });
});
