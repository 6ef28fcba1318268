/**
 * `npm run stage`: builds `.deploy/`, the folder `azd deploy` zips (azure.yaml `dist: .deploy`, run by its
 * `prepackage` hook after azd's `npm run build`). It holds the project minus `.funcignore` (gitignore rules,
 * relative to the project root) and production dependencies only, installed from the lockfile with
 * `npm ci --omit=dev`: azd's own restore runs `npm install` with every devDependency and never prunes, and
 * shipping that folder as it is would send Biome, vitest and TypeScript to the function app.
 * `.funcignore` is copied along, so azd applies the same rules to the staged folder.
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { azdFunctionPackageFiles, includedFiles } from "./ignore-walk.ts";

export const STAGE_DIR = ".deploy";
const IGNORE_FILE = ".funcignore";

export interface StagedPackage {
  dir: string;
  /** What azd will zip from `dir`: file count and bytes before compression. */
  files: number;
  bytes: number;
}

/** Stages `projectRoot`'s deployment package into `outDir` (emptied first). */
export async function stageDeployment(projectRoot: string, outDir: string): Promise<StagedPackage> {
  const main = JSON.parse(await readFile(path.join(projectRoot, "package.json"), "utf8")).main as string;
  const entryDir = path.join(projectRoot, main.slice(0, main.indexOf("*")));
  if (!existsSync(entryDir))
    throw new Error(`${entryDir} does not exist: run \`npm run build\` before \`npm run stage\``);
  rmSync(outDir, { recursive: true, force: true });
  const rules = await readFile(path.join(projectRoot, IGNORE_FILE), "utf8");
  const stageRelative = path.relative(projectRoot, outDir).split(path.sep).join("/");
  const sources = includedFiles(projectRoot, {
    rules,
    // Dependencies are installed afresh below; the staging folder must not stage itself.
    exclude: (relativePath) =>
      relativePath === "node_modules" || relativePath === ".git" || relativePath === stageRelative,
  });
  for (const file of [...sources, IGNORE_FILE]) {
    mkdirSync(path.dirname(path.join(outDir, file)), { recursive: true });
    copyFileSync(path.join(projectRoot, file), path.join(outDir, file));
  }
  // No lifecycle scripts: no production dependency needs one, and the `node` devDependency is not installed.
  execFileSync(
    "npm",
    ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--prefer-offline"],
    {
      cwd: outDir,
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  const shipped = azdFunctionPackageFiles(outDir);
  const bytes = shipped.reduce((sum, file) => sum + statSync(path.join(outDir, file)).size, 0);
  return { dir: outDir, files: shipped.length, bytes };
}

if (import.meta.main) {
  const projectRoot = path.resolve(import.meta.dirname, "..");
  const staged = await stageDeployment(projectRoot, path.join(projectRoot, STAGE_DIR));
  console.log(
    `staged ${path.relative(projectRoot, staged.dir)}: azd will deploy ${staged.files} files, ${(staged.bytes / 1e6).toFixed(1)} MB`,
  );
}
